/**
 * Node-only: switches the native engine (oneDNN kernels over the wasm heap) on or off as a
 * per-kernel choice in doconv's wasm kernel table (../registerWasmTrainingKernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { COMPOSE_KERNEL, COMPOSED_CONV } from '../../util/composeKernelOp.js';
import { composeGradConfig } from './nativeCompose.js';
import { composedConvGradConfig } from './nativeComposedConv.js';
import { setNativeKernelConfigs, wasmEngine } from '../registerWasmTrainingKernels.js';
import { nativeAddon, nativeAddonStatus } from './nativeAddon.js';
import { nativeKernelConfigs } from './nativeKernels.js';
import { nativeOptimizerStep } from './nativeOptimizer.js';
import { setBatchedOptimizerStep } from '../kernels/optimizerSteps.js';

/** The native kernels and the in-place optimizer update, on or off together. */
function switchNativeEngine(on: boolean): void {
  setNativeKernelConfigs(on ? nativeKernelConfigs : []);
  setBatchedOptimizerStep(on ? nativeOptimizerStep : null);
}

/** How to get the native engine, for the one line printed when it is off. */
export const NATIVE_ENGINE_HINT =
  'to enable it: Debian/Ubuntu `sudo apt-get install libdnnl-dev g++`, macOS `brew install onednn`, then `npx doconv build-native` (in a checkout: `npm run build:native`)';

export interface NativeEngineState {
  on: boolean;
  /** Why it is off ('not built', 'disabled by DOCONV_ENGINE=wasm', a load error), else null. */
  reason: string | null;
  /** oneDNN's version when on */
  oneDnn?: string;
  /** oneDNN threads per calling thread (main thread or each worker) */
  threads?: number;
}

/**
 * Registers the native kernels on wasm when the addon is built and not disabled; otherwise leaves
 * the portable wasm kernels and says why. Idempotent. `threads`: oneDNN threads for ops run from
 * the calling thread (default: set when the addon loads, nativeThreadsFor(1)).
 */
export function enableNativeEngine(threads?: number): NativeEngineState {
  if (process.env.DOCONV_ENGINE === 'wasm') {
    switchNativeEngine(false);
    return { on: false, reason: 'disabled by DOCONV_ENGINE=wasm' };
  }
  const { addon, reason } = nativeAddonStatus();
  if (addon == null) {
    switchNativeEngine(false);
    return { on: false, reason };
  }
  if (threads !== undefined) addon.setThreads(threads);
  if (tf.getGradient(COMPOSE_KERNEL) == null) tf.registerGradient(composeGradConfig);
  if (tf.getGradient(COMPOSED_CONV) == null) tf.registerGradient(composedConvGradConfig);
  switchNativeEngine(true);
  return { on: true, reason: null, oneDnn: addon.oneDnnVersion(), threads: addon.getThreads() };
}

/**
 * The native engine as it runs ops in this thread now — oneDNN's version and its thread count per
 * training thread — or null when it is off. Results record it: a run repeats bit for bit only on the
 * same engine with the same thread count.
 */
export function nativeEngineInUse(): { oneDnn: string; threads: number } | null {
  // The kernels are registered only once the addon has loaded, so this loads nothing.
  const addon = wasmEngine() === 'native' ? nativeAddon() : null;
  return addon === null ? null : { oneDnn: addon.oneDnnVersion(), threads: addon.getThreads() };
}

/** Back to the portable wasm kernels (the addon stays loaded, its kernels unregistered). */
export function disableNativeEngine(): void {
  switchNativeEngine(false);
}
