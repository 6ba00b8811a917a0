/**
 * Add for wasm: activation + per-channel vector as a 1×1 depthwise conv with bias
 * (../channelBroadcast.ts). Everything else goes to wasm's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { channelAffine, matchChannelBroadcast } from '../channelBroadcast.js';
import { runStock, setupStock } from '../stockKernels.js';

export function add(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const m = matchChannelBroadcast(a, b);
  if (m == null) return runStock(tf.Add, args) as tf.TensorInfo;
  const [x, v] = m.big === 'a' ? [a, b] : [b, a];
  return channelAffine(args.backend, x, v, m.channels, 1, 1);
}

export const addConfig: tf.KernelConfig = {
  kernelName: tf.Add,
  backendName: 'wasm',
  kernelFunc: add as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.Add),
};
