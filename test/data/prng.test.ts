import { describe, expect, it } from 'vitest';
import { createRng, mixSeeds, permutation } from '../../src/data/index.js';

describe('createRng (mulberry32)', () => {
  it('matches the published mulberry32 one-liner for several seeds', () => {
    // The original one-liner, kept verbatim in shape, as the reference.
    const ref = (a: number) => () => {
      let t = (a += 0x6d2b79f5);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (const seed of [0, 1, 12345, 2 ** 31 - 1]) {
      const a = createRng(seed);
      const b = ref(seed);
      for (let i = 0; i < 100; i++) expect(a()).toBe(b());
    }
  });

  it('stays in [0, 1) with a plausible mean', () => {
    const rng = createRng(7);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const v = rng();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
    }
    expect(Math.abs(sum / 10000 - 0.5)).toBeLessThan(0.02);
  });

  it('rejects a non-integer seed', () => {
    expect(() => createRng(1.5)).toThrow('createRng: seed must be an integer, got 1.5');
  });
});

describe('permutation', () => {
  for (const n of [0, 1, 2, 10, 1000]) {
    it(`n=${n}: is a permutation, deterministic for a seed`, () => {
      const p = permutation(n, createRng(3));
      expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(Array.from(permutation(n, createRng(3)))).toEqual(Array.from(p));
    });
  }

  it('differs between seeds', () => {
    expect(Array.from(permutation(50, createRng(1)))).not.toEqual(
      Array.from(permutation(50, createRng(2))),
    );
  });
});

describe('mixSeeds', () => {
  it('is deterministic, 32-bit, and separates neighbouring inputs', () => {
    expect(mixSeeds(1, 2)).toBe(mixSeeds(1, 2));
    const seen = new Set<number>();
    for (let a = 0; a < 20; a++) for (let b = 0; b < 20; b++) seen.add(mixSeeds(a, b));
    expect(seen.size).toBe(400);
    for (const v of seen) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
  });
});
