/**
 * A training step's memory, estimated before it runs (engine/stepMemory.ts): the estimate stays
 * above the peak tf.profile measures (and within 3.5× of it) on doconv-native and cpu; a step that
 * does not fit a forced budget (DOCONV_MEMORY_LIMIT) is refused before training with the model, the
 * batch size, the estimate and what to change, in the library's words and the CLI's; a step that
 * fails allocating anyway (wasm's abort, "memory access out of bounds") says the same, not that.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { disableNativeEngine } from '../../src/engine/native/enableNative.js';
import {
  checkStepMemory,
  estimateStepBytes,
  isOutOfMemory,
  memoryBudget,
  memoryLimitFromEnv,
  WASM_HEAP_BYTES,
} from '../../src/engine/stepMemory.js';
import { buildModel } from '../../src/models/zoo.js';
import { Adam, SGD } from '../../src/train/optimizers.js';
import { trainSteps } from '../../src/train/trainSteps.js';
import { OptionError } from '../../src/util/optionError.js';
import { flagFor } from '../../src/cli/flagNames.js';
import { expectExitOne, spawnCli } from '../cli/runCli.js';
import { addon, startNativeEngine } from './nativeSetup.js';

const GiB = 2 ** 30;

afterEach(() => {
  delete process.env.DOCONV_MEMORY_LIMIT;
});
afterAll(() => disableNativeEngine());

/** tf.profile's peak bytes of one Adam step of `model` on a random batch, over what was held before. */
async function measuredPeak(model: tf.LayersModel, batch: number): Promise<number> {
  const shape = model.inputs[0].shape.slice(1) as number[];
  const out = model.outputs[0].shape.slice(1) as number[];
  const x = tf.randomNormal([batch, ...shape]);
  const y = tf.randomNormal([batch, ...out]);
  const optimizer = new Adam({ learningRate: 1e-3 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor),
        vars,
      );
      optimizer.applyGradients(grads);
      value.dataSync();
    });
  step(); // the optimizer's slots
  const before = tf.memory().numBytes;
  const { peakBytes } = await tf.profile(step);
  optimizer.dispose();
  tf.dispose([x, y]);
  // The model's weights and slots are part of the estimate: count what the step holds at its peak.
  return peakBytes - before + estimateStepBytes(model, 0).weightBytes;
}

type Net = [string, [number, number, number], number, number];
// Batches where the activations dominate, as in training (at 1–2 examples fixed costs do).
const small: Net[] = [['tf-mnist-sample', [28, 28, 1], 10, 16]];
// More of the zoo on the native engine (cpu's JS kernels would take minutes).
const zoo: Net[] = [
  ...small,
  ['resnet-20', [32, 32, 3], 10, 8],
  ['deeplab-mini', [64, 64, 1], 4, 8],
];
// cpu (JS kernels) only where the native engine is not built: the same estimate, slowly.
const backends: Array<[string, Net[]]> =
  addon != null ? [['doconv-native', zoo]] : [['cpu', small]];

describe.each(backends)('the step estimate on %s', (backend, nets) => {
  it.each(nets)(
    '%s: above the measured peak, within 3.5× of it',
    async (name, shape, classes, batch) => {
      if (backend === 'doconv-native') expect(startNativeEngine('doconv-native')).toBe(true);
      await tf.setBackend(backend);
      const model = buildModel(name, {
        conv: 'doconv',
        inputShape: shape,
        numClasses: classes,
        seed: 1,
      });
      const peak = await measuredPeak(model, batch);
      const estimate = estimateStepBytes(model, batch).totalBytes;
      model.dispose();
      expect(estimate).toBeGreaterThanOrEqual(peak);
      // 3.5×: the estimate counts a ReLU's output beside the BatchNorm's or residual Add's before
      // it, where the native engine fuses the pair into one buffer (ResNet-20 b8: 3.1×).
      expect(estimate).toBeLessThan(3.5 * peak);
    },
    60_000,
  );
});

describe('the budget', () => {
  it('DOCONV_MEMORY_LIMIT takes bytes or a unit, and names a bad value', () => {
    expect(memoryLimitFromEnv({})).toBeNull();
    expect(memoryLimitFromEnv({ DOCONV_MEMORY_LIMIT: '123456' })).toBe(123456);
    expect(memoryLimitFromEnv({ DOCONV_MEMORY_LIMIT: '512M' })).toBe(512 * 2 ** 20);
    expect(memoryLimitFromEnv({ DOCONV_MEMORY_LIMIT: '1.5GiB' })).toBe(1.5 * GiB);
    for (const bad of ['lots', '-1', '0', '2Q']) {
      expect(() => memoryLimitFromEnv({ DOCONV_MEMORY_LIMIT: bad })).toThrow(
        `DOCONV_MEMORY_LIMIT must be a byte count, optionally with a unit (e.g. 512M, 2G), got "${bad}"`,
      );
    }
  });

  it("is the 4 GiB heap on wasm, the machine's RAM elsewhere, the forced limit when set", async () => {
    await tf.setBackend('wasm');
    expect(memoryBudget('wasm')).toMatchObject({ what: "the wasm backend's 4 GiB heap" });
    expect(memoryBudget('wasm').bytes).toBeLessThanOrEqual(WASM_HEAP_BYTES);
    expect(memoryBudget('doconv-native').what).toBe('the RAM available now');
    expect(memoryBudget('doconv-native').bytes).toBeGreaterThan(0);
    process.env.DOCONV_MEMORY_LIMIT = '1M';
    expect(memoryBudget('doconv-native')).toEqual({ bytes: 2 ** 20, what: 'DOCONV_MEMORY_LIMIT' });
  });
});

