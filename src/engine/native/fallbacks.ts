/**
 * What a native kernel hands a call to when it cannot run it (not float32, a layout oneDNN cannot
 * express, NCHW, a 1×1 depthwise scale): on doconv-native, tfjs-backend-cpu's kernel of that name
 * (the backend is a MathBackendCPU); on wasm (the native-on-wasm engine), the wasm choice for the
 * name — doconv's wasm replacement or wasm's stock kernel — set by its registration
 * (../registerWasmTrainingKernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { isNativeBackend } from './NativeBackend.js';

const wasmFallbacks = new Map<string, tf.KernelConfig>();

export function setNativeFallback(config: tf.KernelConfig): void {
  wasmFallbacks.set(config.kernelName, config);
}

function fallbackFor(kernelName: string, backend: tf.KernelBackend): tf.KernelConfig | undefined {
  return isNativeBackend(backend) ? tf.getKernel(kernelName, 'cpu') : wasmFallbacks.get(kernelName);
}

export function runFallback(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
): tf.TensorInfo | tf.TensorInfo[] {
  const f = fallbackFor(kernelName, args.backend);
  if (f == null) {
    throw new Error(`doconv native ${kernelName}: no kernel to fall back to for this call`);
  }
  return f.kernelFunc(args) as tf.TensorInfo | tf.TensorInfo[];
}

/**
 * A native kernel's setupFunc on wasm: runs its fallback's. wasm's kernels bind their C++ function
 * in setupFunc, which tfjs calls only for the kernel registered when the backend is set — ours.
 */
export function setupFallback(kernelName: string): NonNullable<tf.KernelConfig['setupFunc']> {
  return (backend) => wasmFallbacks.get(kernelName)?.setupFunc?.(backend);
}
