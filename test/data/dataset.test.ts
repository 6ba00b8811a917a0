import { describe, expect, it } from 'vitest';
import { checkDataset, sliceDataset, takeFirst } from '../../src/data/index.js';
import { syntheticDataset } from './synthetic.js';

describe('Dataset views', () => {
  const ds = syntheticDataset(10);

  it('sliceDataset copies by default and shares memory with copy: false', () => {
    const s = sliceDataset(ds, 2, 5);
    expect(s).toMatchObject({ name: 'synthetic[2:5]', count: 3 });
    expect(Array.from(s.labels)).toEqual([2, 3, 4]);
    expect(Array.from(s.images)).toEqual(Array.from(ds.images.subarray(2 * 24, 5 * 24)));
    expect(s.images.buffer).not.toBe(ds.images.buffer);
    expect(sliceDataset(ds, 2, 5, { copy: false }).images.buffer).toBe(ds.images.buffer);
    checkDataset(s);
  });

  it('takeFirst returns the set itself when nothing is cut', () => {
    expect(takeFirst(ds, undefined)).toBe(ds);
    expect(takeFirst(ds, 99)).toBe(ds);
    expect(takeFirst(ds, 4).count).toBe(4);
  });

  it('rejects bad ranges and limits, naming the values', () => {
    expect(() => sliceDataset(ds, 5, 11)).toThrow(
      'sliceDataset("synthetic"): need 0 ≤ start ≤ end ≤ 10, got start=5, end=11',
    );
    expect(() => takeFirst(ds, 1.5)).toThrow(
      'synthetic: limit must be a non-negative integer, got 1.5',
    );
  });

  it('checkDataset names inconsistencies', () => {
    expect(() => checkDataset({ ...ds, count: 11 })).toThrow(
      'images has 240 bytes, expected count×height×width×channels = 11×3×4×2 = 264',
    );
    expect(() => checkDataset({ ...ds, numClasses: 3 })).toThrow(
      'label 3 at index 3 is not below numClasses = 3',
    );
  });
});