describe('a step that does not fit', () => {
  it('is refused with the model, the batch size, the estimate and what to change', async () => {
    await tf.setBackend('cpu');
    const model = buildModel('resnet-20', {
      conv: 'conv',
      inputShape: [32, 32, 3],
      numClasses: 10,
    });
    const one = estimateStepBytes(model, 1);
    // room for 10 examples
    const budget = { bytes: one.weightBytes + 10.5 * one.activationBytes, what: 'a test budget' };
    expect(checkStepMemory(model, 10, { budget }).totalBytes).toBeLessThanOrEqual(budget.bytes);
    let e: unknown;
    try {
      checkStepMemory(model, 64, { budget, modelName: 'resnet-20' });
    } catch (caught) {
      e = caught;
    }
    expect(e).toBeInstanceOf(OptionError);
    const message = (e as Error).message;
    expect(message).toMatch(
      /^a training step of resnet-20 at batchSize 64 needs about \d+\.\d\d GB \(estimated from its layers\) but a test budget allows \d+\.\d\d GB on backend 'cpu'; lower batchSize to 10 or less$/,
    );
    // the CLI shows its flags
    expect((e as OptionError).render(flagFor)).toContain('lower --batch-size to 10 or less');
    model.dispose();
  });

  it('on wasm, says more workers (a heap each) or doconv-native; with workers elsewhere, fewer', async () => {
    await tf.setBackend('wasm');
    const model = buildModel('tf-mnist-sample', {
      conv: 'conv',
      inputShape: [28, 28, 1],
      numClasses: 10,
    });
    const budget = { bytes: 2 ** 20, what: 'a test budget' };
    expect(() => checkStepMemory(model, 512, { budget, workers: 2 })).toThrow(
      /more wasm instances with workers \(now 2; each has its own 4 GiB heap\), or use the doconv-native backend/,
    );
    await tf.setBackend('cpu');
    expect(() => checkStepMemory(model, 512, { budget, workers: 2 })).toThrow(
      /or use fewer workers \(now 2: each holds a copy of the model\)$/,
    );
    model.dispose();
  });

  it("stops the trainer before its first step (DOCONV_MEMORY_LIMIT), and names a step's failed allocation", async () => {
    await tf.setBackend('cpu');
    const model = buildModel('tf-mnist-sample', {
      conv: 'conv',
      inputShape: [28, 28, 1],
      numClasses: 10,
    });
    const batch = () => ({
      xs: tf.zeros([4, 28, 28, 1]),
      ys: tf.oneHot([1, 2, 3, 4], 10),
      size: 4,
    });
    const settings = {
      epochs: 1,
      learningRate: 0.01,
      schedule: { kind: 'constant' } as const,
      scheduleUnit: 'epoch' as const,
      weightDecay: 0,
      decayD: false,
    };
    const kind = {
      loss: (ys: tf.Tensor, out: tf.Tensor) => tf.losses.softmaxCrossEntropy(ys, out) as tf.Scalar,
      divergenceAdvice: () => 'lower lr',
    };
    const weightsBefore = await model.getWeights()[0].data();
    process.env.DOCONV_MEMORY_LIMIT = '64K';
    const optimizer = new SGD({ learningRate: 0.01 });
    await expect(
      trainSteps(model, optimizer, 0, { stream: [batch()], steps: 1 }, settings, kind),
    ).rejects.toThrow(
      /^a training step of tf-mnist-sample at batchSize 4 needs about .* but DOCONV_MEMORY_LIMIT allows 0\.00 GB/,
    );
    // nothing trained
    expect(await model.getWeights()[0].data()).toEqual(weightsBefore);
    delete process.env.DOCONV_MEMORY_LIMIT;

    // wasm's abort mid-step, as a layer that fails allocating would throw it
    const failing = tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: [2] }),
        new FailingLayer({}),
        tf.layers.dense({ units: 2 }),
      ],
      name: 'failing-net',
    });
    await expect(
      trainSteps(
        failing,
        optimizer,
        0,
        { stream: [{ xs: tf.zeros([3, 2]), ys: tf.oneHot([0, 1, 1], 2), size: 3 }], steps: 1 },
        settings,
        kind,
      ),
    ).rejects.toThrow(
      /^a training step of failing-net at batchSize 3 ran out of memory on backend 'cpu' \(memory access out of bounds; the RAM available now: .*\); lower batchSize/,
    );
    optimizer.dispose();
    model.dispose();
    failing.dispose();
  });

  it('recognises the failures of an allocation', () => {
    expect(isOutOfMemory(new Error('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(
      true,
    );
    expect(isOutOfMemory(new WebAssembly.RuntimeError('memory access out of bounds'))).toBe(true);
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemory(new Error('shapes differ'))).toBe(false);
  });

  it('doconv train refuses it before training, with its flags', async () => {
    process.env.DOCONV_MEMORY_LIMIT = '256K';
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'doconv-memory-')), 'run');
    const run = spawnCli([
      ...['train', '--model', 'tf-mnist-sample', '--epochs', '1', '--batch-size', '32'],
      ...['--train-limit', '64', '--test-limit', '32', '--backend', 'cpu', '--no-fold'],
      ...['--out', out],
    ]);
    delete process.env.DOCONV_MEMORY_LIMIT;
    await expectExitOne(
      run,
      /a training step of tf-mnist-sample at --batch-size 32 needs about \d+\.\d\d GB .* DOCONV_MEMORY_LIMIT allows 0\.00 GB on backend 'cpu'; lower --batch-size/,
    );
    await rm(path.dirname(out), { recursive: true, force: true });
  }, 90_000);
});

/** A layer whose forward pass fails as a wasm allocation does. */
class FailingLayer extends tf.layers.Layer {
  static className = 'FailingLayer';
  override call(): tf.Tensor {
    throw new WebAssembly.RuntimeError('memory access out of bounds');
  }
}
