/**
 * Identity for wasm without a copy: the output shares the input's buffer (reference counted, as
 * wasm's own Reshape and the cpu backend's Identity do; kernels never write into their inputs).
 * Why it matters: while the tape is on, tfjs clones every tensor a gradient will need
 * (engine.saveTensorsForBackwardMode), and wasm's stock Identity copies each one: ~630 full-size
 * copies per ResNet-20 training step.
 */
import * as tf from '@tensorflow/tfjs';
import { runStock, setupStock } from '../stockKernels.js';

export function identity(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  // Strings live outside the wasm heap; the stock kernel knows how to copy them.
  if (x.dtype === 'string') return runStock(tf.Identity, args) as tf.TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.Identity),
};
