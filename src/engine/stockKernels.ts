/**
 * The wasm backend's own kernels that doconv displaces but still needs as a fallback (e.g. our Sum
 * handles contiguous float32 reductions and hands every other case to wasm's Sum).
 *
 * registerWasmTrainingKernels records each config it replaces here. A replacement's setupFunc must
 * run the stock setupFunc (wasm's kernels bind their C++ function there), see `setupStock`.
 */
import * as tf from '@tensorflow/tfjs';

const stock = new Map<string, tf.KernelConfig>();

/** Remembers `config` (the wasm kernel registered before ours) as the fallback for its name. */
export function rememberStockKernel(config: tf.KernelConfig): void {
  stock.set(config.kernelName, config);
}

/** Runs wasm's own kernel `kernelName` (the one doconv replaced). */
export function runStock(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
): tf.TensorInfo | tf.TensorInfo[] {
  const config = stock.get(kernelName);
  if (config == null) {
    throw new Error(
      `doconv engine: wasm's own '${kernelName}' kernel is unknown; import ` +
        `'@tensorflow/tfjs-backend-wasm' and call registerWasmTrainingKernels() before using wasm`,
    );
  }
  return config.kernelFunc(args) as tf.TensorInfo | tf.TensorInfo[];
}

/** A setupFunc for a replacement kernel: runs the displaced stock kernel's setupFunc, if any. */
export function setupStock(kernelName: string): NonNullable<tf.KernelConfig['setupFunc']> {
  return (backend) => stock.get(kernelName)?.setupFunc?.(backend);
}

/** The remembered stock config for `kernelName` (tests use it to prove a fast route skips it). */
export function stockKernelConfig(kernelName: string): tf.KernelConfig | undefined {
  return stock.get(kernelName);
}
