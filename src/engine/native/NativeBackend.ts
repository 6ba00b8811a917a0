/**
 * The doconv-native backend: TF.js tensors as plain Float32Arrays in the process's own memory
 * (bounded by RAM, not by a 4 GB wasm32 heap), handed to the native addon by pointer — no copies.
 * A MathBackendCPU underneath: its storage, reads and every kernel doconv has no native one for
 * (registerNativeBackend.ts re-registers tfjs-backend-cpu's whole kernel table under this name).
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs';
import { NATIVE_BACKEND } from '../engineState.js';
import { Float32BufferPool } from './bufferPool.js';

export { NATIVE_BACKEND };

type DataId = object;

export class NativeBackend extends MathBackendCPU {
  /** Kernel outputs' buffers, reused once free (bufferPool.ts says why and when). */
  readonly bufferPool: Float32BufferPool;

  /** `poolBytes`: free buffers kept for reuse at most (registerNativeBackend.ts: defaultPoolBytes). */
  constructor(poolBytes: number) {
    super();
    this.bufferPool = new Float32BufferPool(poolBytes);
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

  /**
   * A float32 tensor of `shape` for a kernel to write: every element, as over the wasm heap (a
   * free pool buffer's values are stale), unless `zeroed`.
   */
  makeFloat32(shape: number[], zeroed = false): tf.TensorInfo {
    return this.makeTensorInfo(
      shape,
      'float32',
      this.bufferPool.take(tf.util.sizeFromShape(shape), zeroed),
    );
  }

  /**
   * Whether `t`'s values may be overwritten in place: its data id is held by one tensor (TF.js's
   * refcount: Identity, Reshape and Cast share it), and its buffer is the pool's, whole, seen by no
   * other tensor and never read out (bufferPool.ts heldAlone).
   */
  writableInPlace(t: tf.TensorInfo): boolean {
    const data = this.data.get(t.dataId);
    return data !== undefined && data.refCount === 1 && this.bufferPool.heldAlone(data.values);
  }

  override write(
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
  ): DataId {
    const dataId = super.write(values, shape, dtype);
    this.bufferPool.attach(values);
    return dataId;
  }

  override move(
    dataId: DataId,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    const before = this.data.get(dataId)?.values;
    super.move(dataId, values, shape, dtype, refCount);
    if (before !== undefined) this.bufferPool.detach(before);
    this.bufferPool.attach(values);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const released = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.bufferPool.detach(values);
    return released;
  }

  /** The cpu backend returns a tensor's own array: the caller may keep it, so it leaves the pool. */
  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.bufferPool.escape(this.data.get(dataId)?.values);
    return values;
  }

  override dispose(): void {
    super.dispose();
    this.bufferPool.clear();
  }
}

export function isNativeBackend(backend: unknown): backend is NativeBackend {
  return backend instanceof NativeBackend;
}
