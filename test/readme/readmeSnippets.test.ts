/**
 * README.md's and docs/*.md's runnable blocks (```ts node / ```ts browser): the Node ones run with
 * tsx against the source, in order, in one temporary folder, and must exit 0 with nothing on stderr;
 * all of them type-check. test/pack runs the same blocks unchanged against the packed tarball.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoSnippets, snippetsOf } from './snippets.js';

const root = resolve(import.meta.dirname, '../..');
// Under the repository so '@tensorflow/tfjs' resolves from its node_modules.
const dir = join(root, '.tmp', `readme-${process.pid}`);
const snippets = repoSnippets(root);
const TFJS_BANNER =
  /^\n=+\nHi, looks like you are running TensorFlow\.js in Node\.js\.[^\n]*\n=+\n\n?/;

/** 'doconv' and 'doconv/node' → the source entries. */
function againstSource(code: string): string {
  return code
    .replace(/from 'doconv'/g, `from '${join(root, 'src/index.ts')}'`)
    .replace(/from 'doconv\/node'/g, `from '${join(root, 'src/node.ts')}'`);
}

mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('snippetsOf', () => {
  it('finds tagged blocks with their line, and skips untagged ones', () => {
    const md = 'x\n```ts node\nconst a = 1;\n```\n```ts\nno\n```\n```ts browser\nb;\n```\n';
    expect(snippetsOf(md, 'R.md')).toEqual([
      { where: 'R.md:2', kind: 'node', code: 'const a = 1;\n' },
      { where: 'R.md:8', kind: 'browser', code: 'b;\n' },
    ]);
  });
});

describe('README snippets', () => {
  it('has Node and browser snippets', () => {
    expect(snippets.filter((s) => s.kind === 'node').length).toBeGreaterThanOrEqual(2);
    expect(snippets.filter((s) => s.kind === 'browser').length).toBeGreaterThanOrEqual(1);
  });

  for (const [i, s] of snippets.entries()) {
    if (s.kind !== 'node') continue;
    it(`runs ${s.where}`, () => {
      const file = join(dir, `snippet${i}.ts`);
      writeFileSync(file, againstSource(s.code));
      const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 100_000,
      });
      // tfjs' own cpu-backend banner is allowed only where the block does not import doconv.
      const stderr = s.code.includes("'doconv") ? run.stderr : run.stderr.replace(TFJS_BANNER, '');
      expect(stderr, `${s.where} wrote to stderr`).toBe('');
      expect(run.status, `${s.where} failed:\n${run.stdout}`).toBe(0);
    });
  }

  it('type-checks every snippet', () => {
    const files = snippets.map((s, i) => {
      const name = `typed${i}.ts`;
      // A module each (top-level await), checked against the source.
      writeFileSync(
        join(dir, name),
        againstSource(s.code).replace(/\.ts'/g, ".js'") + '\nexport {};\n',
      );
      return name;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
        },
        files,
      }),
    );
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        encoding: 'utf8',
      });
    } catch (e) {
      const out = (e as { stdout?: string }).stdout ?? String(e);
      throw new Error(`README snippets do not type-check:\n${out}`);
    }
  });
});
