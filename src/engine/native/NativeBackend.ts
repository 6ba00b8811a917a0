/**
 * The doconv-native backend: TF.js tensors as plain Float32Arrays in the process's own memory
 * (bounded by RAM, not by a 4 GB wasm32 heap), handed to the native addon by pointer — no copies.
 * A MathBackendCPU underneath: its storage, reads and every kernel doconv has no native one for
 * (registerNativeBackend.ts re-registers tfjs-backend-cpu's whole kernel table under this name).
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs';
import { NATIVE_BACKEND } from '../engineState.js';

export { NATIVE_BACKEND };

export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // MathBackendCPU's first write prints "install tfjs-node" in Node: this backend is the answer.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /**
   * The memory of a float32 tensor, read and written in place by native kernels. A kernel writes
   * only into outputs it allocated (makeFloat32): other tensors may share this buffer (Identity,
   * Reshape and same-dtype Cast share data), the optimizer's slots excepted (nativeOptimizer.ts).
   */
  float32Data(t: tf.TensorInfo): Float32Array {
    const data = this.data.get(t.dataId);
    const values = data?.values;
    if (values instanceof Float32Array) return values;
    // Some cpu kernels leave a float32 tensor's values in another array type (an Int32Array from
    // a cast, a plain array): store them once as a Float32Array, which holds the same numbers.
    if (
      data == null ||
      values == null ||
      typeof (values as ArrayLike<number>).length !== 'number'
    ) {
      throw new Error(
        `doconv native backend: tensor of shape ${JSON.stringify(t.shape)} (${t.dtype}) has no float32 data`,
      );
    }
    const converted = Float32Array.from(values as ArrayLike<number>);
    data.values = converted;
    return converted;
  }

  /** A fresh, zeroed float32 tensor of `shape` for a kernel to write. */
  makeFloat32(shape: number[]): tf.TensorInfo {
    return this.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape)));
  }
}

export function isNativeBackend(backend: unknown): backend is NativeBackend {
  return backend instanceof NativeBackend;
}
