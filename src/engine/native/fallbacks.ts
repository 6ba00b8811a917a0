/**
 * What a native kernel hands a call to when it cannot run it (not float32, a layout oneDNN cannot
 * express, NCHW, a 1×1 depthwise scale): the wasm choice for its name — doconv's wasm replacement
 * or wasm's stock kernel. Set by the registration (../registerWasmTrainingKernels.ts).
 */
import type * as tf from '@tensorflow/tfjs';

const fallbacks = new Map<string, tf.KernelConfig>();

export function setNativeFallback(config: tf.KernelConfig): void {
  fallbacks.set(config.kernelName, config);
}

export function runFallback(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
): tf.TensorInfo | tf.TensorInfo[] {
  const f = fallbacks.get(kernelName);
  if (f == null) {
    throw new Error(`doconv native ${kernelName}: no wasm kernel to fall back to for this call`);
  }
  return f.kernelFunc(args) as tf.TensorInfo | tf.TensorInfo[];
}

/**
 * A native kernel's setupFunc: runs its fallback's. wasm's kernels bind their C++ function in
 * setupFunc, which tfjs calls only for the kernel registered when the backend is set — ours.
 */
export function setupFallback(kernelName: string): NonNullable<tf.KernelConfig['setupFunc']> {
  return (backend) => fallbacks.get(kernelName)?.setupFunc?.(backend);
}
