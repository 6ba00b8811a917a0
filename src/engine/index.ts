/** The training engine's browser-safe surface (useBestBackend is Node-only: ./use_best_backend.ts). */
export {
  registerWasmTrainingKernels,
  wasmTrainingKernelConfigs,
  wasmTrainingKernelsRegistered,
} from './register_wasm_training_kernels.js';
