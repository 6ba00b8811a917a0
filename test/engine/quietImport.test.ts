/**
 * Importing doconv prints nothing, in any order relative to '@tensorflow/tfjs-backend-wasm' (wasm's
 * register_all_kernels used to warn "The kernel '…' for backend 'wasm' is already registered" 11
 * times when doconv came first), and the training kernels are in place once wasm is the backend.
 * useBestBackend() is silent too unless given `log`. Each case is a fresh Node process (imports
 * register globally), run against the source with tsx; stdout and stderr must both be empty.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const entry = {
  doconv: pathToFileURL(resolve(root, 'src/index.ts')).href,
  'doconv/node': pathToFileURL(resolve(root, 'src/node.ts')).href,
  wasm: '@tensorflow/tfjs-backend-wasm',
};
type Entry = keyof typeof entry;

/** Runs `code` (an ES module body) in a fresh Node with tsx; returns what it printed. */
function run(code: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Imports `order`, sets wasm when imported, and fails (exit 3) unless doconv's kernels are in. */
function importsIn(order: Entry[]): string {
  const lines = [`const tf = await import('@tensorflow/tfjs');`];
  for (const e of order) lines.push(`await import(${JSON.stringify(entry[e])});`);
  if (order.includes('wasm')) {
    lines.push(
      `await tf.setBackend('wasm');`,
      `const { wasmTrainingKernelsRegistered } = await import(${JSON.stringify(entry.doconv)});`,
      `if (!wasmTrainingKernelsRegistered()) process.exit(3);`,
    );
  }
  return lines.join('\n');
}

const orders: Entry[][] = [
  ['doconv'],
  ['doconv/node'],
  ['doconv', 'wasm'],
  ['wasm', 'doconv'],
  ['doconv/node', 'wasm'],
  ['wasm', 'doconv/node'],
  ['doconv', 'wasm', 'doconv/node'],
];

describe('quiet by default', () => {
  for (const order of orders) {
    it(`import ${order.join(' → ')} prints nothing`, () => {
      const r = run(importsIn(order));
      expect({ stdout: r.stdout, stderr: r.stderr }).toEqual({ stdout: '', stderr: '' });
      expect(r.status).toBe(0);
    });
  }

  it('useBestBackend() prints nothing unless given log', () => {
    const r = run(
      [
        `const { useBestBackend } = await import(${JSON.stringify(entry['doconv/node'])});`,
        `const { backend, engine } = await useBestBackend();`,
        `if (!['doconv-native', 'wasm', 'tensorflow'].includes(backend)) process.exit(4);`,
        // The native engine's backend when its addon is built, doconv's wasm kernels otherwise:
        // silent either way.
        `if (backend === 'doconv-native' && engine !== 'native') process.exit(5);`,
        `if (backend === 'wasm' && engine !== 'wasm') process.exit(6);`,
      ].join('\n'),
    );
    expect({ stdout: r.stdout, stderr: r.stderr }).toEqual({ stdout: '', stderr: '' });
    expect(r.status).toBe(0);
  });

  it('the check itself sees output (a case that prints fails)', () => {
    expect(run(`console.warn('x');`).stderr).toBe('x\n');
  });
});
