/** Side effects for tests that train on wasm: doconv's kernels, then the wasm backend. */
import '../../src/engine/register.js';
// Imported after doconv's registration on purpose: wasm's register_all_kernels then overwrites our
// Conv2DBackpropInput, and the guard kernel must put it back when the backend is set.
import '@tensorflow/tfjs-backend-wasm';
