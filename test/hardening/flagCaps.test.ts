/**
 * Counts that size work are capped with an error naming the option and the value (issue #23,
 * classes 4 and 10): `bench --steps 1000000000000` and `--train-limit 1000000000` on a scene net
 * ended in "Invalid typed array length"; the CLI could not start more workers than cores even when
 * asked to (`--oversubscribe`, the library's `oversubscribe`).
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { measureTrainingSpeed } from '../../src/train/speed.js';
import { trainModel } from '../../src/train/trainModel.js';
import { MAX_DECODED_BYTES_ENV } from '../../src/util/sizeLimit.js';
import { runCli, spawnCli } from '../cli/runCli.js';
import { tempDir } from '../train/helpers.js';

let root = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await tempDir('flag-caps');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env[MAX_DECODED_BYTES_ENV];
});

describe('work sized by a count is held to the size cap before it is allocated', () => {
  it('measureTrainingSpeed: steps × batchSize random images, naming both', async () => {
    await expect(
      measureTrainingSpeed({ steps: 100_000_000, batchSize: 32, backend: 'cpu' }),
    ).rejects.toThrow(
      /^steps: 100000000 × batchSize: 32 random images of 28×28×1 bytes = 2508800000000 bytes, over the size limit of 1073741824 bytes \(lower steps or batchSize, or raise it with DOCONV_MAX_DECODED_BYTES/,
    );
  });

  it('doconv bench --steps: the same in flags (was "Invalid typed array length")', async () => {
    const r = await runCli(['bench', '--quick', '--steps', '100000000', '--conv', 'conv']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /--steps 100000000 × --batch-size 32 random images of 28×28×1 bytes = 2508800000000 bytes, over the size limit .*\(lower --steps or --batch-size, or raise it with DOCONV_MAX_DECODED_BYTES/,
    );
    expect(r.err).not.toMatch(/typed array/);
  });

  it('trainModel: trainLimit scenes of a detection net, before any is generated', async () => {
    const out = path.join(root, 'scenes');
    await expect(
      trainModel({ model: 'centernet-mini', trainLimit: 1_000_000_000, out, backend: 'cpu' }),
    ).rejects.toThrow(
      /^trainLimit: 1000000000 scenes of 64×64 pixels and a mask each = 8192000000000 bytes, over the size limit/,
    );
    await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('the cap is the one DOCONV_MAX_DECODED_BYTES sets', async () => {
    process.env[MAX_DECODED_BYTES_ENV] = '1K';
    await expect(
      measureTrainingSpeed({ steps: 2, batchSize: 1, warmupSteps: 0, backend: 'cpu' }),
    ).rejects.toThrow(/= 1568 bytes, over the size limit of 1024 bytes/);
  });
});

describe('--oversubscribe', () => {
  const workers = String(os.availableParallelism() + 1);
  const train = (out: string, ...more: string[]) => [
    'train',
    '--model',
    'tf-mnist-sample',
    '--train-limit',
    '8',
    '--test-limit',
    '8',
    '--batch-size',
    '4',
    '--epochs',
    '1',
    '--no-fold',
    '--backend',
    'cpu',
    '--workers',
    workers,
    '--out',
    path.join(root, out),
    ...more,
  ];

  it('train refuses more workers than cores without it, naming --workers and --oversubscribe', async () => {
    const r = await spawnCli(train('no-over'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `--workers ${workers} is more than this machine's ${os.availableParallelism()} cores .*; --oversubscribe starts them anyway`,
      ),
    );
  });

  it('train starts them with it', async () => {
    const r = await spawnCli(train('over', '--oversubscribe', '--json'));
    expect(r.err).not.toMatch(/is more than/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).config.workers).toBe(Number(workers));
  }, 120_000);

  it('bench and compare take it too', async () => {
    for (const args of [
      ['bench', '--quick', '--steps', '1', '--workers', workers, '--conv', 'conv'],
      ['compare', '--model', 'tf-mnist-sample', '--runs', workers, '--jobs', workers],
    ]) {
      const r = await runCli([...args, '--backend', 'cpu']);
      expect(r.code, args[0]).toBe(1);
      expect(r.err, args[0]).toMatch(
        /is more than this machine's .*; --oversubscribe starts them anyway/,
      );
    }
  });
});
