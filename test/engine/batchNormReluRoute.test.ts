/**
 * The BatchNorm+ReLU fusion in training (layers/batchNormRelu.ts): zoo nets train to the same
 * losses, weights and moving statistics with it as without it; it fires through model.apply,
 * trainOnBatch and nested models, and never where BatchNorm's output goes anywhere but one ReLU
 * (a residual Add beside the ReLU, a model output, a BatchNorm called by hand) — those match the
 * cpu backend, and the by-hand call returns BatchNorm's own output; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import '../../src/layers/batchNormTraining.js';
import { buildModel, type ZooModelName } from '../../src/models/zoo.js';
import {
  BATCH_NORM_RELU_TRAINING,
  BATCH_NORM_TRAINING,
} from '../../src/util/batchNormTrainingOp.js';
import { expectMatchesCpu, withoutKernel } from './fusionRoute.js';
import { host, relativeError } from './helpers.js';
import { describeNative, nativeEngineForThisFile, skipReason } from './nativeSetup.js';

nativeEngineForThisFile();

const FUSED = BATCH_NORM_RELU_TRAINING;

const withoutFusion = <T>(f: () => Promise<T>) => withoutKernel(FUSED, f);
const matchesCpu = (make: () => tf.LayersModel) =>
  expectMatchesCpu(make, { outputs: 2e-5, grads: 5e-5 });

interface Trained {
  losses: number[];
  weights: Float32Array[];
  kernels: string[];
}

/** `steps` SGD steps of zoo net `name` on fixed batches (mean squared error on its logits). */
async function trainZoo(name: ZooModelName, steps: number, batch: number): Promise<Trained> {
  const model = buildModel(name, { conv: 'doconv', inputShape: [8, 8, 3], numClasses: 4, seed: 3 });
  const x = tf.tensor(host([batch, 8, 8, 3], 5).values, [batch, 8, 8, 3]);
  const y = tf.tensor(host([batch, 4], 6).values, [batch, 4]);
  const optimizer = tf.train.sgd(0.05);
  const losses: number[] = [];
  const step = () =>
    tf.tidy(() => {
      const loss = optimizer.minimize(
        () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor),
        true,
      )!;
      losses.push(loss.dataSync()[0]);
    });
  const { kernelNames } = await tf.profile(step);
  const before = tf.memory().numTensors;
  for (let i = 1; i < steps; i++) step();
  expect(tf.memory().numTensors, 'tensors after the steps').toBe(before);
  const weights = await Promise.all(
    model.getWeights().map((w) => w.data() as Promise<Float32Array>),
  );
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
  return { losses, weights, kernels: kernelNames };
}

/** A tiny graph: conv → BatchNorm → ReLU, and what `tail` adds after BatchNorm and ReLU. */
function smallModel(
  tail: (bn: tf.SymbolicTensor, relu: tf.SymbolicTensor) => tf.SymbolicTensor[],
  relu: () => tf.layers.Layer = () => tf.layers.reLU(),
): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  const conv = tf.layers.conv2d({
    filters: 5,
    kernelSize: 3,
    padding: 'same',
    useBias: false, // BatchNorm cancels it: its gradient is rounding noise
    kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
  });
  const bn = tf.layers
    .batchNormalization({ momentum: 0.9, epsilon: 1e-5 })
    .apply(conv.apply(input)) as tf.SymbolicTensor;
  const r = relu().apply(bn) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tail(bn, r) });
}

describeNative(`BatchNorm+ReLU fused in training${skipReason}`, () => {
  it.each([['resnet-20'], ['mobilenet-v2']] as const)(
    '%s trains to the same losses, weights and moving statistics fused as unfused',
    async (name) => {
      const fused = await trainZoo(name, 3, 4);
      const unfused = await withoutFusion(() => trainZoo(name, 3, 4));
      expect(fused.kernels).toContain(FUSED);
      expect(unfused.kernels).not.toContain(FUSED);
      expect(
        relativeError(Float32Array.from(fused.losses), Float32Array.from(unfused.losses)),
      ).toBeLessThan(1e-5);
      expect(fused.weights.length).toBe(unfused.weights.length);
      fused.weights.forEach((w, i) =>
        expect(relativeError(w, unfused.weights[i]), `weight ${i}`).toBeLessThan(1e-5),
      );
    },
  );

  it('fuses conv → BatchNorm → ReLU / ReLU6 / Activation relu, as cpu computes them', async () => {
    for (const relu of [
      () => tf.layers.reLU(),
      () => tf.layers.reLU({ maxValue: 6 }),
      () => tf.layers.activation({ activation: 'relu' }),
      () => tf.layers.activation({ activation: 'relu6' }),
    ]) {
      const ours = await matchesCpu(() => smallModel((_, r) => [r], relu));
      expect(ours.kernels).toContain(FUSED);
      expect(ours.kernels).not.toContain('Relu');
      expect(ours.kernels).not.toContain('Relu6');
    }
  });

  it('does not fuse where BatchNorm’s output also goes elsewhere (an Add, a model output)', async () => {
    const withAdd = await matchesCpu(() =>
      smallModel((bn, r) => [tf.layers.add().apply([bn, r]) as tf.SymbolicTensor]),
    );
    const asOutput = await matchesCpu(() => smallModel((bn, r) => [bn, r]));
    for (const run of [withAdd, asOutput]) {
      expect(run.kernels).not.toContain(FUSED);
      expect(run.kernels).toContain(BATCH_NORM_TRAINING);
    }
    expect(asOutput.outputs[0].some((v) => v < 0)).toBe(true); // BatchNorm's own output
  });

  it('fuses through trainOnBatch and a nested model; a BatchNorm called by hand is not fused', async () => {
    const inner = smallModel((_, r) => [r]);
    const input = tf.input({ shape: [6, 6, 3] });
    const flat = tf.layers.flatten().apply(inner.apply(input) as tf.SymbolicTensor);
    const outer = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(flat) as tf.SymbolicTensor,
    });
    outer.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
    const x = tf.tensor(host([4, 6, 6, 3], 9).values, [4, 6, 6, 3]);
    const y = tf.zeros([4, 2]);
    await outer.trainOnBatch(x, y);
    const before = tf.memory().numTensors;
    const { kernelNames } = await tf.profile(() => outer.trainOnBatch(x, y));
    expect(kernelNames).toContain(FUSED);
    expect(tf.memory().numTensors).toBe(before);
    // The same BatchNorm layer, called by hand: its own output (negative values), not relu's.
    const bn = inner.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
    const features = tf.randomNormal([4, 6, 6, 5]);
    let z: tf.Tensor | undefined;
    const byHand = await tf.profile(() => {
      z = bn.apply(features, { training: true }) as tf.Tensor;
    });
    expect(byHand.kernelNames).toContain(BATCH_NORM_TRAINING);
    expect(byHand.kernelNames).not.toContain(FUSED);
    expect((await z!.data()).some((v) => v < 0)).toBe(true);
    tf.dispose([x, y, features, z!]);
    outer.dispose();
  });
});
