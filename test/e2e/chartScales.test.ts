/**
 * The playground chart's pure parts (web/src/lineChart.ts): the y axis it picks and where it puts the
 * end-of-line labels. Here, in the e2e lane, because the module belongs to the web build.
 */
import { describe, expect, it } from 'vitest';
import { spreadLabels, yRange, type YScale } from '../../web/src/lineChart.js';

describe('yRange', () => {
  const zoomed: YScale = { kind: 'zoomed', limits: [0, 1] };

  it('zooms accuracy to the data: 84–89 % gets an axis of a few points, not 0–100 %', () => {
    const [lo, hi] = yRange([0.84, 0.86, 0.88, 0.89], zoomed);
    expect(lo).toBeGreaterThan(0.7);
    expect(hi).toBeLessThanOrEqual(0.95);
    expect(lo).toBeLessThanOrEqual(0.84);
    expect(hi).toBeGreaterThanOrEqual(0.89);
  });

  for (const ys of [[0.84, 0.89], [0.3, 0.91], [0.5], [0.97, 0.995], [0.01, 0.02]]) {
    it(`zoomed ${JSON.stringify(ys)}: holds the data within [0, 1], middle tick on a round number`, () => {
      const [lo, hi] = yRange(ys, zoomed);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(lo).toBeLessThanOrEqual(Math.min(...ys));
      expect(hi).toBeGreaterThanOrEqual(Math.max(...ys));
      const mid = (100 * (lo + hi)) / 2;
      expect(Math.abs(mid - Math.round(mid))).toBeLessThan(1e-6);
    });
  }

  it('no data: the whole of the limits', () => {
    expect(yRange([], zoomed)).toEqual([0, 1]);
  });

  it('a difference axis is symmetric around 0 and at least ±minHalfSpan', () => {
    const scale: YScale = { kind: 'around-zero', minHalfSpan: 1 };
    expect(yRange([0.2, -0.4], scale)).toEqual([-1, 1]);
    expect(yRange([2.2, -0.4], scale)).toEqual([-2.5, 2.5]);
  });

  it('a loss axis starts at 0', () => {
    expect(yRange([2.3, 0.4], { kind: 'from-zero' })).toEqual([0, 2.5]);
  });
});

describe('spreadLabels', () => {
  it('keeps labels that are apart where they are', () => {
    expect(spreadLabels([50, 100], 0, 200)).toEqual([50, 100]);
  });

  it('pushes two labels of nearly equal values at least 15 px apart, keeping their order', () => {
    const [a, b] = spreadLabels([100, 98], 0, 200);
    expect(a - b).toBeGreaterThanOrEqual(15);
  });

  it('stays within the plot at the bottom edge', () => {
    const ys = spreadLabels([199, 200], 0, 200);
    expect(Math.max(...ys)).toBeLessThanOrEqual(200);
    expect(Math.abs(ys[0] - ys[1])).toBeGreaterThanOrEqual(15);
  });
});
