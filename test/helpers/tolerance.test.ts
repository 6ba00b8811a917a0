import { describe, expect, it } from 'vitest';
import { expectClose, randomNormal, relativeError } from './tolerance.js';

describe('tolerance helpers', () => {
  it('relativeError scales by the reference magnitude', () => {
    expect(relativeError([10.5, 0], [10, 0])).toBeCloseTo(0.05);
    expect(relativeError([1, 2], [1, 2])).toBe(0);
  });
  it('expectClose passes within and fails outside the tolerance', () => {
    expect(() => expectClose([1.00001], [1], 1e-4)).not.toThrow();
    expect(() => expectClose([1.01], [1], 1e-4, 'y')).toThrow(/y: relative error/);
  });
  it('NaN never passes', () => {
    expect(() => expectClose([NaN], [1], 1)).toThrow();
  });
  it('length mismatch is an error', () => {
    expect(() => relativeError([1, 2], [1])).toThrow(/lengths differ/);
  });
  it('randomNormal is seeded and roughly standard', () => {
    const a = randomNormal(4000, 7);
    expect(Array.from(randomNormal(5, 7))).toEqual(Array.from(a.slice(0, 5)));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
  });
});
