/**
 * What a native kernel hands a call to when it cannot run it (not float32, a layout oneDNN cannot
 * express, NCHW): the kernel that held its name on wasm before the native one was registered —
 * doconv's wasm replacement or wasm's stock kernel. Set by the registration (registerNative.ts).
 */
import type * as tf from '@tensorflow/tfjs';

const fallbacks = new Map<string, tf.KernelFunc>();

export function setNativeFallback(kernelName: string, kernelFunc: tf.KernelFunc): void {
  fallbacks.set(kernelName, kernelFunc);
}

export function runFallback(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
): tf.TensorInfo | tf.TensorInfo[] {
  const f = fallbacks.get(kernelName);
  if (f == null) {
    throw new Error(`doconv native ${kernelName}: no wasm kernel to fall back to for this call`);
  }
  return f(args) as tf.TensorInfo | tf.TensorInfo[];
}
