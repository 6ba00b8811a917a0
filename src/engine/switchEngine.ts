/**
 * The one switch of the engine's state (engineState.ts): sets it and registers on wasm the kernel
 * set it names, so state and registered kernels never disagree.
 */
import { type EngineState, replaceEngineState } from './engineState.js';
import { registerWasmTrainingKernels } from './registerWasmTrainingKernels.js';

export function switchEngine(next: EngineState): void {
  replaceEngineState(next);
  registerWasmTrainingKernels();
}
