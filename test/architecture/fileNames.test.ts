/**
 * One file-naming convention (CONTRIBUTING.md): camelCase module files; PascalCase only for a file
 * that holds the class, or implements the TF.js kernel, it is named after (`DOConv2D.ts`,
 * `Conv2DBackpropFilter.ts`). Python tools are exempt.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const FOLDERS = ['src', 'test', 'bench', 'web', 'examples'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'fixtures-data']);
const SCRIPT = /\.(ts|mts|js|mjs)$/;

function scripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : scripts(join(dir, e.name));
    return SCRIPT.test(e.name) ? [join(dir, e.name)] : [];
  });
}

/** The name a file is judged by: `kernels.test.ts` → `kernels`, `vite.config.ts` → `vite`. */
function stem(file: string): string {
  return basename(file).replace(/(\.e2e)?(\.test|\.config|\.d)?\.(ts|mts|js|mjs)$/, '');
}

/** Why the file's name breaks the convention, or null when it keeps it. */
export function nameProblem(file: string, source: string): string | null {
  const name = stem(file);
  if (/^[a-z][a-zA-Z0-9]*$/.test(name)) return null;
  if (/^[A-Z][a-zA-Z0-9]*$/.test(name)) {
    const holds =
      new RegExp(`\\bclass ${name}\\b`).test(source) ||
      new RegExp(`(kernelName:\\s*|Kernel\\()(tf\\.)?['"]?${name}\\b`).test(source);
    return holds ? null : `PascalCase, but holds no class or TF.js kernel named ${name}`;
  }
  return 'neither camelCase nor PascalCase';
}

describe('file names', () => {
  it('judges names as the convention says', () => {
    expect(nameProblem('src/a/useBestBackend.ts', '')).toBeNull();
    expect(nameProblem('test/a/replaced_kernels.test.ts', '')).toMatch(/neither/);
    expect(nameProblem('src/layers/DOConv2D.ts', 'export class DOConv2D extends X {}')).toBeNull();
    expect(nameProblem('src/engine/kernels/Tile.ts', 'kernelName: tf.Tile,')).toBeNull();
    expect(
      nameProblem('src/engine/kernels/Add.ts', 'channelBroadcastKernel(tf.Add, f)'),
    ).toBeNull();
    expect(nameProblem('src/engine/Helpers.ts', 'export function helpers() {}')).toMatch(
      /no class/,
    );
  });

  it(`every script in ${FOLDERS.join(', ')} keeps the convention`, () => {
    const problems = FOLDERS.flatMap((folder) =>
      scripts(join(ROOT, folder)).flatMap((file) => {
        const problem = nameProblem(file, readFileSync(file, 'utf8'));
        return problem ? [`${relative(ROOT, file)}: ${problem}`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });
});
