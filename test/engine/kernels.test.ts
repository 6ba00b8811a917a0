/**
 * Each doconv wasm kernel against the cpu backend's kernel on a parameter sweep.
 * Dilated cases: TF.js's own backprop kernels ignore dilations, so the reference is the cpu kernel
 * on the zero-stuffed filter (a dilated conv is a dense conv with that filter).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './wasmSetup.js';
import { TOL, cases } from './convSweep.js';
import {
  Shape4,
  convOutShape,
  dilateFilter,
  host,
  relativeError,
  runKernelOn,
  undilateFilter,
} from './helpers.js';

// Ci < Co and Ci > Co; and Ci = 1, which takes the depthwise route.
for (const [ci, co] of [
  [3, 4],
  [5, 2],
  [1, 3],
])
  describe(`Conv2DBackpropFilter (wasm) matches cpu, ${ci}→${co} channels`, () => {
    it.each(cases(ci).map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const filterShape: Shape4 = [c.k[0], c.k[1], ci, co];
      const effShape: Shape4 = [(c.k[0] - 1) * c.d[0] + 1, (c.k[1] - 1) * c.d[1] + 1, ci, co];
      const dyShape = convOutShape(c.xShape, filterShape, c.s, c.d, c.pad, false);
      const x = host(c.xShape, 1);
      const dy = host(dyShape, 2);
      const common = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      const got = await runKernelOn(
        'wasm',
        'Conv2DBackpropFilter',
        { x, dy },
        { ...common, filterShape, dilations: c.d },
      );
      const ref = await runKernelOn(
        'cpu',
        'Conv2DBackpropFilter',
        { x, dy },
        { ...common, filterShape: effShape },
      );
      const want = undilateFilter(ref, c.k[0], c.k[1], c.d[0], c.d[1]);
      expect(got.shape).toEqual(filterShape);
      expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
    });
  });

describe('Conv2DBackpropInput (wasm) matches cpu', () => {
  const [ci, co] = [3, 4];
  it.each(cases(ci).map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const filter = host([c.k[0], c.k[1], ci, co], 3);
    const dense = dilateFilter(filter, c.d[0], c.d[1]);
    const dyShape = convOutShape(c.xShape, filter.shape as Shape4, c.s, c.d, c.pad, false);
    const dy = host(dyShape, 4);
    const common = {
      strides: c.s,
      pad: c.pad,
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
      inputShape: c.xShape,
    };
    const got = await runKernelOn(
      'wasm',
      'Conv2DBackpropInput',
      { dy, filter },
      { ...common, dilations: c.d },
    );
    const want = await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter: dense }, common);
    expect(got.shape).toEqual(c.xShape);
    expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
  });
});

for (const m of [1, 2]) {
  describe(`DepthwiseConv2dNativeBackpropFilter (wasm) matches cpu, multiplier ${m}`, () => {
    const c0 = 3;
    it.each(cases(c0).map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const filterShape: Shape4 = [c.k[0], c.k[1], c0, m];
      const effShape: Shape4 = [(c.k[0] - 1) * c.d[0] + 1, (c.k[1] - 1) * c.d[1] + 1, c0, m];
      const dyShape = convOutShape(c.xShape, filterShape, c.s, c.d, c.pad, true);
      const x = host(c.xShape, 5);
      const dy = host(dyShape, 6);
      const common = { strides: c.s, pad: c.pad, dimRoundingMode: undefined };
      const got = await runKernelOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        { ...common, dilations: c.d, filterShape },
      );
      const ref = await runKernelOn(
        'cpu',
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        { ...common, dilations: [1, 1], filterShape: effShape },
      );
      const want = undilateFilter(ref, c.k[0], c.k[1], c.d[0], c.d[1]);
      expect(got.shape).toEqual(filterShape);
      expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
    });
  });

  describe(`DepthwiseConv2dNativeBackpropInput (wasm) matches cpu, multiplier ${m}`, () => {
    const c0 = 3;
    it.each(cases(c0).map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const filter = host([c.k[0], c.k[1], c0, m], 7);
      const dense = dilateFilter(filter, c.d[0], c.d[1]);
      const dyShape = convOutShape(c.xShape, filter.shape as Shape4, c.s, c.d, c.pad, true);
      const dy = host(dyShape, 8);
      const common = { strides: c.s, pad: c.pad, dimRoundingMode: undefined, inputShape: c.xShape };
      const got = await runKernelOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter },
        { ...common, dilations: c.d },
      );
      const want = await runKernelOn(
        'cpu',
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: dense },
        { ...common, dilations: [1, 1] },
      );
      expect(got.shape).toEqual(c.xShape);
      expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
    });
  });
}

describe('errors name the argument and value', () => {
  it('stride and dilation both > 1 is refused', async () => {
    await expect(
      runKernelOn(
        'wasm',
        'Conv2DBackpropInput',
        { dy: host([1, 2, 2, 2], 1), filter: host([3, 3, 2, 2], 2) },
        {
          strides: [2, 2],
          dilations: [2, 2],
          pad: 'same',
          dataFormat: 'NHWC',
          inputShape: [1, 4, 4, 2],
        },
      ),
    ).rejects.toThrow(/strides \[2,2\] and dilations \[2,2\]/);
  });

  it('NCHW is refused with the value', async () => {
    await expect(
      runKernelOn(
        'wasm',
        'Conv2DBackpropFilter',
        { x: host([1, 2, 4, 4], 1), dy: host([1, 2, 4, 4], 2) },
        {
          strides: 1,
          pad: 'same',
          dataFormat: 'NCHW',
          filterShape: [3, 3, 2, 2],
        },
      ),
    ).rejects.toThrow(/dataFormat must be 'NHWC', got "NCHW"/);
  });
});

describe('no leaked backend data', () => {
  it('each kernel frees its intermediates', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const x = tf.tensor(host([2, 8, 8, 3], 1).values, [2, 8, 8, 3]) as tf.Tensor4D;
    const f = tf.tensor(host([3, 3, 3, 4], 2).values, [3, 3, 3, 4]) as tf.Tensor4D;
    const fd = tf.tensor(host([3, 3, 3, 2], 3).values, [3, 3, 3, 2]) as tf.Tensor4D;
    const before = backend.numDataIds();
    for (const s of [1, 2] as const) {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.add(
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, 'same').sum(),
          tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, s, 'same').sum(),
        ),
      );
      tf.dispose(g([x, f, fd]));
    }
    expect(backend.numDataIds()).toBe(before);
    tf.dispose([x, f, fd]);
  });
});
