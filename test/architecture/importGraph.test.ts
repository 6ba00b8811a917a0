/**
 * The house's floors (CONTRIBUTING.md): every import in src/ runs down or sideways within its own
 * folder, never up. A new import that reaches up fails here, naming the file and the import.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

/** What each top-level folder of src/ may import besides itself (npm packages are always allowed). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  // Below everything: tiny helpers (value formatting for error messages) that import nothing.
  util: [],
  // Ground floor: imported from above, importing nothing of doconv's but each other's byte helpers.
  algebra: ['util'],
  engine: ['util'],
  io: ['util'],
  data: ['io', 'util'],
  layers: ['algebra', 'util'],
  fold: ['layers', 'algebra', 'util'],
  interop: ['fold', 'layers', 'algebra', 'io', 'util'],
  models: ['layers', 'algebra', 'data', 'util'],
  train: ['models', 'interop', 'fold', 'layers', 'algebra', 'engine', 'data', 'io', 'util'],
  cli: ['train', 'models', 'interop', 'fold', 'layers', 'algebra', 'engine', 'data', 'io', 'util'],
};
/** The entry points (src/index.ts, src/node.ts …) sit on top and may import anything. */
const ENTRY = '.';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? tsFiles(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Relative specifiers of static imports, re-exports, dynamic imports and worker entries. */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s+['"](\.{1,2}\/[^'"]+)['"]/g,
    /startWorkerModule\(\s*import\.meta\.url\s*,\s*['"](\.{1,2}\/[^'"]+)['"]/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0] : ENTRY;
}

/** The imports of one src/ file that run up a floor, as messages. */
function violationsOf(file: string, source: string): string[] {
  const from = folderOf(file);
  if (from === ENTRY) return [];
  return relativeImports(source).flatMap((spec) => {
    const to = folderOf(resolve(dirname(file), spec));
    if (to === from || (to !== ENTRY && MAY_IMPORT[from].includes(to))) return [];
    return [`${relative(SRC, file)} imports ${spec} (${from} → ${to})`];
  });
}

describe('import graph', () => {
  it('finds the imports it checks (the parser itself)', () => {
    const src = `import * as tf from '@tensorflow/tfjs';\nimport { a } from '../layers/a.js';\nexport * from './b.js';\nimport './c.js';\nawait import('../engine/d.js');\nstartWorkerModule(import.meta.url, './worker', n);`;
    expect(relativeImports(src).sort()).toEqual(
      ['../layers/a.js', './b.js', './c.js', '../engine/d.js', './worker'].sort(),
    );
  });

  it('every folder of src/ is listed in the floor table', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it('flags an import that runs up (engine → train, layers → the root) and allows one down', () => {
    const engineFile = join(SRC, 'engine/kernels/X.ts');
    expect(violationsOf(engineFile, `import { a } from '../../train/losses.js';`)).toEqual([
      'engine/kernels/X.ts imports ../../train/losses.js (engine → train)',
    ]);
    expect(violationsOf(join(SRC, 'layers/Y.ts'), `await import('../index.js');`)).toHaveLength(1);
    expect(violationsOf(join(SRC, 'train/Z.ts'), `import '../engine/register.js';`)).toEqual([]);
  });

  it('no import in src/ runs up a floor', () => {
    const violations = tsFiles(SRC).flatMap((file) =>
      violationsOf(file, readFileSync(file, 'utf8')),
    );
    expect(violations).toEqual([]);
  });
});
