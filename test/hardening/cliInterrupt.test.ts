/**
 * Ctrl-C twice during `doconv train` (spawned): the second exits at once (code 130) and the lock on
 * --out goes with the process (the exit hook, or the first Ctrl-C's orderly stop when it gets there
 * first), so the next run is not refused.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/train/runFolder.js';
import { tempDir } from '../train/helpers.js';
import { REPO } from '../cli/runCli.js';

let root = '';
beforeAll(async () => {
  root = await tempDir('cli-interrupt');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

it('a second Ctrl-C exits with 130 and leaves no lock', async () => {
  const out = path.join(root, 'run');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO, 'src/cli/main.ts'),
      'train',
      '--model',
      'tf-mnist-sample',
      '--epochs',
      '20',
      '--train-limit',
      '3000',
      '--test-limit',
      '32',
      '--backend',
      'cpu',
      '--progress',
      'lines',
      '--out',
      out,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Wait until the run holds the lock (it loads data and trains after that).
  const hasLock = () =>
    fs.readdir(out).then(
      (names) => names.includes(LOCK_FILE),
      () => false,
    );
  for (let i = 0; i < 600 && !(await hasLock()); i++) await new Promise((r) => setTimeout(r, 100));
  expect(await hasLock(), err).toBe(true);
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGINT');
  const code = await closed;
  expect(code, err).toBe(130);
  expect(err).toContain('interrupted: stopping (Ctrl-C again to exit at once)');
  // No lock (and, as no epoch had finished, not even the folder the run had made).
  expect(await hasLock()).toBe(false);
}, 90_000);
