/**
 * TF.js's ReLU layer with maxValue 6 runs as one Relu6 kernel on the native engine
 * (src/layers/reluSix.ts): the same values and gradients as TF.js's ReLU-then-clip on cpu,
 * NaN and the bounds included; other maxValues keep TF.js's path.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import '../../src/layers/reluSix.js';
import { host, relativeError } from './helpers.js';
import { describeNative, nativeEngineForThisFile, skipReason, NATIVE_HOST } from './nativeSetup.js';

nativeEngineForThisFile();

async function layerRun(backend: string, maxValue: number) {
  await tf.setBackend(backend);
  const h = host([64, 8, 8, 4], 3);
  h.values.forEach((v, i) => (h.values[i] = 8 * v));
  h.values.set([NaN, 0, 6, -0.5, 6.5, 1e-3]);
  const x = tf.tensor(h.values, h.shape);
  const r = tf.tensor(host(h.shape, 4).values, h.shape);
  const layer = tf.layers.reLU({ maxValue });
  let y: tf.Tensor | undefined;
  const { kernelNames } = await tf.profile(() => {
    y = layer.apply(x) as tf.Tensor;
  });
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, r)))(x);
  const out = {
    y: (await y!.data()) as Float32Array,
    dx: (await dx.data()) as Float32Array,
    kernels: kernelNames,
  };
  tf.dispose([x, r, y!, dx]);
  await tf.setBackend(NATIVE_HOST);
  return out;
}

describeNative(`ReLU layer with maxValue 6 as one kernel${skipReason}`, () => {
  it('runs Relu6, with the values and gradients of TF.js’s ReLU-then-clip on cpu', async () => {
    const ours = await layerRun(NATIVE_HOST, 6);
    const tfjs = await layerRun('cpu', 6);
    expect(ours.kernels).toEqual(['Relu6']);
    expect(tfjs.kernels).toEqual(['Relu', 'ClipByValue']);
    for (const values of [ours.y, ours.dx, tfjs.dx]) expect(Number.isNaN(values[0])).toBe(true);
    expect(relativeError(ours.y.slice(1), tfjs.y.slice(1))).toBe(0);
    expect(relativeError(ours.dx.slice(1), tfjs.dx.slice(1))).toBe(0);
  });

  it('keeps TF.js’s ReLU-then-clip for another maxValue', async () => {
    const ours = await layerRun(NATIVE_HOST, 5);
    expect(ours.kernels).toEqual(['Relu', 'ClipByValue']);
  });
});
