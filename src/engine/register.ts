/**
 * Side-effect module: importing doconv's root runs this once. Browser-safe (no Node built-ins,
 * no import of the wasm backend itself: that stays the user's choice, and importing it would make
 * wasm the default backend, which needs `await tf.ready()` before any op).
 */
import { registerWasmTrainingKernelsOnImport } from './registerWasmTrainingKernels.js';

// Now if the wasm backend is imported, else when it is first set: either way silently.
registerWasmTrainingKernelsOnImport();
