/**
 * The spawned CLI prints no tfjs banner ("Hi, looks like you are running TensorFlow.js in Node.js",
 * printed by tfjs-backend-cpu on its first tensor), and `--version` prints package.json's version.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli, spawnCli } from './runCli.js';

const version = (
  JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

describe('a quiet, self-describing CLI', () => {
  it('bench --quick on the cpu backend: results only, no banner', async () => {
    const r = await spawnCli([
      'bench',
      '--quick',
      '--model',
      'tf-mnist-sample',
      '--conv',
      'conv',
      '--steps',
      '1',
      '--batch-size',
      '2',
      '--backend',
      'cpu',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^tf-mnist-sample conv\s+\d+ img\/s/);
    expect(r.out + r.err).not.toContain('TensorFlow.js in Node.js');
    expect(r.err).not.toContain('=====');
  });

  it('--version and -V print the version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(version);
    }
  });
});
