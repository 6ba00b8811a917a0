/**
 * Side-effect module: importing doconv's root runs this once. Browser-safe (no Node built-ins,
 * no import of the wasm backend itself: that stays the user's choice, and importing it would make
 * wasm the default backend, which needs `await tf.ready()` before any op).
 */
import { registerWasmTrainingKernels } from './registerWasmTrainingKernels.js';

registerWasmTrainingKernels();
