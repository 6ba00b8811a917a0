/**
 * DOConv1D and DOSeparableConv2D against plain-loop references of the definition (featureComposition:
 * a 1D DO-Conv is the 2D one on a 1-pixel-high image with a 1×k kernel; a separable one is the
 * DO-DConv reference followed by a plain pointwise loop), values and gradients, and their folds.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DOConv1D,
  DOSeparableConv2D,
  doConv1d,
  doSeparableConv2d,
  foldModel,
} from '../../src/index.js';
import { doConvReference, type DOConvProblem } from '../helpers/featureComposition.js';
import { expectClose, randomNormal } from '../helpers/tolerance.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Random values for every weight of a built layer (D too), set on it; returns them by short name. */
function randomize(layer: tf.layers.Layer, seed: number): Record<string, Float64Array> {
  const values: Record<string, Float64Array> = {};
  layer.setWeights(
    layer.weights.map((w, i) => {
      const shape = w.shape as number[];
      const v = Float32Array.from(
        randomNormal(
          shape.reduce((a, b) => a * b, 1),
          seed + i,
        ),
      );
      values[w.originalName.split('/').pop()!] = Float64Array.from(v);
      return tf.tensor(v, shape);
    }),
  );
  return values;
}

/** y and the gradients of Σ y·G for x and every weight, from TF.js. */
function layerGrads(layer: tf.layers.Layer, x: tf.Tensor, g: tf.Tensor) {
  const vars = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const f = () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, g)) as tf.Scalar;
  const { grads } = tf.variableGrads(f, vars);
  const gx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi) as tf.Tensor, g)))(x);
  const byName: Record<string, Float32Array> = {};
  layer.trainableWeights.forEach((w, i) => {
    byName[w.originalName.split('/').pop()!] = grads[vars[i].name].dataSync() as Float32Array;
  });
  return { y: (layer.apply(x) as tf.Tensor).dataSync(), gx: gx.dataSync(), byName };
}

const conv1dCases = [
  { k: 3, dMul: undefined, stride: 1, dilation: 1, padding: 'same', bias: true },
  { k: 5, dMul: 7, stride: 2, dilation: 1, padding: 'valid', bias: false },
  { k: 3, dMul: 6, stride: 1, dilation: 2, padding: 'same', bias: true },
  { k: 2, dMul: undefined, stride: 1, dilation: 3, padding: 'valid', bias: true },
  { k: 1, dMul: undefined, stride: 2, dilation: 1, padding: 'same', bias: true },
] as const;

describe('DOConv1D', () => {
  for (const c of conv1dCases) {
    it(`k=${c.k} dMul=${c.dMul ?? 'k'} stride=${c.stride} dilation=${c.dilation} ${c.padding} bias=${c.bias}: values and gradients = the definition`, () => {
      const [B, L, C, F] = [2, 9, 3, 4];
      const layer = doConv1d({
        filters: F,
        kernelSize: c.k,
        dMul: c.dMul,
        strides: c.stride,
        dilationRate: c.dilation,
        padding: c.padding,
        useBias: c.bias,
      });
      const xv = Float32Array.from(randomNormal(B * L * C, 1));
      const x = tf.tensor3d(xv, [B, L, C]);
      layer.apply(x);
      const w = randomize(layer, 10);
      const problem: DOConvProblem = {
        x: Float64Array.from(xv),
        xShape: [B, 1, L, C],
        weight: w.kernel,
        d: w.D ?? null,
        bias: w.bias ?? null,
        kernelSize: [1, c.k],
        dMul: layer.dMul,
        filters: F,
        groups: 1,
        strides: [1, c.stride],
        dilation: [1, c.dilation],
        padding: c.padding,
      };
      const outLength = doConvReference(problem).yShape[2];
      const g = Float32Array.from(randomNormal(B * outLength * F, 3));
      const ref = doConvReference(problem, Float64Array.from(g));
      const got = layerGrads(layer, x, tf.tensor3d(g, [B, outLength, F]));
      expect(layer.computeOutputShape([B, L, C])).toEqual([B, outLength, F]);
      expectClose(got.y, ref.y, 1e-5, 'y');
      expectClose(got.gx, ref.grads!.x, 1e-5, 'dx');
      expectClose(got.byName.kernel, ref.grads!.weight, 1e-5, 'dW');
      if (c.k > 1) expectClose(got.byName.D, ref.grads!.d!, 1e-5, 'dD');
      if (c.bias) expectClose(got.byName.bias, ref.grads!.bias!, 1e-5, 'db');
    });
  }

  it('folds to a Conv1D with the same outputs, and round-trips its config (Keras D_mul too)', () => {
    const model = tf.sequential({
      layers: [
        doConv1d({
          filters: 4,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          inputShape: [10, 3],
          activation: 'relu',
          name: 'c1',
        }),
      ],
    });
    randomize(model.layers[0], 4);
    const folded = foldModel(model);
    expect(folded.layers[0].getClassName()).toBe('Conv1D');
    expect(folded.layers[0].getWeights().map((t) => t.shape)).toEqual([[3, 3, 4], [4]]);
    const x = tf.randomNormal([2, 10, 3], 0, 1, 'float32', 2);
    expectClose(
      (folded.predict(x) as tf.Tensor).dataSync(),
      (model.predict(x) as tf.Tensor).dataSync(),
      1e-5,
      'folded',
    );
    const config = model.layers[0].getConfig();
    expect(config).toMatchObject({ kernelSize: [3], dilationRate: [2], dMul: 3, filters: 4 });
    const again = DOConv1D.fromConfig(DOConv1D, config) as DOConv1D;
    expect(again.getConfig()).toEqual(config);
    const keras = DOConv1D.fromConfig(DOConv1D, {
      ...config,
      dMul: null,
      DMul: 5,
    }) as DOConv1D;
    expect(keras.dMul).toBe(5);
  });

  it('refuses what it cannot compute, naming the argument and value', () => {
    expect(() => doConv1d({ filters: 2, kernelSize: 3, padding: 'causal' })).toThrow(
      /padding must be 'same' or 'valid', got "causal"/,
    );
    expect(() => doConv1d({ filters: 2, kernelSize: [3, 3] as unknown as number })).toThrow(
      /kernelSize must be a positive integer or a list of one, got \[3,3\]/,
    );
    expect(() => doConv1d({ filters: 2, kernelSize: 3, groups: 2 } as never)).toThrow(
      /groups must be 1.*got 2/,
    );
    const layer = doConv1d({ filters: 2, kernelSize: 3 });
    expect(() => layer.apply(tf.zeros([1, 4, 4, 2]))).toThrow(
      /expects 3D input \[batch, length, channels\], got \[1,4,4,2\]/,
    );
  });
});

