/**
 * Reuse of the doconv-native backend's float32 buffers. A freshly allocated Float32Array of a few
 * MB costs more than the native kernel that fills it: the allocator maps new pages and the kernel
 * takes a page fault on every 4 KB it first writes (measured on ResNet-20 b128: element-wise
 * kernels 3–4× slower than the same kernels over wasm's heap, whose pages stay mapped). So the
 * buffers the backend allocates for kernel outputs go back to a pool when their last tensor is
 * disposed, and the next output of the same length takes one — not zeroed unless the kernel asks:
 * every native kernel writes each element of its output (they run unchanged over the wasm heap,
 * whose outputs are never zeroed), so a zeroing pass would be one more trip through memory.
 *
 * A buffer is reused only when nothing else can still see it:
 * - every tensor whose values lie in the buffer counts (cpu kernels hand out views: a simple
 *   slice's values are a subarray of its input's);
 * - a buffer whose values were ever read out (dataSync, data, arraySync, … return the array
 *   itself on this backend) is never reused: the caller may keep the array;
 * - arrays the backend did not allocate (a user's tf.tensor(Float32Array) data) are never taken.
 *
 * When a freed buffer does not fit under the cap, the buffers freed longest ago make room for it
 * (whatever their length): a pool that kept its first buffers for good filled up with the sizes of
 * the first model a process trained and gave the next one nothing to reuse (the zoo benchmark's
 * MobileNet-v2, after the ResNets in the same process, trained at half its speed).
 */

interface Owned {
  /** live tensors (data ids) whose values lie in this buffer */
  tensors: number;
  /** read out by a caller: never reused */
  escaped: boolean;
  /** the whole-buffer array the pool hands out */
  array: Float32Array;
}

/** Bytes of free buffers kept for reuse at most: min(2 GiB, RAM / 8). */
export function defaultPoolBytes(totalMemoryBytes: number): number {
  return Math.min(2 ** 31, Math.floor(totalMemoryBytes / 8));
}

export class Float32BufferPool {
  private readonly owned = new WeakMap<ArrayBufferLike, Owned>();
  /** free buffers by length, each list in the order they were freed */
  private readonly free = new Map<number, Float32Array[]>();
  /** every free buffer, in the order they were freed (the first goes first) */
  private readonly freedOrder = new Set<Float32Array>();
  private freeBytes = 0;

  constructor(private readonly capacityBytes: number) {}

  /**
   * A Float32Array of `length`, reused when one is free: zeroed when `zeroed`, else holding stale
   * values for a kernel that writes every element (zeroing is one more pass over the memory).
   */
  take(length: number, zeroed: boolean): Float32Array {
    const reused = this.free.get(length)?.pop();
    if (reused !== undefined) {
      this.freedOrder.delete(reused);
      this.freeBytes -= reused.byteLength;
      if (zeroed) reused.fill(0);
      this.owned.set(reused.buffer, { tensors: 0, escaped: false, array: reused });
      return reused;
    }
    const fresh = new Float32Array(length);
    this.owned.set(fresh.buffer, { tensors: 0, escaped: false, array: fresh });
    return fresh;
  }

  /** A tensor now holds `values` (a pool buffer, a view into one, or anything else). */
  attach(values: unknown): void {
    const owned = this.ownerOf(values);
    if (owned) owned.tensors += 1;
  }

  /** A caller got `values` itself: its buffer is theirs from now on. */
  escape(values: unknown): void {
    const owned = this.ownerOf(values);
    if (owned) owned.escaped = true;
  }

  /**
   * Whether `values` is a whole buffer the pool handed out, held by one tensor and never read out:
   * only then may that tensor's values be overwritten in place (nativeOptimizer.ts). A user's
   * array, a view, a buffer two tensors see or one a caller holds must keep its values.
   */
  heldAlone(values: unknown): boolean {
    const owned = this.ownerOf(values);
    return owned !== undefined && owned.array === values && owned.tensors === 1 && !owned.escaped;
  }

  /** The tensor holding `values` is gone: its buffer is free once no tensor holds it. */
  detach(values: unknown): void {
    const owned = this.ownerOf(values);
    if (!owned) return;
    owned.tensors -= 1;
    if (owned.tensors > 0) return;
    this.owned.delete(owned.array.buffer);
    if (owned.escaped || owned.array.byteLength > this.capacityBytes) return;
    while (this.freeBytes + owned.array.byteLength > this.capacityBytes) this.evictOldest();
    const list = this.free.get(owned.array.length);
    if (list) list.push(owned.array);
    else this.free.set(owned.array.length, [owned.array]);
    this.freedOrder.add(owned.array);
    this.freeBytes += owned.array.byteLength;
  }

  /** Drops the buffer freed longest ago (the first of its length's list, which is in freeing order). */
  private evictOldest(): void {
    const oldest = this.freedOrder.values().next().value as Float32Array;
    this.freedOrder.delete(oldest);
    const list = this.free.get(oldest.length)!;
    list.shift();
    if (list.length === 0) this.free.delete(oldest.length);
    this.freeBytes -= oldest.byteLength;
  }

  /** Bytes held for reuse (not in any tensor). */
  get pooledBytes(): number {
    return this.freeBytes;
  }

  clear(): void {
    this.free.clear();
    this.freedOrder.clear();
    this.freeBytes = 0;
  }

  private ownerOf(values: unknown): Owned | undefined {
    if (!ArrayBuffer.isView(values)) return undefined;
    return this.owned.get(values.buffer);
  }
}
