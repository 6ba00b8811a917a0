/**
 * The kernels doconv adds to (or replaces on) the wasm backend so CNNs can train there.
 * A list, like tfjs-backend-*'s register_all_kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './kernels/conv2d_backprop_filter.js';
import { conv2DBackpropInputConfig } from './kernels/conv2d_backprop_input.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/depthwise_conv2d_backprop_filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/depthwise_conv2d_backprop_input.js';
import { tileConfig } from './kernels/tile.js';

export const wasmTrainingKernelConfigs: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  // Replaces wasm's own (a scalar loop); also changes tf.conv2dTranspose on wasm.
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  // Replaces wasm's own (scalar div/mod loop); BatchNorm's gradient tiles per-channel vectors.
  tileConfig,
];

/**
 * A kernel no backend defines, registered only for its setupFunc: tfjs calls every wasm kernel's
 * setupFunc each time the wasm backend is set. If '@tensorflow/tfjs-backend-wasm' was imported
 * after doconv, its register_all_kernels has overwritten our Conv2DBackpropInput; this puts ours back
 * before the first op runs (same for Tile).
 */
const GUARD_KERNEL = 'DoconvWasmTrainingKernelsGuard';
const guardConfig: tf.KernelConfig = {
  kernelName: GUARD_KERNEL,
  backendName: 'wasm',
  kernelFunc: () => {
    throw new Error(`doconv: '${GUARD_KERNEL}' is a registration hook, not an op`);
  },
  setupFunc: () => registerWasmTrainingKernels(),
};

/** True when every doconv wasm training kernel is the one registered now. */
export function wasmTrainingKernelsRegistered(): boolean {
  return wasmTrainingKernelConfigs.every(
    (c) => tf.getKernel(c.kernelName, 'wasm')?.kernelFunc === c.kernelFunc,
  );
}

/**
 * Registers doconv's training kernels on the wasm backend. Idempotent and cheap: kernels already
 * ours are left alone, others (wasm's stock Conv2DBackpropInput) are replaced without a warning.
 * Works before or after the wasm backend is imported or initialised: the kernels look up wasm's own
 * kernels only when they run.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of [...wasmTrainingKernelConfigs, guardConfig]) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current != null) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
