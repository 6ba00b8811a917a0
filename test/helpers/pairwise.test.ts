import { describe, expect, it } from 'vitest';
import { pairwise } from './pairwise.js';

describe('pairwise', () => {
  it('covers every valid pair with far fewer cases than the cross product', () => {
    const params = { a: [1, 2, 3], b: ['x', 'y'], c: [true, false], d: [0, 1, 2] } as const;
    const valid = (c: { a: number; b: string }) => !(c.a === 3 && c.b === 'y');
    const cases = pairwise(params, valid);
    expect(cases.length).toBeLessThan(3 * 2 * 2 * 3);
    expect(cases.every(valid)).toBe(true);
    for (const a of params.a)
      for (const d of params.d) expect(cases.some((c) => c.a === a && c.d === d)).toBe(true);
    for (const b of params.b)
      for (const c of params.c) expect(cases.some((k) => k.b === b && k.c === c)).toBe(true);
    expect(cases.some((c) => c.a === 3 && c.b === 'y')).toBe(false);
  });
});
