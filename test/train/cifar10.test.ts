/**
 * CIFAR-10 end to end through the trainer: a folder of binary-version files made here (the real
 * ones cannot be downloaded), read with the dataset's defaults (flip/crop augmentation, per-channel
 * mean/std normalisation), trained, checkpointed, folded.
 *
 * The files have the official size (10 000 records each): data_batch_1.bin and test_batch.bin hold
 * learnable images (brightness of each colour plane encodes the label, plus noise); batches 2–5 are
 * sparse all-zero files, which the loader size-checks but, with a train limit, never reads.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { createRng } from '../../src/data/prng.js';
import { trainModel } from '../../src/train/index.js';
import { tempDir, tinyModel } from './helpers.js';

const RECORD = 3073;
const RECORDS = 10000;

/** Record i: label i mod 10; plane c's pixels around 40 + 20·label (+ 5·c), ± 20 noise. */
function learnableBatch(seed: number): Uint8Array {
  const rng = createRng(seed);
  const out = new Uint8Array(RECORDS * RECORD);
  for (let i = 0; i < RECORDS; i++) {
    const label = i % 10;
    const r = out.subarray(i * RECORD, (i + 1) * RECORD);
    r[0] = label;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        r[1 + c * 1024 + p] = 40 + 20 * label + 5 * c + Math.floor(rng() * 40) - 20;
      }
    }
  }
  return out;
}

let root: string;
let dataDir: string;
beforeAll(async () => {
  await tf.setBackend('wasm');
  root = await tempDir('cifar');
  // The unpacked archive in a folder of its own: trainModel refuses a run folder inside its data.
  dataDir = path.join(root, 'data', 'cifar-10-batches-bin');
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(path.join(dataDir, 'data_batch_1.bin'), learnableBatch(1));
  for (let b = 2; b <= 5; b++)
    await fs.truncate(await touch(`data_batch_${b}.bin`), RECORDS * RECORD);
  await fs.writeFile(path.join(dataDir, 'test_batch.bin'), learnableBatch(2));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function touch(name: string): Promise<string> {
  const file = path.join(dataDir, name);
  await fs.writeFile(file, new Uint8Array(0));
  return file;
}

describe('training on CIFAR-10 files', () => {
  it('trains with the CIFAR defaults, learns, folds within 0.1 pp, and records the recipe', async () => {
    const out = path.join(root, 'run');
    const r = await trainModel({
      // a zoo net at CIFAR's shape; no BatchNorm, whose moving averages need more steps than a test
      model: 'pt-mnist-sample',
      conv: 'doconv',
      dataset: 'cifar10',
      dataDir: path.dirname(dataDir), // where the archive was unpacked: cifar-10-batches-bin/ is found inside
      trainLimit: 1280,
      testLimit: 200,
      epochs: 3,
      batchSize: 32,
      lr: 0.01,
      schedule: { kind: 'constant' },
      out,
    });
    r.model.dispose();
    r.folded?.dispose();
    const s = r.summary;
    expect(s).toMatchObject({ dataset: 'cifar10', trainImages: 1280, testImages: 200 });
    expect(s.config).toMatchObject({
      augment: true,
      normalize: 'dataset',
      optimizer: { kind: 'sgd', momentum: 0.9 },
      weightDecay: 1e-4,
    });
    expect(s.testAccuracy).toBeGreaterThan(0.3); // chance: 0.1
    expect(Math.abs(s.foldedTestAccuracy! - s.testAccuracy)).toBeLessThanOrEqual(0.001);
    expect(r.history[2].trainLoss).toBeLessThan(r.history[0].trainLoss);
    expect((await fs.readdir(out)).sort()).toEqual(
      ['checkpoint', 'curves.svg', 'folded', 'metrics.jsonl', 'summary.json'].sort(),
    );
  });

  it('names the folder when a file is missing', async () => {
    await fs.rename(
      path.join(dataDir, 'data_batch_5.bin'),
      path.join(dataDir, 'data_batch_5.bin.away'),
    );
    try {
      await expect(
        trainModel({
          model: tinyModel,
          dataset: 'cifar10',
          dataDir: path.dirname(dataDir),
          epochs: 1,
        }),
      ).rejects.toThrow(/CIFAR-10: .*data_batch_5\.bin: no such file/);
    } finally {
      await fs.rename(
        path.join(dataDir, 'data_batch_5.bin.away'),
        path.join(dataDir, 'data_batch_5.bin'),
      );
    }
  });
});
