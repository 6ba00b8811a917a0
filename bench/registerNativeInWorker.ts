/** A workerImports module: registers the native kernels in a createParallelTrainer worker. */
import { registerNativeKernels } from '../src/engine/native/registerNative.js';

if (!registerNativeKernels()) throw new Error('bench: the native addon did not load in a worker');
