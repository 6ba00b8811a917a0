/**
 * Non-finite values stop training at the step they appear, before anything is applied: the weights,
 * the optimizer state and the BatchNorm statistics stay as they were before that step. On wasm, a
 * NaN behind conv → ReLU vanishes from the output (max(NaN, 0) = 0) but not from the gradient, so the
 * check must look at the gradients, not only at the loss.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/engine/register.js';
import type { Dataset } from '../../src/data/dataset.js';
import { trainEpoch, type LoopConfig } from '../../src/train/loop.js';
import { createOptimizer } from '../../src/train/optimizers.js';
import { createParallelTrainer } from '../../src/train/parallel/parallelTrainer.js';
import { NonFiniteError, describeNonFinite, finiteProbe } from '../../src/train/nonFinite.js';
import { syntheticDataset } from '../data/synthetic.js';
import { tinyModel, weightValues } from '../train/helpers.js';

/** Multiplies its input by NaN from its `poisonFrom`-th call on (counting training calls). */
class PoisonAfter extends tf.layers.Layer {
  static className = 'PoisonAfter';
  calls = 0;
  constructor(private readonly poisonFrom: number) {
    super({});
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    this.calls++;
    return this.calls > this.poisonFrom ? tf.mul(x, NaN) : tf.clone(x);
  }
}

/** conv → BN → ReLU (tinyModel) with a poison layer before it, on 8×8×1 images. */
function poisonedModel(poisonFrom: number): { model: tf.LayersModel; poison: PoisonAfter } {
  const inner = tinyModel({ conv: 'doconv', inputShape: [8, 8, 1], numClasses: 3, seed: 1 });
  const poison = new PoisonAfter(poisonFrom);
  const input = tf.input({ shape: [8, 8, 1] });
  const out = inner.apply(poison.apply(input)) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: input, outputs: out }), poison };
}

const config: LoopConfig = {
  epochs: 1,
  batchSize: 4,
  evalBatchSize: 4,
  seed: 1,
  learningRate: 0.01,
  schedule: { kind: 'constant' },
  scheduleUnit: 'step',
  weightDecay: 0,
  decayD: true,
  augment: false,
  outputKind: 'logits',
};

const data: Dataset = syntheticDataset(16, 8, 8, 1, 3);

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('finiteness check helpers', () => {
  it('the probe is finite exactly when the loss and every gradient are', () => {
    const probe = (loss: number, ...gs: number[][]) =>
      tf.tidy(
        () =>
          finiteProbe(
            tf.scalar(loss),
            gs.map((g) => tf.tensor(g)),
          ).dataSync()[0],
      );
    expect(Number.isFinite(probe(1, [1, 2], [3]))).toBe(true);
    expect(Number.isFinite(probe(NaN, [1]))).toBe(false);
    expect(Number.isFinite(probe(1, [1, Infinity]))).toBe(false);
    expect(Number.isFinite(probe(1, [Infinity], [-Infinity]))).toBe(false);
    expect(Number.isFinite(probe(1, [1], [NaN, 0]))).toBe(false);
  });

  it('names the loss or the first bad gradient', () => {
    expect(describeNonFinite(NaN, [])).toBe('the loss is NaN');
    expect(describeNonFinite(1, [{ name: 'c1/kernel', values: [0, -Infinity] }])).toMatch(
      /gradient of 'c1\/kernel'.*-Infinity at index 1/,
    );
  });
});

