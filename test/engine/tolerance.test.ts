import { describe, expect, it } from 'vitest';
import { dilateFilter, relativeError, undilateFilter, host } from './helpers.js';

describe('engine test helpers', () => {
  it('relativeError is scaled by the expected magnitude', () => {
    expect(relativeError([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(relativeError([1, 2, 3.5], [1, 2, 3])).toBeCloseTo(0.5 / 3);
    expect(relativeError([1000.01, 0], [1000, 0.001])).toBeCloseTo(0.01 / 1000);
    expect(relativeError([NaN], [1])).toBe(Infinity);
    expect(() => relativeError([1], [1, 2])).toThrow(/lengths differ/);
  });

  it('dilateFilter inserts zero taps and undilateFilter takes them back out', () => {
    const f = host([2, 3, 1, 2], 7);
    const d = dilateFilter(f, 2, 3);
    expect(d.shape).toEqual([3, 7, 1, 2]);
    // tap (1, 2) lands at (2, 6); (0, 1) at (0, 3); everything else zero
    expect(d.values[(2 * 7 + 6) * 2 + 1]).toBe(f.values[(1 * 3 + 2) * 2 + 1]);
    expect(d.values[(0 * 7 + 3) * 2]).toBe(f.values[(0 * 3 + 1) * 2]);
    expect(d.values[(1 * 7 + 3) * 2]).toBe(0);
    expect(Array.from(undilateFilter(d, 2, 3, 2, 3).values)).toEqual(Array.from(f.values));
  });
});
