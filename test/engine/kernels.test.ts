/**
 * Each doconv wasm kernel against the cpu backend's kernel on the conv sweep (./convSweep.ts, the
 * same code the native engine's kernels run through in nativeKernels.test.ts), then its errors and
 * its backend data.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './wasmSetup.js';
import { sweepConvKernels } from './convSweep.js';
import { host, runKernelOn } from './helpers.js';

sweepConvKernels({ name: 'wasm', backend: 'wasm', describe, skipReason: '', forward: false });

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
