/**
 * Keeps tfjs's "Hi, looks like you are running TensorFlow.js in Node.js" banner out of the CLI's
 * output. tfjs-backend-cpu 4.22 prints it (backend_util.warn → console.warn) on the first tensor a
 * cpu backend instance writes, unless the env flag IS_TEST or PROD is set. Neither flag fits: IS_TEST
 * turns on a memory-leak check around every kernel, PROD (tf.enableProdMode) silences every tfjs
 * warning, useful ones too. So every cpu backend instance is marked as used: the one that exists,
 * and the ones the engine makes later (it calls the factory again when it picks its best backend).
 */
import * as tf from '@tensorflow/tfjs';

export function silenceNodeBanner(): void {
  const engine = tf.engine();
  const entry = engine.registryFactory.cpu;
  if (entry !== undefined) {
    const make = entry.factory;
    entry.factory = () => {
      const made = make();
      return made instanceof Promise ? made.then(markUsed) : markUsed(made);
    };
  }
  const existing = engine.registry.cpu;
  if (existing !== undefined) markUsed(existing);
}

/** The banner's guard: MathBackendCPU.firstUse (checked, so a tfjs without it is left alone). */
function markUsed(backend: tf.KernelBackend): tf.KernelBackend {
  const cpu = backend as unknown as { firstUse?: unknown };
  if (typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
  return backend;
}
