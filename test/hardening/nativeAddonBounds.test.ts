/**
 * The addon's own guards, called directly (below the TypeScript wrapper): offsets that are not
 * whole numbers are refused rather than read as 0, element counts whose byte size would wrap are
 * refused rather than passing the bounds check, and zero-size geometries are computed as TF.js's
 * cpu backend computes them (zeros, or nothing) instead of being refused or reading garbage.
 * Each case failed on the addon before these guards (issue #23, classes 5 and 7).
 */
import { describe, expect, it } from 'vitest';
import { convGeomArray, type ConvGeomFields } from '../../src/engine/native/nativeConvGeometry.js';
import { convOf } from '../engine/convSpec.js';
import { addon, skipReason } from '../engine/nativeSetup.js';

const d = addon == null ? describe.skip : describe;
const FILL = -7; // what the heap holds before a call: a result of zeros must be written

/** A heap of `floats` float32s, all FILL. */
function heapOf(floats: number): { heap: ArrayBuffer; f32: Float32Array } {
  const heap = new ArrayBuffer(floats * 4);
  const f32 = new Float32Array(heap);
  f32.fill(FILL);
  return { heap, f32 };
}

const conv3x3: ConvGeomFields = convOf({
  n: 1,
  h: 4,
  w: 4,
  ci: 2,
  co: 2,
  k: [3, 3],
  pad: [1, 1, 1, 1],
});

