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

/** What a TF.js kernel function receives. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}

/** A float32 output tensor allocated by the wasm backend (call before heapOffsets). */
export function makeFloat32Output(args: KernelArgs, shape: number[]): tf.TensorInfo {
  return (args.backend as unknown as BackendWasm).makeOutput(shape, 'float32') as tf.TensorInfo;
}

/** Whether every given tensor is float32 (absent ones count as yes): the native kernels' dtype. */
export function allFloat32(...infos: Array<tf.TensorInfo | null | undefined>): boolean {
  return infos.every((t) => t == null || t.dtype === 'float32');
}
