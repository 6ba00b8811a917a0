/**
 * Multiply for wasm: activation × per-channel vector as a 1×1 depthwise conv (../channelBroadcast.ts);
 * BatchNorm's gradient multiplies by per-channel vectors several times per layer. Everything else
 * goes to wasm's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { channelMultiply, matchChannelBroadcast } from '../channelBroadcast.js';
import { runStock, setupStock } from '../stockKernels.js';

export function multiply(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const m = matchChannelBroadcast(a, b);
  if (m == null) return runStock(tf.Multiply, args) as tf.TensorInfo;
  // Multiplication commutes exactly in IEEE arithmetic, so operand order does not matter.
  const [x, v] = m.big === 'a' ? [a, b] : [b, a];
  return channelMultiply(args.backend, x, v, m.channels);
}

export const multiplyConfig: tf.KernelConfig = {
  kernelName: tf.Multiply,
  backendName: 'wasm',
  kernelFunc: multiply as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.Multiply),
};