describe('DOSeparableConv2D', () => {
  const cases = [
    { k: 3, mult: 1, stride: 1, dilation: 1, padding: 'same', bias: true },
    { k: 3, mult: 2, stride: 2, dilation: 1, padding: 'valid', bias: false },
    { k: 2, mult: 2, stride: 1, dilation: 2, padding: 'same', bias: true },
  ] as const;
  for (const c of cases) {
    it(`k=${c.k} mult=${c.mult} stride=${c.stride} dilation=${c.dilation} ${c.padding}: values = DO-DConv then pointwise`, () => {
      const [B, H, W, C, F] = [2, 6, 5, 3, 4];
      const layer = doSeparableConv2d({
        filters: F,
        kernelSize: c.k,
        depthMultiplier: c.mult,
        strides: c.stride,
        dilationRate: c.dilation,
        padding: c.padding,
        useBias: c.bias,
        activation: 'relu',
      });
      const xv = Float32Array.from(randomNormal(B * H * W * C, 7));
      const x = tf.tensor4d(xv, [B, H, W, C]);
      layer.apply(x);
      const w = randomize(layer, 20);
      const depthwise = doConvReference({
        x: Float64Array.from(xv),
        xShape: [B, H, W, C],
        weight: w.depthwise_kernel, // [dMul, C, mult] = [dMul, 1, C·mult] in memory
        d: w.D,
        bias: null,
        kernelSize: [c.k, c.k],
        dMul: layer.dMul,
        filters: C * c.mult,
        groups: C,
        strides: [c.stride, c.stride],
        dilation: [c.dilation, c.dilation],
        padding: c.padding,
      });
      const [, oh, ow, mid] = depthwise.yShape;
      const expected = new Float64Array(B * oh * ow * F);
      for (let p = 0; p < B * oh * ow; p++)
        for (let o = 0; o < F; o++) {
          let acc = c.bias ? w.bias[o] : 0;
          for (let i = 0; i < mid; i++)
            acc += depthwise.y[p * mid + i] * w.pointwise_kernel[i * F + o];
          expected[p * F + o] = Math.max(acc, 0);
        }
      const y = layer.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([B, oh, ow, F]);
      expectClose(y.dataSync(), expected, 1e-5, 'y');
      expect(layer.weights.map((v) => v.originalName.split('/').pop())).toEqual([
        'depthwise_kernel',
        'D',
        'pointwise_kernel',
        ...(c.bias ? ['bias'] : []),
      ]);
    });
  }

  it('folds to a SeparableConv2D with the same outputs; trains D', async () => {
    const model = tf.sequential({
      layers: [
        doSeparableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 2, inputShape: [6, 6, 2] }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2 }),
      ],
    });
    randomize(model.layers[0], 8);
    // Mean squared error on a linear output: a saturated softmax could give D an exactly zero gradient.
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
    const d0 = model.layers[0].getWeights()[1].dataSync().slice();
    await model.fit(
      tf.randomNormal([4, 6, 6, 2], 0, 1, 'float32', 5),
      tf.randomNormal([4, 2], 0, 1, 'float32', 6),
      { epochs: 1, verbose: 0 },
    );
    expect(Array.from(model.layers[0].getWeights()[1].dataSync())).not.toEqual(Array.from(d0));
    const folded = foldModel(model);
    expect(folded.layers[0].getClassName()).toBe('SeparableConv2D');
    expect(folded.layers[0].getWeights().map((t) => t.shape)).toEqual([
      [3, 3, 2, 2],
      [1, 1, 4, 3],
      [3],
    ]);
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 3);
    expectClose(
      (folded.predict(x) as tf.Tensor).dataSync(),
      (model.predict(x) as tf.Tensor).dataSync(),
      1e-5,
      'folded',
    );
    const config = model.layers[0].getConfig();
    expect(config.depthMultiplier).toBe(2);
    const again = DOSeparableConv2D.fromConfig(DOSeparableConv2D, config) as DOSeparableConv2D;
    expect(again.getConfig()).toEqual(config);
  });
});
