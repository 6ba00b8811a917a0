import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blockDiagonalKernel,
  composeKernel,
  diagIdentity,
  fuseBatchNorm,
  identityPointwiseKernel,
} from '../../src/index.js';
import { referenceDiag } from '../helpers/featureComposition.js';
import { expectClose, randomNormal } from '../helpers/tolerance.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('diagIdentity', () => {
  for (const [area, dMul, channels] of [
    [9, 9, 2],
    [9, 18, 3],
    [4, 7, 2],
    [1, 1, 5],
  ]) {
    it(`area=${area} dMul=${dMul} channels=${channels} matches the definition`, () => {
      expect(Array.from(diagIdentity(area, dMul, channels).dataSync())).toEqual(
        Array.from(referenceDiag(area, dMul, channels)),
      );
    });
  }
  it('rejects non-positive sizes by name', () => {
    expect(() => diagIdentity(0, 1, 1)).toThrow(/kernelArea.*0/);
    expect(() => diagIdentity(9, 9, -2)).toThrow(/inChannels.*-2/);
  });
});

/** K[m, j, o] = Σ_s D̂[m, s, c] W[s, j, o], c = ⌊o/(F/g)⌋·(C/g) + j — the formula as loops. */
function composeByLoops(
  w: Float64Array,
  d: Float64Array,
  area: number,
  dMul: number,
  C: number,
  F: number,
  g: number,
) {
  const cg = C / g;
  const k = new Float64Array(area * cg * F);
  for (let m = 0; m < area; m++)
    for (let j = 0; j < cg; j++)
      for (let o = 0; o < F; o++) {
        const c = Math.floor(o / (F / g)) * cg + j;
        let acc = 0;
        for (let s = 0; s < dMul; s++) acc += d[(m * dMul + s) * C + c] * w[(s * cg + j) * F + o];
        k[(m * cg + j) * F + o] = acc;
      }
  return k;
}

describe('composeKernel', () => {
  for (const [M, N, dMul, C, F, g] of [
    [3, 3, 9, 4, 6, 1],
    [3, 3, 10, 4, 6, 2],
    [3, 1, 4, 4, 8, 4],
    [5, 5, 25, 6, 6, 3],
  ]) {
    it(`M=${M} N=${N} dMul=${dMul} C=${C} F=${F} groups=${g}`, () => {
      const w = randomNormal(dMul * (C / g) * F, 1);
      const d = randomNormal(M * N * dMul * C, 2);
      const k = composeKernel(
        tf.tensor3d(Float32Array.from(w), [dMul, C / g, F]),
        tf.tensor3d(Float32Array.from(d), [M * N, dMul, C]),
        { kernelSize: [M, N], groups: g },
      );
      expect(k.shape).toEqual([M, N, C / g, F]);
      expectClose(k.dataSync(), composeByLoops(w, d, M * N, dMul, C, F, g), 1e-6, 'K');
    });
  }
  it('rejects a D̂ that does not fit, naming both shapes', () => {
    expect(() =>
      composeKernel(tf.zeros([9, 2, 4]) as tf.Tensor3D, tf.zeros([9, 9, 3]) as tf.Tensor3D, {
        kernelSize: [3, 3],
      }),
    ).toThrow(/\[9,9,3\].*\[9,2,4\]/);
  });
});

describe('fuseBatchNorm', () => {
  it('conv layout: K·s and β + (b − μ)·s per output channel', () => {
    const kernel = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const bn = {
      gamma: tf.tensor1d([2, 3]),
      beta: tf.tensor1d([1, -1]),
      movingMean: tf.tensor1d([0.5, 1]),
      movingVariance: tf.tensor1d([3, 8]),
      epsilon: 1,
    };
    const { kernel: k, bias: b } = fuseBatchNorm(kernel, tf.tensor1d([1, 2]), bn);
    const s = [2 / 2, 3 / 3];
    expectClose(k.dataSync(), [1 * s[0], 2 * s[1], 3 * s[0], 4 * s[1]], 1e-7, 'kernel');
    expectClose(b.dataSync(), [1 + 0.5 * s[0], -1 + 1 * s[1]], 1e-7, 'bias');
  });
  it('depthwise layout scales output c·mult + q', () => {
    const kernel = tf.ones([1, 1, 2, 2]) as tf.Tensor4D;
    const bn = {
      gamma: tf.tensor1d([1, 2, 3, 4]),
      beta: null,
      movingMean: tf.zeros([4]) as tf.Tensor1D,
      movingVariance: tf.ones([4]) as tf.Tensor1D,
      epsilon: 0,
    };
    const { kernel: k, bias: b } = fuseBatchNorm(kernel, null, bn, 'depthwise');
    expect(Array.from(k.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(b.dataSync())).toEqual([0, 0, 0, 0]);
  });
  it('a channel-count mismatch names both', () => {
    const bn = {
      gamma: null,
      beta: null,
      movingMean: tf.zeros([3]) as tf.Tensor1D,
      movingVariance: tf.ones([3]) as tf.Tensor1D,
      epsilon: 0,
    };
    expect(() => fuseBatchNorm(tf.ones([1, 1, 2, 2]) as tf.Tensor4D, null, bn)).toThrow(
      /3 channels.*2 outputs/,
    );
  });
});

describe('grouped kernels', () => {
  it('blockDiagonalKernel places group g in rows g·C/g and columns g·F/g', () => {
    const k = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]); // C/g = 1, F = 4, g = 2
    expect(Array.from(blockDiagonalKernel(k, 2).dataSync())).toEqual([1, 2, 0, 0, 0, 0, 3, 4]);
  });
  it('identityPointwiseKernel is the identity', () => {
    expect(Array.from(identityPointwiseKernel(2).dataSync())).toEqual([1, 0, 0, 1]);
  });
});
