/**
 * The doconv-native backend's reuse of kernel output buffers (src/engine/native/bufferPool.ts):
 * a freed buffer comes back zeroed for the next output of its length, and never while anything
 * can still see it — another tensor's view into it, an array a caller read out, a user's array.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Float32BufferPool, defaultPoolBytes } from '../../src/engine/native/bufferPool.js';
import { isNativeBackend } from '../../src/engine/native/NativeBackend.js';
import { addon, NATIVE_HOST, nativeEngineForThisFile, skipReason } from './nativeSetup.js';

describe('Float32BufferPool', () => {
  it('hands a freed buffer back for the next array of its length, zeroed when asked', () => {
    const pool = new Float32BufferPool(1 << 20);
    const a = pool.take(16, false);
    pool.attach(a);
    a.fill(7);
    pool.detach(a);
    expect(pool.pooledBytes).toBe(64);
    const b = pool.take(16, false);
    expect(b).toBe(a);
    expect(b[3]).toBe(7); // stale: the kernel writes every element
    expect(pool.pooledBytes).toBe(0);
    pool.attach(b);
    pool.detach(b);
    const c = pool.take(16, true);
    expect(c).toBe(a);
    expect(Array.from(c)).toEqual(new Array(16).fill(0));
    expect(pool.take(8, true)).not.toBe(a); // another length: a fresh array
  });

  it('keeps a buffer while any tensor holds a view into it', () => {
    const pool = new Float32BufferPool(1 << 20);
    const a = pool.take(16, true);
    pool.attach(a);
    const view = a.subarray(4, 8);
    pool.attach(view);
    pool.detach(a);
    expect(pool.pooledBytes).toBe(0);
    pool.detach(view);
    expect(pool.pooledBytes).toBe(64);
  });

  it('never reuses a buffer a caller read out, nor an array it did not allocate', () => {
    const pool = new Float32BufferPool(1 << 20);
    const a = pool.take(16, true);
    pool.attach(a);
    pool.escape(a.subarray(0, 2));
    pool.detach(a);
    const users = new Float32Array(16);
    pool.attach(users);
    pool.detach(users);
    expect(pool.pooledBytes).toBe(0);
    expect(pool.take(16, true)).not.toBe(a);
  });

  it('says a buffer is held alone only while one tensor holds it whole and no caller read it out', () => {
    const pool = new Float32BufferPool(1 << 20);
    const a = pool.take(16, false);
    expect(pool.heldAlone(a)).toBe(false); // no tensor yet
    pool.attach(a);
    expect(pool.heldAlone(a)).toBe(true);
    const view = a.subarray(0, 4);
    pool.attach(view); // a second tensor sees part of it
    expect(pool.heldAlone(a)).toBe(false);
    expect(pool.heldAlone(view)).toBe(false); // a view is never the whole buffer
    pool.detach(view);
    expect(pool.heldAlone(a)).toBe(true);
    pool.escape(a);
    expect(pool.heldAlone(a)).toBe(false);
    const users = new Float32Array(16);
    pool.attach(users);
    expect(pool.heldAlone(users)).toBe(false); // not the pool's
  });

  it('holds at most its capacity of free buffers', () => {
    const pool = new Float32BufferPool(100);
    const arrays = [pool.take(16, true), pool.take(16, true)];
    for (const a of arrays) pool.attach(a);
    for (const a of arrays) pool.detach(a);
    expect(pool.pooledBytes).toBe(64);
  });

  it('makes room for a freed buffer by dropping the ones freed longest ago, of any length', () => {
    const pool = new Float32BufferPool(200);
    const [a, b, c] = [pool.take(16, false), pool.take(16, false), pool.take(32, false)];
    for (const t of [a, b, c]) pool.attach(t);
    for (const t of [a, b, c]) pool.detach(t); // 64 + 64 + 128 bytes > 200: a goes
    expect(pool.pooledBytes).toBe(192);
    expect(pool.take(16, false)).toBe(b);
    expect(pool.take(16, false)).not.toBe(a);
    expect(pool.take(32, false)).toBe(c);
    expect(pool.pooledBytes).toBe(0);
    // A later model's sizes replace an earlier one's instead of finding the pool full.
    const old = [pool.take(8, false), pool.take(8, false), pool.take(8, false)];
    for (const t of old) pool.attach(t);
    for (const t of old) pool.detach(t);
    const next = pool.take(40, false);
    pool.attach(next);
    pool.detach(next);
    expect(pool.take(40, false)).toBe(next);
    // Larger than the whole cap: never kept, and nothing is dropped for it.
    const huge = pool.take(64, false);
    pool.attach(huge);
    pool.detach(huge);
    expect(pool.take(64, false)).not.toBe(huge);
  });

  it('defaults to an eighth of RAM, at most 2 GiB', () => {
    expect(defaultPoolBytes(8 * 2 ** 30)).toBe(2 ** 30);
    expect(defaultPoolBytes(64 * 2 ** 30)).toBe(2 ** 31);
  });
});

// The pool is doconv-native's own (the wasm heap manages its memory itself).
const onNativeBackend = addon != null && NATIVE_HOST === 'doconv-native';
const hostReason =
  NATIVE_HOST === 'wasm' ? ' (SKIPPED: the native engine runs over wasm here)' : '';
describe.skipIf(!onNativeBackend)(
  `doconv-native reuses output buffers safely${skipReason}${hostReason}`,
  () => {
    nativeEngineForThisFile();
    const backend = () => {
      const b = tf.backend();
      if (!isNativeBackend(b)) throw new Error(`expected doconv-native, got ${tf.getBackend()}`);
      return b;
    };

    it('a native output freed is the next output of its size', () => {
      const x = tf.randomNormal([64, 64], 0, 1, 'float32', 1);
      const before = backend().bufferPool.pooledBytes;
      tf.tidy(() => {
        tf.add(x, x);
      });
      expect(backend().bufferPool.pooledBytes).toBe(before + 64 * 64 * 4);
      const y = tf.mul(x, x);
      expect(backend().bufferPool.pooledBytes).toBe(before);
      const expected = x.arraySync() as number[][];
      expect((y.arraySync() as number[][])[3][5]).toBeCloseTo(expected[3][5] ** 2, 5);
      tf.dispose([x, y]);
    });

    it('an array read out with dataSync keeps its values after its tensor is disposed', () => {
      const x = tf.fill([32, 32], 2);
      const y = tf.add(x, x);
      const values = y.dataSync();
      y.dispose();
      const others = Array.from({ length: 4 }, () => tf.mul(x, tf.scalar(3)));
      expect(Array.from(values.slice(0, 4))).toEqual([4, 4, 4, 4]);
      tf.dispose([x, ...others]);
    });

    it("a cpu slice (a view into its input's buffer) outlives its input", () => {
      const x = tf.range(0, 64).reshape([8, 8]);
      const y = tf.add(x, tf.zerosLike(x)); // a native output
      const rows = tf.slice(y, [2, 0], [2, 8]); // a subarray of y's values on the cpu kernel
      y.dispose();
      const others = Array.from({ length: 4 }, () => tf.add(x, tf.onesLike(x)));
      expect(Array.from(rows.dataSync())).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
      tf.dispose([x, rows, ...others]);
    });

    it('a training loop holds its memory flat: buffers are reused, not leaked', () => {
      const w = tf.variable(tf.randomNormal([3, 3, 8, 8], 0, 0.1, 'float32', 2));
      const x = tf.randomNormal([4, 16, 16, 8], 0, 1, 'float32', 3);
      const opt = tf.train.sgd(0.01);
      const step = () =>
        tf.tidy(() => {
          opt.minimize(() =>
            tf.mean(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'))),
          );
        });
      for (let i = 0; i < 3; i++) step();
      const tensors = tf.memory().numTensors;
      const pooled = backend().bufferPool.pooledBytes;
      for (let i = 0; i < 20; i++) step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend().bufferPool.pooledBytes).toBe(pooled);
      tf.dispose([w, x]);
      opt.dispose();
    });
  },
);
