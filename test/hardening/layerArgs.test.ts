/**
 * Bad layer args: each refused at construction (or build, for what needs the input) with an error
 * naming the argument and the value as given — NaN and Infinity as such, not as JSON's null.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOConv2D } from '../../src/layers/DOConv2D.js';
import { DODepthwiseConv2D } from '../../src/layers/DODepthwiseConv2D.js';
import { formatValue } from '../../src/util/formatValue.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('formatValue', () => {
  it('shows values as a user typed them', () => {
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(-Infinity)).toBe('-Infinity');
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue('yes')).toBe('"yes"');
    expect(formatValue([1, NaN])).toBe('[1,NaN]');
    expect(formatValue({ a: Infinity })).toBe('{"a":"Infinity"}');
    expect(formatValue(new Map())).toBe('an object (Map)');
    expect(formatValue(() => 1)).toMatch(/^a function/);
  });
});

type Args = Record<string, unknown>;
const conv = (a: unknown) => new DOConv2D(a as ConstructorParameters<typeof DOConv2D>[0]);
const depthwise = (a: unknown) =>
  new DODepthwiseConv2D(a as ConstructorParameters<typeof DODepthwiseConv2D>[0]);
const base: Args = { filters: 4, kernelSize: 3 };

const refused: Array<[string, () => unknown, RegExp]> = [
  ['no args', () => conv(undefined), /DOConv2D: args must be an object .* got undefined/],
  ['null args', () => depthwise(null), /DODepthwiseConv2D: args must be an object .* got null/],
  ['args an array', () => conv([3]), /args must be an object .* got \[3\]/],
  [
    'useBias "yes"',
    () => conv({ ...base, useBias: 'yes' }),
    /useBias must be true or false, got "yes"/,
  ],
  [
    'useBias 1',
    () => depthwise({ kernelSize: 3, useBias: 1 }),
    /useBias must be true or false, got 1/,
  ],
  [
    'filters NaN',
    () => conv({ ...base, filters: NaN }),
    /filters to be a positive integer, but got NaN/,
  ],
  ['filters Infinity', () => conv({ ...base, filters: Infinity }), /filters .* got Infinity/],
  [
    'filters 2.5',
    () => conv({ ...base, filters: 2.5 }),
    /filters to be a positive integer, but got 2\.5/,
  ],
  ['kernelSize missing', () => conv({ filters: 4 }), /kernelSize .* got undefined/],
  ['kernelSize 0', () => conv({ filters: 4, kernelSize: 0 }), /kernelSize .* got 0/],
  [
    'kernelSize [3, NaN]',
    () => conv({ filters: 4, kernelSize: [3, NaN] }),
    /kernelSize .* got \[3,NaN\]/,
  ],
  ['strides -1', () => conv({ ...base, strides: -1 }), /strides .* got -1/],
  [
    'dMul 1e6',
    () => conv({ ...base, dMul: 1e6 }),
    /dMul must be at most 16·M·N = 144 .* got 1000000/,
  ],
  ['dMul NaN', () => conv({ ...base, dMul: NaN }), /dMul .* got NaN/],
  ['dMul below M·N', () => conv({ ...base, dMul: 4 }), /at least the kernel area M·N = 9 .* got 4/],
  [
    'padding "full"',
    () => conv({ ...base, padding: 'full' }),
    /padding must be 'same' or 'valid', got "full"/,
  ],
  ['groups 0', () => conv({ ...base, groups: 0 }), /groups must be a positive integer, got 0/],
  [
    'groups not dividing filters',
    () => conv({ ...base, groups: 3 }),
    /filters \(4\) must be divisible by groups \(3\)/,
  ],
  [
    'groups on the depthwise layer',
    () => depthwise({ kernelSize: 3, groups: 2 }),
    /DODepthwiseConv2D has no 'groups' .* got groups 2/,
  ],
  [
    'depthMultiplier -2',
    () => depthwise({ kernelSize: 3, depthMultiplier: -2 }),
    /depthMultiplier must be a positive integer, got -2/,
  ],
  [
    'channelsFirst',
    () => conv({ ...base, dataFormat: 'channelsFirst' }),
    /dataFormat must be 'channelsLast'/,
  ],
  [
    'strides with dilation',
    () => conv({ ...base, strides: 2, dilationRate: 2 }),
    /cannot be combined with dilationRate/,
  ],
  [
    'composition "fast"',
    () => conv({ ...base, composition: 'fast' }),
    /composition must be .* got "fast"/,
  ],
];

describe('DO layer args', () => {
  for (const [label, make, message] of refused) {
    it(`refuses ${label}`, () => {
      expect(make).toThrow(message);
    });
  }

  it('refuses groups that do not divide the input channels at build, naming the layer', () => {
    const layer = conv({ ...base, groups: 2, name: 'g' });
    expect(() => layer.apply(tf.input({ shape: [5, 5, 3] }))).toThrow(
      /g: groups \(2\) must divide the input channels \(3\)/,
    );
  });

  it('accepts the edge of the dMul range', () => {
    expect(conv({ ...base, dMul: 144 }).dMul).toBe(144);
  });
});

describe('ONNX export of degenerate shapes', () => {
  it('refuses a pooling window larger than its input (TF.js: empty output), naming the layer', async () => {
    const { exportOnnx } = await import('../../src/interop/onnx/exportOnnx.js');
    const model = tf.sequential({
      layers: [tf.layers.maxPooling2d({ poolSize: 4, inputShape: [3, 3, 2], name: 'big_pool' })],
    });
    expect(model.outputs[0].shape).toEqual([null, 0, 0, 2]);
    expect(() => exportOnnx(model)).toThrow(/'big_pool'.*produces an empty output \[.*0,0,2\]/);
    model.dispose();
  });
});
