/**
 * Phase-1 registration of the native kernels over wasm (for measurement): registers doconv's wasm
 * kernels first, remembers whichever kernel holds each name as the native one's fallback, then puts
 * the native ones in place; a guard kernel's setupFunc (run whenever wasm becomes the backend,
 * after doconv's own guard) puts them back if doconv's registration replaced them.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../register_wasm_training_kernels.js';
import { setNativeFallback } from './fallbacks.js';
import { nativeAddon } from './nativeAddon.js';
import { nativeKernelConfigs } from './nativeKernels.js';

const ours = new Set(nativeKernelConfigs.map((c) => c.kernelFunc));
const GUARD = 'DoconvNativeKernelsGuard';

/** Registers the native kernels on wasm; false (and nothing registered) without the addon. */
export function registerNativeKernels(): boolean {
  if (nativeAddon() == null) return false;
  registerWasmTrainingKernels();
  for (const config of nativeKernelConfigs) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current != null) {
      if (!ours.has(current.kernelFunc)) setNativeFallback(config.kernelName, current.kernelFunc);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
  if (tf.getKernel(GUARD, 'wasm') == null) {
    tf.registerKernel({
      kernelName: GUARD,
      backendName: 'wasm',
      kernelFunc: () => {
        throw new Error(`doconv: '${GUARD}' is a registration hook, not an op`);
      },
      setupFunc: () => void registerNativeKernels(),
    });
  }
  return true;
}