d(`native addon: offsets and sizes that would be misread${skipReason}`, () => {
  const { heap } = heapOf(1024);
  const geom = convGeomArray(conv3x3);

  it.each([NaN, Infinity, -Infinity, -4, 2.5, 2 ** 60])(
    'convForward refuses a y offset of %s, naming the argument',
    (bad) => {
      expect(() => addon!.convForward(heap, geom, 0, 256, -1, bad, 0)).toThrow(
        /native convForward: y's byte offset must be a whole number ≥ 0|native convForward: y at byte offset/,
      );
    },
  );

  it('NaN is not read as offset 0 (which is inside the heap)', () => {
    expect(() => addon!.matMul(heap, Int32Array.of(1, 1, 1, 2, 2, 2, 0, 0), NaN, 64, 128)).toThrow(
      /native matMul: a's byte offset must be a whole number ≥ 0, got NaN/,
    );
  });

  it('an optimizer size of 2^62 elements is refused (elems·4 wrapped to 0 before)', () => {
    const offsets = Float64Array.of(0, 64, 128);
    for (const size of [2 ** 62, 2 ** 62 + 2 ** 40, NaN, -1, 1.5]) {
      expect(() =>
        addon!.optimizerStep(heap, 1, Float64Array.of(size), offsets, Float64Array.of(0.1)),
      ).toThrow(
        /native optimizerStep: (a variable's size must be a whole number|a variable at byte offset \d+ with \d+ float32 elements is outside the heap)/,
      );
    }
  });

  it('a concat part offset of NaN or Infinity is refused', () => {
    for (const bad of [NaN, Infinity]) {
      expect(() =>
        addon!.concat(heap, Int32Array.of(2, 3, 3), Float64Array.of(0, bad), 512),
      ).toThrow(/native concat: a part's byte offset must be a whole number ≥ 0/);
    }
  });

  it('a conv geometry whose element count passes 2^48 is refused (int32 products wrapped)', () => {
    const big = convOf({ n: 65536, h: 65536, w: 65537, ci: 1, co: 1, k: [1, 1] });
    expect(() => addon!.convForward(heap, convGeomArray(big), 0, 0, -1, 0, 0)).toThrow(
      /native convForward: bad geometry: a tensor has more than 2\^48 elements/,
    );
  });

  it('bad fields are named, not numbered', () => {
    const bad = convGeomArray({ ...conv3x3, kh: 0 });
    expect(() => addon!.convForward(heap, bad, 0, 256, -1, 512, 0)).toThrow(
      /native convForward: bad geometry: kh is 0 \(must be ≥ 1\)/,
    );
    const act = convGeomArray({ ...conv3x3, act: 9 });
    expect(() => addon!.convForward(heap, act, 0, 256, -1, 512, 0)).toThrow(
      /unknown activation code 9/,
    );
  });

  it('setThreads refuses NaN and fractions (read as 0 or cut before)', () => {
    expect(() => addon!.setThreads(NaN)).toThrow(/threads must be 1..1024, got NaN/);
    expect(() => addon!.setThreads(1.5)).toThrow(/threads must be 1..1024, got 1.5/);
  });
});

/** Runs forward (with bias b), backward data and backward weights of `g` on one heap. */
function allPasses(g: ConvGeomFields, bias: number[]) {
  const x = g.n * g.h * g.w * g.ci;
  const w = g.kh * g.kw * (g.ci / g.groups) * g.co;
  const y = g.n * g.oh * g.ow * g.co;
  const at = [16, 16 + x, 16 + x + w, 16 + x + w + g.co, 16 + x + w + g.co + y];
  const { heap, f32 } = heapOf(at[4] + x + w + 16);
  f32.subarray(at[0], at[0] + x).fill(1);
  f32.subarray(at[1], at[1] + w).fill(1);
  f32.set(bias, at[2]);
  const geom = convGeomArray({ ...g, hasBias: true, act: 1 });
  addon!.convForward(heap, geom, at[0] * 4, at[1] * 4, at[2] * 4, at[3] * 4, 0);
  const ys = Array.from(f32.subarray(at[3], at[3] + y));
  // dy: y's region filled with ones; dx and dw after it.
  f32.subarray(at[3], at[3] + y).fill(1);
  addon!.convBackwardData(heap, convGeomArray(g), at[3] * 4, at[1] * 4, at[4] * 4);
  addon!.convBackwardWeights(heap, convGeomArray(g), at[0] * 4, at[3] * 4, (at[4] + x) * 4);
  return {
    y: ys,
    dx: Array.from(f32.subarray(at[4], at[4] + x)),
    dw: Array.from(f32.subarray(at[4] + x, at[4] + x + w)),
  };
}

d(`native addon: zero-size convs computed as the cpu backend does${skipReason}`, () => {
  it('batch 0: nothing to write for y and dx, dw is zeros', () => {
    const g = convOf({ n: 0, h: 4, w: 4, ci: 2, co: 3, k: [3, 3], pad: [1, 1, 1, 1] });
    const r = allPasses(g, [1, -1, 2]);
    expect(r.y).toEqual([]);
    expect(r.dx).toEqual([]);
    expect(r.dw).toEqual(new Array(3 * 3 * 2 * 3).fill(0));
  });

  it('0 input channels: y is relu(bias) everywhere (an empty sum), dw empty', () => {
    const g = convOf({ n: 1, h: 2, w: 2, ci: 0, co: 3, k: [3, 3], pad: [1, 1, 1, 1] });
    const r = allPasses(g, [1, -1, 2]);
    expect(r.y).toEqual([1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2]);
    expect(r.dx).toEqual([]);
  });

  it("a 'valid' filter larger than the input: y is empty, dx and dw are zeros", () => {
    const g = convOf({ n: 1, h: 2, w: 2, ci: 2, co: 3, k: [3, 3] });
    expect([g.oh, g.ow]).toEqual([0, 0]);
    const r = allPasses(g, [1, 1, 1]);
    expect(r.y).toEqual([]);
    expect(r.dx).toEqual(new Array(8).fill(0));
    expect(r.dw).toEqual(new Array(3 * 3 * 2 * 3).fill(0));
  });

  it('matMul [3,0]·[0,4] writes zeros', () => {
    const { heap, f32 } = heapOf(64);
    addon!.matMul(heap, Int32Array.of(1, 1, 1, 3, 0, 4, 0, 0), 0, 0, 64);
    expect(Array.from(f32.subarray(16, 28))).toEqual(new Array(12).fill(0));
    expect(f32[28]).toBe(FILL);
  });

  it('reductions over 0 rows write zeros', () => {
    const { heap, f32 } = heapOf(64);
    addon!.reduceRows(heap, Int32Array.of(0, 3, 1), 0, 64, 1);
    expect(Array.from(f32.subarray(16, 20))).toEqual([0, 0, 0, FILL]);
    addon!.batchNormGradSums(heap, Int32Array.of(0, 2), 0, 0, 0, 128, 192);
    expect(Array.from(f32.subarray(32, 34))).toEqual([0, 0]);
    expect(Array.from(f32.subarray(48, 50))).toEqual([0, 0]);
  });

  it('conv and matMul entries share one primitive cache: counted, and emptied by clearCache', () => {
    const { heap } = heapOf(4096);
    addon!.clearCache();
    expect(addon!.stats().cacheEntries).toBe(0);
    addon!.convForward(heap, convGeomArray(conv3x3), 0, 1024, -1, 2048, 0);
    addon!.matMul(heap, Int32Array.of(1, 1, 1, 3, 2, 4, 0, 0), 0, 1024, 2048);
    expect(addon!.stats().cacheEntries).toBe(2);
    addon!.clearCache();
    expect(addon!.stats().cacheEntries).toBe(0);
  });

  it('compose with dMul 0 writes a zero kernel', () => {
    const { heap, f32 } = heapOf(64);
    addon!.compose(heap, Int32Array.of(4, 0, 2, 3, 1), 0, 0, 0, 64);
    expect(Array.from(f32.subarray(16, 41))).toEqual([...new Array(24).fill(0), FILL]);
  });
});
