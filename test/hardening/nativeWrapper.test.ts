/**
 * The TypeScript side of the native engine refuses a hostile call before the addon sees it: the
 * addon is replaced by a recording copy (its functions are read-only properties, so they cannot
 * be spied on in place) and a refused call must leave the record empty (issue #23, class 5).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const calls: string[] = [];

vi.mock('../../src/engine/native/nativeAddon.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/engine/native/nativeAddon.js')>();
  const status = real.nativeAddonStatus();
  const real_ = status.addon;
  // a plain object of recording functions (the addon's own properties are read-only)
  const addon =
    real_ == null
      ? null
      : (Object.fromEntries(
          // the addon's functions are not enumerable: list them by name
          Object.getOwnPropertyNames(real_).map((key) => [
            key,
            (...args: unknown[]) => {
              calls.push(key);
              const fn = (real_ as unknown as Record<string, (...a: unknown[]) => unknown>)[key];
              return fn.apply(real_, args);
            },
          ]),
        ) as unknown as typeof real_);
  const mocked = { addon, reason: status.reason };
  return {
    ...real,
    nativeAddonStatus: () => mocked,
    nativeAddon: () => addon,
    requireNativeAddon: (kernel: string) => {
      if (addon == null) throw new Error(`doconv native ${kernel}: the native addon is not loaded`);
      return addon;
    },
  };
});

const { addon } = await import('../engine/nativeSetup.js');
const { convGeomArray } = await import('../../src/engine/native/nativeConvGeometry.js');
const { disableNativeEngine, enableNativeEngine } =
  await import('../../src/engine/native/enableNative.js');
afterAll(() => disableNativeEngine());

describe.skipIf(addon == null)('the native wrapper refuses before the addon is called', () => {
  it('padding of 2^32 + 1 (1 once in an Int32Array) never reaches convForward', async () => {
    await tf.setBackend('wasm');
    expect(enableNativeEngine().on).toBe(true);
    const x = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
    const w = tf.ones([1, 1, 1, 1]) as tf.Tensor4D;
    calls.length = 0;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [2 ** 32 + 1, 0],
      [0, 0],
      [0, 0],
    ];
    expect(() => tf.conv2d(x, w, 1, pad)).toThrow(/doconv Conv2D: pad .*4294967297/);
    expect(calls).toEqual([]);
    // the record does see calls let through, so the check above can fail
    tf.conv2d(x, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same').dispose();
    expect(calls).toContain('convForward');
    tf.dispose([x, w]);
  });

  it('a geometry field past int32 is refused by name when the geometry is built', () => {
    const g = { n: 1, h: 2, w: 2, ci: 1, oh: 2 ** 32 + 3, ow: 2, co: 1, kh: 1, kw: 1 };
    const rest = { sh: 1, sw: 1, dh: 1, dw: 1, pt: 2 ** 32 + 1, pb: 0, pl: 0, pr: 0, groups: 1 };
    expect(() => convGeomArray({ ...g, ...rest })).toThrow(
      /geometry field oh is 4294967299, not a whole number from 0 to 2\^31 − 1/,
    );
  });
});
