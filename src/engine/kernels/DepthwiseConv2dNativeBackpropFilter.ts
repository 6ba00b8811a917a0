/**
 * DepthwiseConv2dNativeBackpropFilter for wasm (missing there), as one XNNPACK depthwise conv:
 *   dw[kh,kw,c,q] = Σ_{b,oh,ow} x[b, oh·s+kh·d−p, ow·s+kw·d−p, c] · dy[b,oh,ow,c·M+q]
 * Fold the batch into the channels (x → [1,H,W,B·C], dy → filter [Ho,Wo,B·C,M]) so each
 * (b,c) pair is its own depthwise channel; conv with stride d, dilation s gives [1,KH,KW,B·C·M],
 * then sum over b. Exact flop count, no cross-channel waste.
 */
import * as tf from '@tensorflow/tfjs';
import { filterGradAxis } from '../convGeometry.js';
import { backpropAxes } from './backpropAxes.js';
import { cropIfNeeded, depthwiseConv2d, release, reshape, sum, transpose } from '../wasmOps.js';

export function depthwiseConv2dNativeBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const { h, w } = backpropAxes(
    'DepthwiseConv2dNativeBackpropFilter',
    attrs,
    x.shape,
    filterShape,
    true,
  );
  const [kh, kw, c, m] = filterShape;
  const [b, hIn, wIn] = x.shape;
  const gh = filterGradAxis(h);
  const gw = filterGradAxis(w);

  const xT = transpose(backend, x, [1, 2, 0, 3]);
  const x1 = reshape(backend, xT, [1, hIn, wIn, b * c]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  const f = reshape(backend, dyT, [h.outLen, w.outLen, b * c, m]);
  release(backend, xT, dyT);
  const z = depthwiseConv2d(
    backend,
    x1,
    f,
    [h.d, w.d],
    [h.s, w.s],
    [[0, 0], gh.pad, gw.pad, [0, 0]],
  );
  release(backend, x1, f);
  const zk = cropIfNeeded(backend, z, [0, 0, 0, 0], [1, kh, kw, b * c * m]);
  const z4 = reshape(backend, zk, [kh, kw, b, c * m]);
  release(backend, z, zk);
  const s = sum(backend, z4, [2]);
  const out = reshape(backend, s, [kh, kw, c, m]);
  release(backend, z4, s);
  return out;
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc,
};
