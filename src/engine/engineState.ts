/**
 * The engine's state, in one place: which kernel set doconv runs on the wasm backend (its wasm
 * kernels, or the native engine's over them), and the native engine when it is available — its
 * kernels, its one-call optimizer update, oneDNN's version and the thread count it was given.
 * One switch changes it (switchEngine.ts); everything else reads it here (no module keeps its own
 * flag, and no one infers the engine from which kernel functions are registered).
 *
 * Browser-safe: the native parts are handed in by Node-only code (native/enableNative.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchedOptimizerStep } from './kernels/optimizerSteps.js';

/** The doconv-native backend's name (native/NativeBackend.ts). */
export const NATIVE_BACKEND = 'doconv-native';

/**
 * What runs the ops: the TF.js backend's name alone cannot tell wasm's two engines apart.
 * 'native': doconv's oneDNN kernels (on the doconv-native backend, or over wasm's heap on wasm);
 * 'wasm': doconv's wasm kernels; 'tensorflow' / 'cpu': that backend's own.
 */
export type EngineName = 'native' | 'wasm' | 'tensorflow' | 'cpu';

/** The native engine's parts, handed over once its addon has loaded (Node only). */
export interface NativeEngineParts {
  /** Its kernels over wasm's (the native-on-wasm engine). */
  wasmKernels: readonly tf.KernelConfig[];
  /** Every variable's optimizer update in one call, on either backend it runs on. */
  batchedStep: BatchedOptimizerStep;
  /** oneDNN's version. */
  oneDnn: string;
  /** oneDNN threads per training thread, as last set. */
  threads: number;
}

export interface EngineState {
  /** doconv's kernels on the wasm backend: its wasm kernels, or the native ones over them. */
  wasmKernelSet: 'wasm' | 'native';
  /** The native engine when its addon is loaded and not disabled, else null. */
  native: NativeEngineParts | null;
}

let state: EngineState = { wasmKernelSet: 'wasm', native: null };

export function engineState(): Readonly<EngineState> {
  return state;
}

/** Only switchEngine.ts calls this (after it, it re-registers the wasm kernel set). */
export function replaceEngineState(next: EngineState): void {
  if (next.wasmKernelSet === 'native' && next.native === null) {
    throw new Error("doconv engine: the wasm kernel set 'native' needs the native engine's parts");
  }
  state = { ...next };
}

/** The engine running ops on the current backend. */
export function currentEngine(): EngineName {
  const backend = tf.getBackend();
  if (backend === NATIVE_BACKEND) return 'native';
  if (backend === 'wasm') return state.wasmKernelSet;
  return backend === 'tensorflow' ? 'tensorflow' : 'cpu';
}

/** The native kernels registered on wasm now (empty unless the native-on-wasm engine is on). */
export function wasmNativeKernels(): readonly tf.KernelConfig[] {
  return state.wasmKernelSet === 'native' && state.native !== null ? state.native.wasmKernels : [];
}

/**
 * The native engine as it runs ops in this thread now — oneDNN's version and its thread count per
 * training thread — or null when the current backend does not run it.
 */
export function nativeEngineInUse(): { oneDnn: string; threads: number } | null {
  if (currentEngine() !== 'native' || state.native === null) return null;
  return { oneDnn: state.native.oneDnn, threads: state.native.threads };
}
