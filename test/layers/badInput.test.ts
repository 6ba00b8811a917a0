import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DOConv2D, DODepthwiseConv2D } from '../../src/index.js';

describe('bad arguments fail with the argument and the value', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['dMul < M·N', () => new DOConv2D({ filters: 4, kernelSize: 3, dMul: 8 }), /dMul.*M·N = 9.*8/],
    [
      'dMul ≠ 1 for 1×1',
      () => new DOConv2D({ filters: 4, kernelSize: 1, dMul: 2 }),
      /dMul must be 1.*2/,
    ],
    [
      'dMul not an integer',
      () => new DOConv2D({ filters: 4, kernelSize: 3, dMul: 9.5 }),
      /dMul.*9\.5/,
    ],
    [
      'DMul and D_mul disagree',
      () => new DOConv2D({ filters: 4, kernelSize: 3, dMul: 9, D_mul: 10 } as never),
      /twice.*9.*10/,
    ],
    ['kernelSize 0', () => new DOConv2D({ filters: 4, kernelSize: 0 }), /kernelSize.*0/],
    [
      'kernelSize negative pair',
      () => new DOConv2D({ filters: 4, kernelSize: [3, -1] }),
      /kernelSize.*-1/,
    ],
    [
      'groups not dividing filters',
      () => new DOConv2D({ filters: 5, kernelSize: 3, groups: 2 }),
      /filters \(5\).*groups \(2\)/,
    ],
    ['groups 0', () => new DOConv2D({ filters: 4, kernelSize: 3, groups: 0 }), /groups.*0/],
    [
      'strides with dilation',
      () => new DOConv2D({ filters: 4, kernelSize: 3, strides: 2, dilationRate: 2 }),
      /strides.*dilationRate/,
    ],
    [
      'channelsFirst',
      () => new DOConv2D({ filters: 4, kernelSize: 3, dataFormat: 'channelsFirst' }),
      /dataFormat.*channelsFirst/,
    ],
    [
      'padding causal',
      () => new DOConv2D({ filters: 4, kernelSize: 3, padding: 'causal' as never }),
      /padding.*causal/,
    ],
    [
      'depthMultiplier 0',
      () => new DODepthwiseConv2D({ kernelSize: 3, depthMultiplier: 0 }),
      /depthMultiplier.*0/,
    ],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  it('groups not dividing the input channels fails at build, naming both', () => {
    const layer = new DOConv2D({ filters: 4, kernelSize: 3, groups: 2 });
    expect(() => layer.apply(tf.zeros([1, 5, 5, 3]))).toThrow(/groups \(2\).*input channels \(3\)/);
  });

  it('setWeights with a wrong shape names the weight and both shapes, and writes nothing', () => {
    const layer = new DOConv2D({ filters: 4, kernelSize: 3 });
    layer.apply(tf.zeros([1, 5, 5, 2]));
    const before = layer.getWeights().map((w) => Array.from(w.dataSync()));
    const bad = [tf.ones([9, 2, 4]), tf.ones([9, 9, 3]), tf.ones([4])];
    expect(() => layer.setWeights(bad)).toThrow(/'D' has shape \[9,9,2\], got \[9,9,3\]/);
    expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(() => layer.setWeights([tf.ones([9, 2, 4])])).toThrow(
      /expected 3 tensors.*kernel, D, bias.*got 1/,
    );
  });

  it('non-4D input fails naming the shape', () => {
    const layer = new DOConv2D({ filters: 4, kernelSize: 3 });
    expect(() => layer.apply(tf.zeros([5, 5, 2]))).toThrow(/4D input.*\[5,5,2\]/);
  });
});
