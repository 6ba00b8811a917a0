/**
 * createParallelTrainer: worker threads each with their own tfjs/wasm compute shard gradients that
 * the main thread sums in a fixed order and applies once. Checked against single-thread
 * trainOnBatch on the same global batch, for repeatability, learning, leaks and shutdown.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { addon, skipReason } from '../engine/nativeSetup.js';
import { disableNativeEngine, enableNativeEngine } from '../../src/engine/native/enableNative.js';
import {
  createParallelTrainer,
  type ParallelTrainer,
} from '../../src/train/parallel/parallelTrainer.js';
import { shardRanges, weightedSumInOrder } from '../../src/train/parallel/shards.js';
import { correctCount, crossEntropy } from '../../src/train/losses.js';
import { host, relativeError } from '../engine/helpers.js';

describe('shard arithmetic', () => {
  it('splits a batch into contiguous shards, the first ones one row larger', () => {
    expect(shardRanges(8, 2)).toEqual([
      [0, 4],
      [4, 8],
    ]);
    expect(shardRanges(7, 3)).toEqual([
      [0, 3],
      [3, 5],
      [5, 7],
    ]);
    expect(shardRanges(1, 2)).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });
  it('sums weighted parts in the order given, and names bad input', () => {
    const s = weightedSumInOrder([new Float32Array([1, 2]), new Float32Array([3, 4])], [0.5, 1]);
    expect(Array.from(s)).toEqual([3.5, 5]);
    expect(() => weightedSumInOrder([new Float32Array(2)], [1, 1])).toThrow(
      /1 parts and 2 weights/,
    );
    expect(() => weightedSumInOrder([new Float32Array(2), new Float32Array(3)], [1, 1])).toThrow(
      /part 1 has 3 values/,
    );
  });
});

/** conv → relu → conv (stride 2) → relu → flatten → dense softmax: no BatchNorm, no randomness. */
function plainNet(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return m;
}

/** conv → BN → relu → flatten → dense softmax. */
function bnNet(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [8, 8, 2],
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
    }),
  );
  m.add(tf.layers.batchNormalization({ momentum: 0.9 }));
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return m;
}

/** Deterministic trainable weights (non-trainable ones keep their initial values). */
function seedWeights(model: tf.LayersModel, seed: number): void {
  model.trainableWeights.forEach((w, i) => {
    const t = host(w.shape as number[], seed + i);
    (w.read() as tf.Variable).assign(tf.mul(tf.tensor(t.values, t.shape), 0.5));
  });
}

function batch(n: number, seed: number): { x: tf.Tensor; y: tf.Tensor } {
  const x = host([n, 8, 8, 2], seed);
  const labels = Array.from({ length: n }, (_, i) => (i * 7 + seed) % 3);
  return {
    x: tf.tensor(x.values, x.shape),
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), 3),
  };
}

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.weights.map((w) => w.read().data() as Promise<Float32Array>));
}

const open: ParallelTrainer[] = [];
afterAll(async () => {
  await Promise.all(open.map((t) => t.dispose()));
});

