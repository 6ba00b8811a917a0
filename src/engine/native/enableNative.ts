/**
 * Node-only: the native engine's switches. It runs on two backends: doconv-native (its own, tensors
 * in native memory: registerNativeBackend.ts) and wasm (its kernels over wasm's heap, the
 * native-on-wasm engine, kept until the doconv-native backend has been measured everywhere).
 * Both go through the engine state's one switch (../switchEngine.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { COMPOSE_KERNEL, COMPOSED_CONV } from '../../util/composeKernelOp.js';
import { engineState, type NativeEngineParts } from '../engineState.js';
import { switchEngine } from '../switchEngine.js';
import { ADD_RELU } from '../../util/addReluOp.js';
import { addReluGradConfig } from './nativeAddRelu.js';
import { composeGradConfig } from './nativeCompose.js';
import { composedConvGradConfig } from './nativeComposedConv.js';
import { batchNormTrainingGradConfig } from './nativeBatchNormTraining.js';
import { batchNormReluTrainingGradConfig } from './nativeBatchNormRelu.js';
import { BATCH_NORM_RELU_TRAINING, BATCH_NORM_TRAINING } from '../../util/batchNormTrainingOp.js';
import { SOFTMAX_CROSS_ENTROPY } from '../../util/softmaxCrossEntropyOp.js';
import { softmaxCrossEntropyGradConfig } from './nativeSoftmaxCrossEntropy.js';
import { nativeAddonStatus } from './nativeAddon.js';
import { nativeKernelConfigs } from './nativeKernels.js';
import { nativeOptimizerStep } from './nativeOptimizer.js';

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
 * The native engine's parts with the addon loaded and `threads` set (default: the count set when
 * the addon loaded, nativeThreadsFor(1)), or why it is off. Registers the gradients of doconv's
 * fused ops (global in TF.js; they run only where the ops have kernels).
 */
export function loadNativeEngine(threads?: number): NativeEngineParts | { reason: string } {
  if (process.env.DOCONV_ENGINE === 'wasm') return { reason: 'disabled by DOCONV_ENGINE=wasm' };
  const { addon, reason } = nativeAddonStatus();
  if (addon == null) return { reason: reason ?? 'not loaded' };
  if (threads !== undefined) addon.setThreads(threads);
  if (tf.getGradient(COMPOSE_KERNEL) == null) tf.registerGradient(composeGradConfig);
  if (tf.getGradient(COMPOSED_CONV) == null) tf.registerGradient(composedConvGradConfig);
  if (tf.getGradient(BATCH_NORM_TRAINING) == null) {
    tf.registerGradient(batchNormTrainingGradConfig);
  }
  if (tf.getGradient(BATCH_NORM_RELU_TRAINING) == null) {
    tf.registerGradient(batchNormReluTrainingGradConfig);
  }
  if (tf.getGradient(ADD_RELU) == null) tf.registerGradient(addReluGradConfig);
  if (tf.getGradient(SOFTMAX_CROSS_ENTROPY) == null) {
    tf.registerGradient(softmaxCrossEntropyGradConfig);
  }
  return {
    wasmKernels: nativeKernelConfigs,
    batchedStep: nativeOptimizerStep,
    oneDnn: addon.oneDnnVersion(),
    threads: addon.getThreads(),
  };
}

function stateOf(parts: NativeEngineParts | { reason: string }): NativeEngineState {
  return 'reason' in parts
    ? { on: false, reason: parts.reason }
    : { on: true, reason: null, oneDnn: parts.oneDnn, threads: parts.threads };
}

/**
 * The native engine on (its parts loaded; on wasm, its kernels over wasm's) when the addon is
 * built and not disabled; otherwise doconv's wasm kernels, and why. Idempotent. `threads`: oneDNN
 * threads for ops run from the calling thread.
 */
export function enableNativeEngine(threads?: number): NativeEngineState {
  const parts = loadNativeEngine(threads);
  if ('reason' in parts) switchEngine({ wasmKernelSet: 'wasm', native: null });
  else switchEngine({ wasmKernelSet: 'native', native: parts });
  return stateOf(parts);
}

/**
 * The native engine loaded for the doconv-native backend with doconv's wasm kernels on wasm
 * (so switching backends switches engines). Idempotent.
 */
export function enableNativeBackendEngine(threads?: number): NativeEngineState {
  const parts = loadNativeEngine(threads);
  switchEngine({ wasmKernelSet: 'wasm', native: 'reason' in parts ? null : parts });
  return stateOf(parts);
}

/** Back to doconv's wasm kernels on wasm (the addon stays loaded for doconv-native). */
export function disableNativeEngine(): void {
  switchEngine({ wasmKernelSet: 'wasm', native: engineState().native });
}
