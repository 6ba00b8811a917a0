/**
 * The trainer with `workers` > 1 (forward/backward on worker threads, update on this thread):
 * it follows the one-thread run where the two must agree (no BatchNorm), repeats bit for bit,
 * resumes to the uninterrupted result, records the worker count, and leaks nothing.
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import type { ModelBuilder, TrainOptions } from '../../src/train/index.js';
import { TimesTwo } from './fixtures/timesTwoLayer.js';
import {
  tinyModel,
  tinyModelWithoutBatchNorm,
  trainerWith,
  wasmWithTempRoot,
  withoutTimes,
} from './helpers.js';

const root = wasmWithTempRoot('workers');

const base: TrainOptions = {
  model: tinyModel,
  conv: 'doconv',
  dataset: 'mnist',
  trainLimit: 160,
  testLimit: 64,
  epochs: 2,
  // 30 rows: shards of 15 and 15; the last batch of 10 splits 5 and 5.
  batchSize: 30,
  evalBatchSize: 64,
  optimizer: 'sgd',
  lr: 0.05,
  momentum: 0.9,
  weightDecay: 1e-3,
  seed: 2,
  fold: false,
};

const train = trainerWith(base);

function maxRelativeError(a: number[][], b: number[][]): number {
  let worst = 0;
  a.forEach((w, i) =>
    w.forEach((v, k) => {
      worst = Math.max(worst, Math.abs(v - b[i][k]) / Math.max(1e-3, Math.abs(b[i][k])));
    }),
  );
  return worst;
}

describe('trainModel with workers', () => {
  it('without BatchNorm, 2 workers follow the one-thread run (weight decay and momentum included)', async () => {
    const one = await train({ model: tinyModelWithoutBatchNorm });
    const two = await train({ model: tinyModelWithoutBatchNorm, workers: 2 });
    expect(two.summary.config.workers).toBe(2);
    expect(one.summary.config.workers).toBe(1);
    // The same sums in another order: float rounding only.
    expect(maxRelativeError(two.weights, one.weights)).toBeLessThan(1e-3);
    two.history.forEach((m, i) => {
      expect(m.trainLoss).toBeCloseTo(one.history[i].trainLoss, 4);
      expect(m.trainAccuracy).toBeCloseTo(one.history[i].trainAccuracy, 2);
      expect(m.testLoss).toBeCloseTo(one.history[i].testLoss, 4);
    });
    expect(two.history[1].trainLoss).toBeLessThan(two.history[0].trainLoss);
  });

  // workers: 1 too, for the checkpoint/resume path's memory (it once leaked the optimizer state).
  for (const workers of [1, 2]) {
    it(`workers ${workers}, with BatchNorm: repeats bit for bit, a resumed run ends where the straight one does, nothing leaks`, async () => {
      const straight = await train({ workers, out: path.join(root(), `straight-${workers}`) });
      // after one run: kernels keep a few one-time tensors (see trainModel.test.ts, memory)
      const tensorsBefore = tf.memory().numTensors;
      const again = await train({ workers });
      expect(again.weights).toEqual(straight.weights);
      expect(withoutTimes(again.history)).toEqual(withoutTimes(straight.history));
      expect(tf.memory().numTensors).toBe(tensorsBefore);

      const out = path.join(root(), `resumed-${workers}`);
      const abort = new AbortController();
      await expect(
        train({
          workers,
          out,
          signal: abort.signal,
          onEpochEnd: (m) => void (m.epoch === 1 && abort.abort()),
        }),
      ).rejects.toThrow(/aborted/);
      const resumed = await train({ workers, out, resume: true });
      expect(resumed.weights).toEqual(straight.weights);
      expect(withoutTimes(resumed.history)).toEqual(withoutTimes(straight.history));
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });
  }

  it('refuses to resume with another worker count, and names a bad count', async () => {
    const out = path.join(root(), 'mismatch');
    await train({ workers: 2, epochs: 1, out });
    await expect(train({ out, resume: true })).rejects.toThrow(
      /the run's settings differ \(workers: checkpoint 2, now 1\)/,
    );
    await expect(train({ workers: 0 })).rejects.toThrow(
      'workers must be a positive integer, got 0',
    );
    await expect(train({ workers: 1.5 })).rejects.toThrow(
      'workers must be a positive integer, got 1.5',
    );
  });
});

describe('custom layer classes in the workers', () => {
  const fixture = new URL('./fixtures/timesTwoLayer.js', import.meta.url).href;
  const withCustomLayer: ModelBuilder = ({ inputShape, numClasses }) => {
    const input = tf.input({ shape: inputShape });
    let y = new TimesTwo({}).apply(input) as tf.SymbolicTensor;
    y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
    y = tf.layers.dense({ units: numClasses }).apply(y) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: y });
  };

  it('train with workerImports; without them the error names the layer and the option', async () => {
    await expect(train({ model: withCustomLayer, workers: 2, epochs: 1 })).rejects.toThrow(
      /Unknown layer: TimesTwo: a custom layer class must be registered in the worker threads too .*workerImports/,
    );
    const r = await train({
      model: withCustomLayer,
      workers: 2,
      epochs: 1,
      workerImports: [fixture],
    });
    expect(r.history[0].trainLoss).toBeGreaterThan(0);
    expect(r.summary.config.workers).toBe(2);
  });
});
