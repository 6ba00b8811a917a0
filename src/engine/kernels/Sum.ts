/**
 * Sum for wasm over a contiguous block of axes: the average pool of ./mean.ts, scaled back by the
 * count on the (small) output. wasm's own Sum transposes the reduced axes to the end first; the
 * gradients of BatchNorm, bias adds and broadcasts all sum over the leading axes. Other cases go to
 * wasm's kernel.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { runStock, setupStock } from '../stockKernels.js';
import { poolMean } from './Mean.js';

export function sum(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  const pooled = poolMean(args.backend, x, axis, keepDims);
  if (pooled == null) return runStock(tf.Sum, args) as tf.TensorInfo;
  // The pool's output is ours and small: scale it in place (Float32Array stores round to float32).
  const values = (args.backend as unknown as BackendWasm).typedArrayFromHeap(
    pooled.mean,
  ) as Float32Array;
  for (let i = 0; i < values.length; i++) values[i] *= pooled.count;
  return pooled.mean;
}

export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: sum as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.Sum),
};
