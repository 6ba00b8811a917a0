import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOConv2D, DODepthwiseConv2D } from '../../src/index.js';
import { expectClose } from '../helpers/tolerance.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** K0[m, j, o] = Σ_t kernel[m + t·MN, j, o] over the whole identity tiles, written as plain loops. */
function initialKernel(
  kernel: Float32Array,
  area: number,
  dMul: number,
  inner: number,
): Float32Array {
  const out = new Float32Array(area * inner);
  for (let m = 0; m < area; m++)
    for (let t = 0; (t + 1) * area <= dMul; t++)
      for (let i = 0; i < inner; i++) out[m * inner + i] += kernel[(m + t * area) * inner + i];
  return out;
}

describe('a fresh DO layer (D = 0) is a plain conv with K0', () => {
  for (const dMul of [9, 18, 10, 22]) {
    it(`DOConv2D 3×3 dMul=${dMul}`, () => {
      const layer = new DOConv2D({ filters: 5, kernelSize: 3, dMul, padding: 'same' });
      const x = tf.randomNormal([2, 6, 7, 3]);
      const y = layer.apply(x) as tf.Tensor;
      expect(Array.from(layer.getWeights()[1].dataSync()).every((v) => v === 0)).toBe(true);
      const w = layer.getWeights()[0].dataSync() as Float32Array;
      const k0 = tf.tensor4d(initialKernel(w, 9, dMul, 3 * 5), [3, 3, 3, 5]);
      const bias = layer.getWeights()[2];
      const expected = tf.add(tf.conv2d(x as tf.Tensor4D, k0, 1, 'same'), bias);
      expectClose(y.dataSync(), expected.dataSync(), 1e-5, 'output');
      tf.dispose([x, y, k0, expected]);
    });
  }

  it('DODepthwiseConv2D 3×3 multiplier 2 with dMul=9 equals depthwiseConv2d with the reshaped kernel', () => {
    const layer = new DODepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, useBias: false });
    const x = tf.randomNormal([1, 5, 5, 3]);
    const y = layer.apply(x) as tf.Tensor;
    const k = tf.reshape(layer.getWeights()[0], [3, 3, 3, 2]) as tf.Tensor4D;
    const expected = tf.depthwiseConv2d(x as tf.Tensor4D, k, 1, 'valid');
    expectClose(y.dataSync(), expected.dataSync(), 1e-5, 'output');
  });

  it('uses glorot-uniform for W like the official Keras layer (bounded by √(6/(fanIn+fanOut)))', () => {
    const layer = new DOConv2D({ filters: 8, kernelSize: 3 });
    layer.apply(tf.zeros([1, 5, 5, 4]));
    const w = layer.getWeights()[0].dataSync();
    const limit = Math.sqrt(6 / (9 * 4 + 9 * 8));
    expect(Math.max(...Array.from(w).map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(layer.getConfig().kernelInitializer).toMatchObject({
      config: { distribution: 'uniform' },
    });
  });
});
