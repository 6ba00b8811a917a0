/**
 * Mean for wasm over a contiguous block of axes as one XNNPACK average pool (see
 * ../reduceGeometry.ts). wasm's own Mean transposes the reduced axes to the end first: BatchNorm's
 * per-channel statistics over [N, H, W] were several times slower than the pool (results/README.md#engine-notes).
 * Other cases (innermost axes with few channels, non-float32) go to wasm's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { poolReductionView, reducedShape } from '../reduceGeometry.js';
import { runStock, setupStock } from '../stockKernels.js';
import { avgPool, release, reshape } from '../wasmOps.js';

/** The pool route shared by Mean and Sum: returns the mean, owned by the caller, or null. */
export function poolMean(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  axis: number | number[],
  keepDims: boolean,
): { mean: tf.TensorInfo; count: number } | null {
  if (x.dtype !== 'float32') return null;
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const view = poolReductionView(x.shape, axes);
  if (view == null) return null;
  const x4 = reshape(backend, x, [view.lead, view.p, view.q, view.r]);
  const pooled = avgPool(backend, x4, [view.p, view.q], [1, 1]);
  release(backend, x4);
  const mean = reshape(backend, pooled, reducedShape(x.shape, axes, keepDims));
  release(backend, pooled);
  return { mean, count: view.p * view.q };
}

export function mean(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as tf.MeanAttrs;
  const pooled = poolMean(args.backend, x, axis, keepDims);
  return pooled != null ? pooled.mean : (runStock(tf.Mean, args) as tf.TensorInfo);
}

export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: 'wasm',
  kernelFunc: mean as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.Mean),
};