describe('trainEpoch with a NaN appearing at step 3', () => {
  for (const kind of ['sgd', 'adam'] as const) {
    it(`${kind}: stops naming epoch and step; weights, BN statistics and optimizer state are those after step 2`, async () => {
      const { model } = poisonedModel(2);
      const optimizer =
        kind === 'sgd'
          ? createOptimizer({ kind, learningRate: 0.01, momentum: 0.9 })
          : createOptimizer({ kind, learningRate: 0.01 });
      let weightsAfterLastGoodStep: number[][] = [];
      let optimizerAfterLastGoodStep: number[][] = [];
      // The optimizer's whole state, read synchronously: its step count and every slot.
      const optimizerState = () => [
        [optimizer.iterations],
        ...(optimizer as unknown as { slots: tf.Tensor[][] }).slots.flatMap((vars) =>
          vars.map((t) => Array.from(t.dataSync())),
        ),
      ];
      let tensorsAfterLastGoodStep = 0;
      const progress = {
        startEpoch: () => {},
        step: () => {
          weightsAfterLastGoodStep = weightValues(model);
          optimizerAfterLastGoodStep = optimizerState();
          tensorsAfterLastGoodStep = tf.memory().numTensors;
        },
        endEpoch: () => {},
        message: () => {},
        stop: () => {},
      };
      await expect(trainEpoch(model, optimizer, data, 0, config, { progress })).rejects.toThrow(
        /training diverged: the (loss is NaN|gradient of '.*' has a non-finite value).* at epoch 1, step 3 .*not applied/,
      );
      expect(weightValues(model)).toEqual(weightsAfterLastGoodStep);
      expect(optimizerAfterLastGoodStep[0]).toEqual([2]);
      expect(optimizerState()).toEqual(optimizerAfterLastGoodStep);
      expect(tf.memory().numTensors).toBe(tensorsAfterLastGoodStep);
      optimizer.dispose();
      model.dispose();
    });
  }
});

describe('createParallelTrainer with non-finite inputs and failing workers', () => {
  let parallel: Awaited<ReturnType<typeof createParallelTrainer>>;
  let model: tf.LayersModel;

  beforeAll(async () => {
    model = tinyModel({ conv: 'doconv', inputShape: [8, 8, 1], numClasses: 3, seed: 2 });
    parallel = await createParallelTrainer({
      model,
      optimizer: tf.train.sgd(0.01),
      loss: { crossEntropy: 'logits' },
      workers: 2,
    });
  });

  afterAll(async () => {
    await parallel.dispose();
    model.dispose();
  });

  it('a NaN pixel: NonFiniteError, BatchNorm statistics and weights untouched, and the next step works', async () => {
    const before = weightValues(model);
    const xs = tf.tidy(() => {
      const x = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 3).arraySync() as number[][][][];
      x[3][2][2][0] = NaN; // worker 1's shard
      return tf.tensor(x);
    });
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
    await expect(parallel.trainStep(xs, ys)).rejects.toThrow(NonFiniteError);
    expect(weightValues(model)).toEqual(before);
    const clean = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 4);
    const result = await parallel.trainStep(clean, ys);
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(weightValues(model)).not.toEqual(before);
    tf.dispose([xs, ys, clean]);
  });

  it('labels of the wrong shape fail in a worker; the trainer stays usable', async () => {
    const xs = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 5);
    const bad = tf.zeros([4, 7]);
    const good = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
    await expect(parallel.trainStep(xs, bad)).rejects.toThrow(/doconv parallel worker/);
    await expect(parallel.trainStep(xs, bad)).rejects.not.toThrow(/busy/);
    const result = await parallel.trainStep(xs, good);
    expect(Number.isFinite(result.loss)).toBe(true);
    const memory = await parallel.workerMemory();
    const again = await parallel.trainStep(xs, good);
    expect(Number.isFinite(again.loss)).toBe(true);
    expect(await parallel.workerMemory()).toEqual(memory);
    tf.dispose([xs, bad, good]);
  });
});

describe('dispose() settles', () => {
  it('right after a failed step, with nothing else keeping Node alive', async () => {
    const model = tinyModel({ conv: 'conv', inputShape: [8, 8, 1], numClasses: 3, seed: 3 });
    const parallel = await createParallelTrainer({
      model,
      optimizer: tf.train.sgd(0.01),
      loss: { crossEntropy: 'logits' },
      workers: 2,
    });
    const xs = tf.randomNormal([3, 8, 8, 1]);
    const bad = tf.zeros([3, 5]);
    await expect(parallel.trainStep(xs, bad)).rejects.toThrow();
    await parallel.dispose();
    await expect(parallel.trainStep(xs, bad)).rejects.toThrow(/after dispose/);
    tf.dispose([xs, bad]);
    model.dispose();
  });
});
