/**
 * DepthwiseConv2dNativeBackpropInput for wasm (missing there), from wasm's XNNPACK depthwise conv.
 * Filter [KH,KW,C,M]; dy channel c·M+q came from input channel c through w[:,:,c,q].
 * - stride 1: depthwise conv of padded dy (C·M channels, multiplier 1) with the flipped filter,
 *   then sum the M channels of each input channel.
 * - stride > 1: the phase trick of Conv2DBackpropInput, with the s_h·s_w phases as the
 *   depthwise channel multiplier, then one transpose interleaves them.
 */
import * as tf from '@tensorflow/tfjs';
import { inputGradAxisPhases, inputGradAxisStride1 } from '../convGeometry.js';
import { backpropAxes } from './backpropAxes.js';
import { reversedPhaseFilter } from './reversedPhaseFilter.js';
import {
  cropIfNeeded,
  depthwiseConv2d,
  release,
  reshape,
  reverse,
  sum,
  transpose,
} from '../wasmOps.js';

type Shape4 = [number, number, number, number];

export function depthwiseConv2dNativeBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { inputShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const { h, w } = backpropAxes(
    'DepthwiseConv2dNativeBackpropInput',
    attrs,
    inputShape,
    filter.shape,
    true,
  );
  const [kh, kw, c, m] = filter.shape as Shape4;
  const [b, , , cm] = dy.shape;

  if (h.s === 1 && w.s === 1) {
    const gh = inputGradAxisStride1(h);
    const gw = inputGradAxisStride1(w);
    const flipped = reverse(backend, filter, [0, 1]);
    const g = reshape(backend, flipped, [kh, kw, c * m, 1]);
    const dyc = cropIfNeeded(
      backend,
      dy,
      [0, gh.crop[0], gw.crop[0], 0],
      [b, gh.crop[1], gw.crop[1], cm],
    );
    const z = depthwiseConv2d(
      backend,
      dyc,
      g,
      [1, 1],
      [h.d, w.d],
      [[0, 0], gh.pad, gw.pad, [0, 0]],
    );
    release(backend, flipped, g, dyc);
    if (m === 1) return z;
    const z5 = reshape(backend, z, [b, h.inLen, w.inLen, c, m]);
    const dx = sum(backend, z5, [4]);
    release(backend, z, z5);
    return dx;
  }

  const ph = inputGradAxisPhases(h);
  const pw = inputGradAxisPhases(w);
  // [Mh, sh, Mw, sw, C, M], taps reversed
  const fr = reversedPhaseFilter(backend, filter, h, w);
  // → [Mh, Mw, C, M, sh, sw]: depthwise input channel c·M+q, multiplier index rh·sw+rw.
  const ft = transpose(backend, fr, [0, 2, 4, 5, 1, 3]);
  const g = reshape(backend, ft, [ph.taps, pw.taps, c * m, h.s * w.s]);
  release(backend, fr, ft);
  const z = depthwiseConv2d(backend, dy, g, [1, 1], [1, 1], [[0, 0], ph.pad, pw.pad, [0, 0]]);
  release(backend, g);
  const [, zh, zw] = z.shape;
  let zc: tf.TensorInfo;
  if (m === 1) {
    zc = reshape(backend, z, [b, zh, zw, c, h.s, w.s]);
  } else {
    const z7 = reshape(backend, z, [b, zh, zw, c, m, h.s * w.s]);
    const zs = sum(backend, z7, [4]);
    zc = reshape(backend, zs, [b, zh, zw, c, h.s, w.s]);
    release(backend, z7, zs);
  }
  release(backend, z);
  // [B, Zh, Zw, C, sh, sw] → [B, Zh, sh, Zw, sw, C]: interleave the phases into rows and columns.
  const t = transpose(backend, zc, [0, 1, 4, 2, 5, 3]);
  const u = reshape(backend, t, [b, zh * h.s, zw * w.s, c]);
  release(backend, zc, t);
  const dx = cropIfNeeded(backend, u, [0, h.padBefore, w.padBefore, 0], inputShape as Shape4);
  release(backend, u);
  return dx;
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as tf.KernelFunc,
};
