/**
 * The start of every doconv worker thread (data-parallel replicas, whole training runs): a fresh
 * tfjs with doconv's layers and kernels on the backend the main thread uses.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Imports wasm (when that is the backend), then doconv's layer classes and wasm kernels, then `imports` (modules registering
 * custom layer classes), and sets `backend`. wasm comes first: in the other order its registration
 * would overwrite doconv's kernels, with a warning each. `who` names the worker in errors.
 */
export async function setUpWorkerBackend(
  backend: string,
  who: string,
  imports: readonly string[] = [],
  engine: 'native' | 'wasm' = 'wasm',
  nativeThreads?: number,
): Promise<void> {
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  // The layer classes (registered for deserialisation) and the wasm training kernels, nothing more.
  await import('../../layers/DOConv2D.js');
  await import('../../layers/DODepthwiseConv2D.js');
  await import('../../layers/DOConv1D.js');
  await import('../../layers/DOSeparableConv2D.js');
  await import('../../layers/DilatedConv2D.js');
  await import('../../engine/register.js');
  // The main thread's engine: its native kernels (with the oneDNN threads the main thread gave this
  // worker: its share of the cores) or wasm's.
  if (backend === 'doconv-native' || (backend === 'wasm' && engine === 'native')) {
    const native = await import('../../engine/native/enableNative.js');
    const state =
      backend === 'wasm'
        ? native.enableNativeEngine(nativeThreads)
        : native.enableNativeBackendEngine(nativeThreads);
    if (!state.on)
      throw new Error(
        `${who}: the native engine is on in the main thread but not here: ${state.reason}`,
      );
    if (backend === 'doconv-native') {
      const { registerNativeBackend } =
        await import('../../engine/native/registerNativeBackend.js');
      registerNativeBackend();
    }
  }
  for (const specifier of imports) await import(specifier);
  if (!(await tf.setBackend(backend))) {
    throw new Error(`${who}: backend ${JSON.stringify(backend)} did not initialise`);
  }
}
