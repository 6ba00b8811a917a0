/**
 * In-place access to the wasm backend's heap for native kernels. Call `heapOffsets` only after
 * every output has been allocated (makeOutput may grow the memory, which detaches the previous
 * ArrayBuffer), and never keep its result across kernel calls.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs';

export interface HeapOffsets {
  heap: ArrayBufferLike;
  /** byte offset of each tensor, in argument order; -1 for a missing (null) one */
  offsets: number[];
}

export function heapOffsets(
  backend: tf.KernelBackend,
  ...infos: Array<tf.TensorInfo | null | undefined>
): HeapOffsets {
  const wasm = backend as unknown as BackendWasm;
  return {
    // Emscripten's module has HEAPU8; some builds of the wasm package's types omit it.
    heap: (wasm.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer,
    offsets: infos.map((t) => (t == null ? -1 : wasm.getMemoryOffset(t.dataId))),
  };
}