describe('createParallelTrainer', () => {
  it('a parallel step equals a single-thread step on the same global batch (no BatchNorm)', async () => {
    await tf.setBackend('wasm');
    const single = plainNet();
    seedWeights(single, 1);
    single.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const parallelModel = plainNet();
    seedWeights(parallelModel, 1);
    const trainer = await createParallelTrainer({
      model: parallelModel,
      optimizer: tf.train.adam(0.01),
      loss: 'categoricalCrossentropy',
      workers: 2,
    });
    open.push(trainer);
    // 7 rows: shards of 4 and 3, so the shares must be weighted, not just averaged.
    for (const seed of [11, 12, 13]) {
      const { x, y } = batch(7, seed);
      const want = (await single.trainOnBatch(x, y)) as number;
      const got = await trainer.trainStep(x, y);
      expect(got.loss).toBeCloseTo(want, 5);
      expect(got.shardLosses).toHaveLength(2);
      tf.dispose([x, y]);
    }
    const a = await weightsOf(single);
    const b = await weightsOf(parallelModel);
    a.forEach((w, i) => expect(relativeError(b[i], w), `weight ${i}`).toBeLessThan(1e-5));
  });

  it("gradients(): the global batch's mean-loss gradient and correct count, weights untouched", async () => {
    await tf.setBackend('wasm');
    const model = plainNet();
    seedWeights(model, 2);
    const trainer = await createParallelTrainer({
      model,
      optimizer: tf.train.sgd(0.1),
      // the trainer's own cross-entropy on probabilities (the net ends in softmax)
      loss: { crossEntropy: 'probabilities' },
      workers: 2,
    });
    open.push(trainer);
    const { x, y } = batch(7, 21);
    const before = await weightsOf(model);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const want = tf.variableGrads(
      () => crossEntropy(y, model.predict(x) as tf.Tensor, 'probabilities'),
      vars,
    );
    const wantCorrect = tf.tidy(() => correctCount(y, model.predict(x) as tf.Tensor).dataSync()[0]);
    const got = await trainer.gradients(x, y);
    expect(got.grads).toHaveLength(vars.length);
    for (const [i, v] of vars.entries()) {
      expect(got.grads[i].shape).toEqual(v.shape);
      expect(
        relativeError(await got.grads[i].data(), await want.grads[v.name].data()),
        `grad ${i}`,
      ).toBeLessThan(1e-5);
    }
    expect(got.loss).toBeCloseTo((await want.value.data())[0], 5);
    expect(got.correct).toBe(wantCorrect);
    expect(await weightsOf(model)).toEqual(before);
    tf.dispose([...got.grads, want.value, ...Object.values(want.grads), x, y]);
    await trainer.dispose();
  });

  it('a seeded run repeats exactly; BatchNorm nets learn; nothing leaks', async () => {
    await tf.setBackend('wasm');
    const run = async () => {
      const model = bnNet();
      seedWeights(model, 5);
      const trainer = await createParallelTrainer({
        model,
        optimizer: tf.train.adam(0.01),
        loss: 'categoricalCrossentropy',
      });
      open.push(trainer);
      const { x, y } = batch(16, 3);
      const losses: number[] = [];
      losses.push((await trainer.trainStep(x, y)).loss); // creates the optimizer's slots
      const mainBefore = tf.memory().numTensors;
      const workersBefore = await trainer.workerMemory();
      for (let i = 0; i < 7; i++) losses.push((await trainer.trainStep(x, y)).loss);
      expect(tf.memory().numTensors).toBe(mainBefore);
      expect(await trainer.workerMemory()).toEqual(workersBefore);
      await trainer.dispose();
      tf.dispose([x, y]);
      const weights = await weightsOf(model);
      model.dispose();
      return { losses, weights };
    };
    const first = await run();
    const second = await run();
    expect(first.losses[first.losses.length - 1]).toBeLessThan(first.losses[0] * 0.5);
    expect(second.losses).toEqual(first.losses);
    second.weights.forEach((w, i) =>
      expect(Array.from(w), `weight ${i}`).toEqual(Array.from(first.weights[i])),
    );
  });

  it("BatchNorm moving statistics are the shard-weighted average of the workers'", async () => {
    await tf.setBackend('wasm');
    const model = bnNet();
    seedWeights(model, 7);
    const trainer = await createParallelTrainer({
      model,
      optimizer: tf.train.sgd(0),
      loss: 'categoricalCrossentropy',
    });
    open.push(trainer);
    const { x, y } = batch(6, 4);
    await trainer.trainStep(x, y);
    // With learning rate 0 the conv is unchanged: recompute each shard's statistics by hand.
    const conv = tf.model({
      inputs: model.inputs,
      outputs: model.layers[0].output as tf.SymbolicTensor,
    });
    const shardMean = (a: number, b: number) =>
      tf.tidy(() => tf.mean(conv.predict(x.slice(a, b - a)) as tf.Tensor, [0, 1, 2]));
    // moving mean: 0.9·0 + 0.1·(shard mean), then the shards' average weighted 3/6 and 3/6.
    const want = tf.tidy(() => tf.mul(tf.add(shardMean(0, 3), shardMean(3, 6)), 0.1 * 0.5));
    const movingMean = model.layers[1].getWeights()[2];
    expect(relativeError(await movingMean.data(), await want.data())).toBeLessThan(1e-5);
    await trainer.dispose();
    tf.dispose([x, y, want]);
  });

  it('shuts down cleanly, refuses later steps, and names bad arguments', async () => {
    await tf.setBackend('wasm');
    const model = plainNet();
    await expect(
      createParallelTrainer({
        model,
        optimizer: tf.train.sgd(0.1),
        loss: 'categoricalCrossentropy',
        workers: 0,
      }),
    ).rejects.toThrow(/workers must be an integer ≥ 1, got 0/);
    await expect(
      createParallelTrainer({
        model,
        optimizer: 'adam' as unknown as tf.Optimizer,
        loss: 'categoricalCrossentropy',
      }),
    ).rejects.toThrow(/optimizer must be a tf.Optimizer instance .*got "adam"/);
    await expect(
      createParallelTrainer({
        model,
        optimizer: tf.train.sgd(0.1),
        loss: { crossEntropy: 'softmax' } as unknown as string,
      }),
    ).rejects.toThrow(
      /loss must be a tfjs-layers loss name, \{crossEntropy: .* or \{task: 'segmentation' \| 'detection'\} .*got \{"crossEntropy":"softmax"\}/,
    );
    const trainer = await createParallelTrainer({
      model,
      optimizer: tf.train.sgd(0.1),
      loss: 'categoricalCrossentropy',
      workers: 1,
    });
    const { x, y } = batch(4, 1);
    await expect(trainer.trainStep(x, tf.zeros([3, 3]))).rejects.toThrow(/same number of rows/);
    // A worker-side failure comes back as a rejection naming the worker.
    await expect(trainer.trainStep(tf.zeros([4, 5, 5, 2]), y)).rejects.toThrow(/worker 0/);
    await trainer.dispose();
    await trainer.dispose(); // idempotent
    await expect(trainer.trainStep(x, y)).rejects.toThrow(/after dispose/);
    tf.dispose([x, y]);
  });
});

describe(`createParallelTrainer with the native engine${skipReason}`, () => {
  const run = addon == null ? it.skip : it;
  run('workers run the native kernels too; a parallel step equals a cpu step', async () => {
    await tf.setBackend('cpu');
    const reference = plainNet();
    seedWeights(reference, 3);
    reference.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await tf.setBackend('wasm');
    expect(enableNativeEngine().on).toBe(true);
    try {
      const model = plainNet();
      seedWeights(model, 3);
      const trainer = await createParallelTrainer({
        model,
        optimizer: tf.train.adam(0.01),
        loss: 'categoricalCrossentropy',
        workers: 2,
      });
      open.push(trainer);
      for (const seed of [21, 22, 23]) {
        await tf.setBackend('cpu');
        const c = batch(7, seed);
        const want = (await reference.trainOnBatch(c.x, c.y)) as number;
        tf.dispose([c.x, c.y]);
        await tf.setBackend('wasm');
        const { x, y } = batch(7, seed);
        const got = await trainer.trainStep(x, y);
        expect(got.loss).toBeCloseTo(want, 4);
        tf.dispose([x, y]);
      }
      await trainer.dispose();
    } finally {
      disableNativeEngine();
    }
  });
});
