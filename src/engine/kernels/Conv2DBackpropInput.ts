/**
 * Conv2DBackpropInput for wasm (also what tf.conv2dTranspose runs), as forward convs so XNNPACK
 * does the work; wasm's stock kernel is a scalar loop, an order of magnitude slower than XNNPACK's GEMM.
 * - stride 1: conv of padded dy with the flipped filter, in/out channels swapped (dilation kept).
 * - stride > 1: all s_h·s_w output phases from one conv with ⌈k/s⌉ taps and s_h·s_w·Ci output
 *   channels, then interleave (see inputGradAxisPhases) with one transpose. No zero-stuffing of dy, so the work is
 *   (⌈k/s⌉·s / k)² of the exact count (16/9 for k=3, s=2) instead of s².
 */
import * as tf from '@tensorflow/tfjs';
import { convAxes, inputGradAxisPhases, inputGradAxisStride1 } from '../convGeometry.js';
import { backpropAxes } from './backpropAxes.js';
import { reversedPhaseFilter } from './reversedPhaseFilter.js';
import { conv2d, cropIfNeeded, release, reshape, reverse, transpose } from '../wasmOps.js';

type Shape4 = [number, number, number, number];

export function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const { h, w } = backpropAxes('Conv2DBackpropInput', attrs, inputShape, filter.shape, false);
  return h.s === 1 && w.s === 1
    ? stride1(backend, dy, filter, h, w)
    : phases(backend, dy, filter, h, w, inputShape as Shape4);
}

function stride1(
  backend: tf.KernelBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  h: ReturnType<typeof convAxes>['h'],
  w: ReturnType<typeof convAxes>['w'],
): tf.TensorInfo {
  const gh = inputGradAxisStride1(h);
  const gw = inputGradAxisStride1(w);
  const [b, , , co] = dy.shape;
  const flipped = reverse(backend, filter, [0, 1]);
  const g = transpose(backend, flipped, [0, 1, 3, 2]);
  release(backend, flipped);
  const dyc = cropIfNeeded(
    backend,
    dy,
    [0, gh.crop[0], gw.crop[0], 0],
    [b, gh.crop[1], gw.crop[1], co],
  );
  const dx = conv2d(backend, dyc, g, [1, 1], [h.d, w.d], [[0, 0], gh.pad, gw.pad, [0, 0]]);
  release(backend, g, dyc);
  return dx;
}

function phases(
  backend: tf.KernelBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  h: ReturnType<typeof convAxes>['h'],
  w: ReturnType<typeof convAxes>['w'],
  inputShape: Shape4,
): tf.TensorInfo {
  const ph = inputGradAxisPhases(h);
  const pw = inputGradAxisPhases(w);
  const [, , ci, co] = filter.shape as Shape4;
  // [Mh, sh, Mw, sw, Ci, Co], taps reversed
  const fr = reversedPhaseFilter(backend, filter, h, w);
  // → [Mh, Mw, Co, sh, sw, Ci]: output channel (rh·sw + rw)·Ci + ci, DepthToSpace's order.
  const ft = transpose(backend, fr, [0, 2, 5, 1, 3, 4]);
  const g = reshape(backend, ft, [ph.taps, pw.taps, co, h.s * w.s * ci]);
  release(backend, fr, ft);

  const z = conv2d(backend, dy, g, [1, 1], [1, 1], [[0, 0], ph.pad, pw.pad, [0, 0]]);
  release(backend, g);
  const [b, zh, zw] = z.shape;
  // Interleave: [B, Zh, Zw, (sh, sw, Ci)] → [B, Zh, sh, Zw, sw, Ci], as a 4D transpose that moves
  // blocks of sw·Ci floats. (wasm's DepthToSpace is an index loop, far slower.)
  const z4 = reshape(backend, z, [b * zh, zw, h.s, w.s * ci]);
  const t = transpose(backend, z4, [0, 2, 1, 3]);
  const u = reshape(backend, t, [b, zh * h.s, zw * w.s, ci]);
  release(backend, z, z4, t);
  const dx = cropIfNeeded(backend, u, [0, h.padBefore, w.padBefore, 0], inputShape);
  release(backend, u);
  return dx;
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
