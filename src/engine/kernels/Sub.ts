/**
 * Sub for wasm: activation − per-channel vector (tf.moments' x − mean in every BatchNorm layer)
 * and vector − activation as a 1×1 depthwise conv with bias (../channelBroadcast.ts).
 * Everything else goes to wasm's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { channelAffine, matchChannelBroadcast } from '../channelBroadcast.js';
import { runStock, setupStock } from '../stockKernels.js';

export function sub(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const m = matchChannelBroadcast(a, b);
  if (m == null) return runStock(tf.Sub, args) as tf.TensorInfo;
  return m.big === 'a'
    ? channelAffine(args.backend, a, b, m.channels, 1, -1)
    : channelAffine(args.backend, b, a, m.channels, -1, 1);
}

export const subConfig: tf.KernelConfig = {
  kernelName: tf.Sub,
  backendName: 'wasm',
  kernelFunc: sub as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.Sub),
};
