/** The training engine's browser-safe surface (useBestBackend is Node-only: ./useBestBackend.ts). */
export {
  registerWasmTrainingKernels,
  wasmTrainingKernelConfigs,
  wasmTrainingKernelsRegistered,
} from './registerWasmTrainingKernels.js';
