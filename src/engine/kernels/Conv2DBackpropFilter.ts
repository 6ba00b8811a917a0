/**
 * Conv2DBackpropFilter for wasm, as one forward conv so XNNPACK does the work:
 *   dw[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh·d−p, ow·s+kw·d−p, ci] · dy[b,oh,ow,co]
 * Put ci in the batch slot and b in the channel slot: x → [Ci,H,W,B], dy → [Ho,Wo,B,Co] (a filter),
 * then conv with stride d and dilation s gives [Ci,KH,KW,Co]; transpose to [KH,KW,Ci,Co].
 * Measured and rejected: x as the filter and dy as the input (stride 1). Fewer bytes to pack when
 * Ci < Co, but slower on every MNIST/ResNet-20 shape (N = Ci is tiny for XNNPACK's GEMM tiles, and
 * dy's transpose to [Co,Ho,Wo,B] is the slow permutation). XNNPACK repacks dy on every call: about
 * half of this kernel's time on 32×32×16 layers. One input channel: a depthwise conv instead
 * (see oneInputChannel).
 */
import * as tf from '@tensorflow/tfjs';
import { filterGradAxis, type AxisGeometry } from '../convGeometry.js';
import { backpropAxes } from './backpropAxes.js';
import {
  conv2d,
  cropIfNeeded,
  depthwiseConv2d,
  release,
  reshape,
  sum,
  transpose,
} from '../wasmOps.js';

export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { h, w } = backpropAxes('Conv2DBackpropFilter', attrs, x.shape, filterShape, false);
  const gh = filterGradAxis(h);
  const gw = filterGradAxis(w);
  const [ci, co] = [filterShape[2], filterShape[3]];

  const xT = transpose(backend, x, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  if (ci === 1) {
    const dw = oneInputChannel(backend, xT, dyT, h, w, gh.pad, gw.pad, co);
    release(backend, xT, dyT);
    return dw;
  }
  const z = conv2d(backend, xT, dyT, [h.d, w.d], [h.s, w.s], [[0, 0], gh.pad, gw.pad, [0, 0]]);
  release(backend, xT, dyT);
  const zk = cropIfNeeded(backend, z, [0, 0, 0, 0], [ci, h.k, w.k, co]);
  release(backend, z);
  const out = transpose(backend, zk, [1, 2, 0, 3]);
  release(backend, zk);
  return out;
}

/**
 * One input channel (grayscale first layers): the same correlation with the images kept apart,
 * as a depthwise conv — x [1,H,W,B] (image b is channel b) with dy [Ho,Wo,B,Co] as the depthwise
 * filter (multiplier Co) gives [1,KH,KW,B·Co], summed over b. Exact flop count; the dense conv
 * above would run an M = KH·KW GEMM (9 rows) that leaves XNNPACK's tiles mostly empty (~2.3× slower on
 * the MNIST net's 28×28×1 → 32 layer; results/README.md#engine-notes).
 */
function oneInputChannel(
  backend: tf.KernelBackend,
  xT: tf.TensorInfo,
  dyT: tf.TensorInfo,
  h: AxisGeometry,
  w: AxisGeometry,
  padH: [number, number],
  padW: [number, number],
  co: number,
): tf.TensorInfo {
  const b = xT.shape[3];
  const z = depthwiseConv2d(backend, xT, dyT, [h.d, w.d], [h.s, w.s], [[0, 0], padH, padW, [0, 0]]);
  const zk = cropIfNeeded(backend, z, [0, 0, 0, 0], [1, h.k, w.k, b * co]);
  const z4 = reshape(backend, zk, [h.k, w.k, b, co]);
  release(backend, z, zk);
  const s = sum(backend, z4, [2]);
  const out = reshape(backend, s, [h.k, w.k, 1, co]);
  release(backend, z4, s);
  return out;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
