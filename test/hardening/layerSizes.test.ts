/**
 * doconv's own layers refuse sizes no machine holds when they are constructed, naming the layer and
 * the arg (issue #23, class 10): `filters: 1e9` ended in "Invalid typed array length" when the
 * layer was built, and `filters: 1e300` (an integer to JavaScript) was accepted. A size within the
 * cap at construction is checked again with the real input channels before build() allocates.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { doConv1d, doConv2d, doDepthwiseConv2d, doSeparableConv2d } from '../../src/index.js';
import { DilatedConv2D } from '../../src/layers/DilatedConv2D.js';
import { DecodeLimitError, MAX_DECODED_BYTES_ENV } from '../../src/util/sizeLimit.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  delete process.env[MAX_DECODED_BYTES_ENV];
});

describe('giant DO layers are refused at construction', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'DOConv2D filters 1e9',
      () => doConv2d({ filters: 1e9, kernelSize: 3, name: 'big' }),
      /^DOConv2D 'big': weight 'kernel' \[9,1,1000000000\] \(filters 1000000000, kernelSize \[3,3\], dMul 9, input channels 1\) = 9000000000 float32 values \(36000000000 bytes\), over the size limit of 1073741824 bytes \(raise it with DOCONV_MAX_DECODED_BYTES/,
    ],
    [
      'DOConv1D filters 2e9',
      () => doConv1d({ filters: 2e9, kernelSize: 3, name: 'big1' }),
      /^DOConv1D 'big1': weight 'kernel' \[3,1,2000000000\]/,
    ],
    [
      'DODepthwiseConv2D depthMultiplier 1e9',
      () => doDepthwiseConv2d({ kernelSize: 3, depthMultiplier: 1e9, name: 'dw' }),
      /^DODepthwiseConv2D 'dw': weight 'depthwise_kernel' \[9,1,1000000000\]/,
    ],
    [
      'DilatedConv2D filters 1e9',
      () => new DilatedConv2D({ filters: 1e9, kernelSize: 3, dilationRate: 2, name: 'dil' }),
      /^DilatedConv2D 'dil': weight 'kernel' \[3,3,1,1000000000\]/,
    ],
    [
      'DOSeparableConv2D filters 1e9 × depthMultiplier 4',
      () => doSeparableConv2d({ kernelSize: 3, filters: 1e9, depthMultiplier: 4, name: 'sep' }),
      /^DOSeparableConv2D 'sep': weight 'pointwise_kernel' \[1,1,4,1000000000\]/,
    ],
  ];
  for (const [label, make, message] of cases) {
    it(`refuses ${label}, naming the layer, the weight and the args`, () => {
      expect(make).toThrow(DecodeLimitError);
      expect(make).toThrow(message);
    });
  }

  it.each([
    ['filters', { filters: 1e300, kernelSize: 3 }],
    ['filters', { filters: 2 ** 53, kernelSize: 3 }],
    ['kernelSize', { filters: 2, kernelSize: 1e300 }],
    ['kernelSize', { filters: 2, kernelSize: [3, 2 ** 60] }],
  ])('refuses %s that is no safe integer', (arg, args) => {
    expect(() => doConv2d(args)).toThrow(new RegExp(`^${arg} must be a positive integer`));
  });

  it('depthMultiplier 1e300 is refused as no integer', () => {
    expect(() => doDepthwiseConv2d({ kernelSize: 3, depthMultiplier: 1e300 })).toThrow(
      /^depthMultiplier must be a positive integer, got 1e\+300/,
    );
  });
});

describe('build() checks again with the input channels', () => {
  it('refuses a layer that fits one channel but not the input, before allocating', () => {
    process.env[MAX_DECODED_BYTES_ENV] = String(4 * 10_000);
    // W [9, 1, 1000] = 9 000 values: fits at construction; with 8 channels, 72 000 do not.
    const layer = doConv2d({ filters: 1000, kernelSize: 3, name: 'wide' });
    const before = tf.memory().numTensors;
    expect(() => layer.apply(tf.input({ shape: [6, 6, 8] }))).toThrow(
      /^DOConv2D 'wide': weight 'kernel' \[9,8,1000\] \(filters 1000, kernelSize \[3,3\], dMul 9, input channels 8\) = 72000 float32 values/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the same layer builds under a raised cap and computes', () => {
    process.env[MAX_DECODED_BYTES_ENV] = '1M';
    const layer = doConv2d({ filters: 1000, kernelSize: 3, name: 'wide2' });
    const x = tf.ones([1, 3, 3, 8]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 1, 1, 1000]);
    tf.dispose([x, y]);
    layer.dispose();
  });
});
