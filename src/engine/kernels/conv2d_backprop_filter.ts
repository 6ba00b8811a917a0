/**
 * Conv2DBackpropFilter for wasm, as one forward conv so XNNPACK does the work:
 *   dw[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh·d−p, ow·s+kw·d−p, ci] · dy[b,oh,ow,co]
 * Put b in the channel slot (the conv's reduction) and one of ci/co in the batch slot:
 * - dy as filter: x → [Ci,H,W,B], dy → [Ho,Wo,B,Co]; conv with stride d, dilation s → [Ci,KH,KW,Co].
 * - x as filter (stride 1, dilation 1 only): dy → [Co,Ho,Wo,B], x → [H,W,B,Ci]; conv → [Co,KH,KW,Ci]
 *   with taps reversed.
 * XNNPACK transposes and packs the filter on every call (it is new each step): that costs as much as
 * the conv for early layers, so the smaller of x and dy becomes the filter.
 */
import * as tf from '@tensorflow/tfjs';
import { convAxes, filterGradAxis, filterGradAxisSwapped, type AxisGeometry } from '../conv_geometry.js';
import { conv2d, cropIfNeeded, release, reverse, transpose } from '../wasm_ops.js';

type Shape4 = [number, number, number, number];

export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  // Not a TF.js attr (its conv2d gradient refuses dilations); honoured if a caller passes it.
  const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
  if (dataFormat !== 'NHWC') {
    throw new Error(`doconv Conv2DBackpropFilter on wasm: dataFormat must be 'NHWC', got ${JSON.stringify(dataFormat)}`);
  }
  const { h, w } = convAxes(
    x.shape as Shape4,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    'Conv2DBackpropFilter',
  );
  const xIsSmaller = x.shape[1] * x.shape[2] * filterShape[2] < dy.shape[1] * dy.shape[2] * filterShape[3];
  if (xIsSmaller && h.s === 1 && w.s === 1 && h.d === 1 && w.d === 1) return xAsFilter(backend, x, dy, h, w);
  const gh = filterGradAxis(h);
  const gw = filterGradAxis(w);
  const [ci, co] = [filterShape[2], filterShape[3]];

  const xT = transpose(backend, x, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  const z = conv2d(backend, xT, dyT, [h.d, w.d], [h.s, w.s], [
    [0, 0],
    gh.pad,
    gw.pad,
    [0, 0],
  ]);
  release(backend, xT, dyT);
  const zk = cropIfNeeded(backend, z, [0, 0, 0, 0], [ci, h.k, w.k, co]);
  release(backend, z);
  const out = transpose(backend, zk, [1, 2, 0, 3]);
  release(backend, zk);
  return out;
}

function xAsFilter(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  h: AxisGeometry,
  w: AxisGeometry,
): tf.TensorInfo {
  const gh = filterGradAxisSwapped(h);
  const gw = filterGradAxisSwapped(w);
  const [b, , , co] = dy.shape;
  const dyc = cropIfNeeded(backend, dy, [0, gh.crop[0], gw.crop[0], 0], [b, gh.crop[1], gw.crop[1], co]);
  const dyT = transpose(backend, dyc, [3, 1, 2, 0]);
  const xT = transpose(backend, x, [1, 2, 0, 3]);
  release(backend, dyc);
  const z = conv2d(backend, dyT, xT, [1, 1], [1, 1], [[0, 0], gh.pad, gw.pad, [0, 0]]);
  release(backend, dyT, xT);
  const zr = reverse(backend, z, [1, 2]);
  release(backend, z);
  const out = transpose(backend, zr, [1, 2, 3, 0]);
  release(backend, zr);
  return out;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
