/**
 * How the native kernels reach tensors' memory on either backend that runs them: on doconv-native
 * each tensor is a Float32Array the addon reads by pointer; on wasm (the native-on-wasm engine)
 * each is a byte offset into the wasm heap. Outputs are always fresh tensors of the backend.
 *
 * On wasm, call `nativeOperands` only after every output has been allocated (makeFloat32Output may
 * grow the memory, which detaches the previous ArrayBuffer), and never keep its result across calls.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs';
import { isNativeBackend } from './NativeBackend.js';
import type { Heap, Operand, OperandList } from './nativeAddon.js';

export interface Operands {
  /** The wasm heap, or null on doconv-native (every operand is an array). */
  heap: Heap;
  /** each tensor's operand, in argument order; -1 for a missing (null) one */
  refs: Operand[];
}

/** What a TF.js kernel function receives. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}

export function nativeOperands(
  backend: tf.KernelBackend,
  ...infos: Array<tf.TensorInfo | null | undefined>
): Operands {
  if (isNativeBackend(backend)) {
    return { heap: null, refs: infos.map((t) => (t == null ? -1 : backend.float32Data(t))) };
  }
  const wasm = backend as unknown as BackendWasm;
  return {
    // Emscripten's module has HEAPU8; some builds of the wasm package's types omit it.
    heap: (wasm.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer,
    refs: infos.map((t) => (t == null ? -1 : wasm.getMemoryOffset(t.dataId))),
  };
}

/**
 * A new float32 tensor of the kernel's backend for it to write every element of (on wasm: call
 * before nativeOperands). Its values are unspecified: wasm's outputs and doconv-native's reused
 * buffers hold stale ones.
 */
export function makeFloat32Output(
  args: { backend: tf.KernelBackend },
  shape: number[],
): tf.TensorInfo {
  if (isNativeBackend(args.backend)) return args.backend.makeFloat32(shape);
  return (args.backend as unknown as BackendWasm).makeOutput(shape, 'float32') as tf.TensorInfo;
}

/** Whether every given tensor is float32 (absent ones count as yes): the native kernels' dtype. */
export function allFloat32(...infos: Array<tf.TensorInfo | null | undefined>): boolean {
  return infos.every((t) => t == null || t.dtype === 'float32');
}

/** Several operands in one addon argument: the arrays themselves, or their heap offsets. */
export function operandList(heap: Heap, refs: Operand[]): OperandList {
  return heap === null ? (refs as Float32Array[]) : Float64Array.from(refs as number[]);
}
