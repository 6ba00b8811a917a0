import * as tf from '@tensorflow/tfjs';
import { DOConv2D, DODepthwiseConv2D, type DOConvBase } from '../../src/index.js';
import { doConvReference, type DOConvProblem } from './featureComposition.js';
import { pairwise } from './pairwise.js';
import { randomNormal } from './tolerance.js';

/** One layer configuration of the sweep. `groups: 'depthwise'` uses DODepthwiseConv2D. */
export interface LayerCase {
  kernel: [number, number];
  dMulChoice: 'MN' | '2MN' | 'MN+1';
  stride: number;
  dilation: number;
  padding: 'same' | 'valid';
  groups: 1 | 2 | 'inCh' | 'depthwise';
  multiplier: 1 | 2;
  useBias: boolean;
}

export const IN_CHANNELS = 4;

export function dMulOf(c: LayerCase): number {
  const area = c.kernel[0] * c.kernel[1];
  if (area === 1) return 1;
  return { MN: area, '2MN': 2 * area, 'MN+1': area + 1 }[c.dMulChoice];
}

export function caseName(c: LayerCase): string {
  return (
    `kernel=${c.kernel.join('x')} dMul=${dMulOf(c)} stride=${c.stride} dilation=${c.dilation} ` +
    `padding=${c.padding} groups=${c.groups} multiplier=${c.multiplier} bias=${c.useBias}`
  );
}

export function buildLayer(c: LayerCase): DOConvBase {
  const common = {
    kernelSize: c.kernel,
    strides: c.stride,
    dilationRate: c.dilation,
    padding: c.padding,
    dMul: dMulOf(c),
    useBias: c.useBias,
  };
  if (c.groups === 'depthwise')
    return new DODepthwiseConv2D({ ...common, depthMultiplier: c.multiplier });
  const groups = c.groups === 'inCh' ? IN_CHANNELS : c.groups;
  const filters = c.groups === 'inCh' ? IN_CHANNELS * c.multiplier : 4 * c.multiplier;
  return new DOConv2D({ ...common, filters, groups });
}

/** Random weights (D too: a test at D = 0 proves little), set on the built layer; returns the problem. */
export function randomizeLayer(
  layer: DOConvBase,
  c: LayerCase,
  xShape: [number, number, number, number],
  seed: number,
): DOConvProblem {
  const x = randomNormal(
    xShape.reduce((a, b) => a * b),
    seed,
  );
  layer.apply(tf.zeros(xShape));
  const weights = layer.weights;
  const values = weights.map((w, i) =>
    randomNormal(w.shape.reduce((a, b) => a! * b!, 1) as number, seed + 1 + i),
  );
  layer.setWeights(
    weights.map((w, i) => tf.tensor(Float32Array.from(values[i]), w.shape as number[])),
  );
  const byName = (n: string) => {
    const i = weights.findIndex((w) => w.originalName.endsWith(`/${n}`));
    return i < 0 ? null : Float64Array.from(Float32Array.from(values[i]));
  };
  const groups = c.groups === 1 || c.groups === 2 ? c.groups : IN_CHANNELS;
  const filters =
    c.groups === 'inCh' || c.groups === 'depthwise' ? IN_CHANNELS * c.multiplier : 4 * c.multiplier;
  return {
    x: Float64Array.from(Float32Array.from(x)),
    xShape,
    weight: byName('kernel') ?? byName('depthwise_kernel')!,
    d: byName('D'),
    bias: byName('bias'),
    kernelSize: c.kernel,
    dMul: dMulOf(c),
    filters,
    groups,
    strides: [c.stride, c.stride],
    dilation: [c.dilation, c.dilation],
    padding: c.padding,
  };
}

export { doConvReference };

/** The pairwise sweep of the issue: kernels, dMul, strides, dilation, padding, groups, multiplier, bias. */
export function layerCases(): LayerCase[] {
  return pairwise(
    {
      kernel: [
        [1, 1],
        [3, 3],
        [5, 5],
        [3, 1],
      ] as [number, number][],
      dMulChoice: ['MN', '2MN', 'MN+1'] as const,
      stride: [1, 2],
      dilation: [1, 2],
      padding: ['same', 'valid'] as const,
      groups: [1, 2, 'inCh', 'depthwise'] as const,
      multiplier: [1, 2] as const,
      useBias: [true, false],
    },
    (c) =>
      !(c.stride > 1 && c.dilation > 1) &&
      !(c.kernel[0] * c.kernel[1] === 1 && c.dMulChoice !== 'MN') &&
      !((c.groups === 1 || c.groups === 2) && c.multiplier === 2 && c.kernel[0] === 5),
  ) as LayerCase[];
}
