/**
 * Cast for wasm: a cast to the dtype the tensor already has shares the buffer instead of copying
 * it (tf.moments casts its float32 input to float32 in every BatchNorm layer); other casts go to
 * wasm's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { runStock, setupStock } from '../stockKernels.js';

export function cast(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (dtype !== x.dtype || x.dtype === 'string') return runStock(tf.Cast, args) as tf.TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: cast as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.Cast),
};
