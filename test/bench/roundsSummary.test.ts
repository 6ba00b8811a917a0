import { describe, expect, it } from 'vitest';
import {
  doOverheadPct,
  keptFraction,
  peakMemory,
  ratioToTorch,
  type NetRow,
} from '../../bench/roundsSummary.js';
import { summarize } from '../../bench/stats.js';

function row(over: Partial<NetRow> & Pick<NetRow, 'round' | 'side' | 'windows'>): NetRow {
  return {
    condition: 'idle',
    net: 'resnet-20',
    variant: 'doconv',
    batch: 8,
    backend: 'wasm',
    engine: 'native',
    threads: 2,
    stepsPerWindow: 1,
    imagesPerSec: summarize(over.windows),
    cpuMsWindows: over.windows.map(() => 1),
    cpuMsPerStep: summarize([1]),
    peakRssBytes: 100,
    peakRssResettable: true,
    firstLoss: 1,
    lastLoss: 1,
    ...over,
  };
}

describe('bench rounds summary', () => {
  it('takes the doconv/PyTorch ratio inside each round, then the median and spread over rounds', () => {
    const rows = [
      row({ round: 1, side: 'doconv', windows: [100, 120, 110] }), // median 110
      row({ round: 1, side: 'pytorch', windows: [50, 55, 60] }), // median 55 → 2
      row({ round: 2, side: 'doconv', windows: [30] }),
      row({ round: 2, side: 'pytorch', windows: [60] }), // 0.5
      row({ round: 3, side: 'doconv', windows: [90] }),
      row({ round: 3, side: 'pytorch', windows: [100] }), // 0.9
      row({ round: 3, side: 'doconv', windows: [5], condition: 'loaded' }), // no loaded twin: left out
    ];
    expect(ratioToTorch(rows, 'idle')).toEqual({
      'resnet-20 doconv': { median: 0.9, min: 0.5, max: 2, n: 3 },
    });
    expect(ratioToTorch(rows, 'loaded')).toEqual({});
  });

  it('keeps loaded ÷ idle per side and round', () => {
    const rows = [
      row({ round: 1, side: 'doconv', windows: [100] }),
      row({ round: 1, side: 'doconv', windows: [40], condition: 'loaded' }),
      row({ round: 2, side: 'doconv', windows: [80] }),
      row({ round: 2, side: 'doconv', windows: [60], condition: 'loaded' }),
      row({ round: 1, side: 'pytorch', windows: [100] }),
      row({ round: 1, side: 'pytorch', windows: [25], condition: 'loaded' }),
    ];
    expect(keptFraction(rows, 'doconv')['resnet-20 doconv']).toEqual({
      median: 0.575,
      min: 0.4,
      max: 0.75,
      n: 2,
    });
    expect(keptFraction(rows, 'pytorch')['resnet-20 doconv'].median).toBe(0.25);
  });

  it('pairs the DO-Conv overhead window by window within a round', () => {
    const rows = [
      row({ round: 1, side: 'doconv', variant: 'conv', windows: [110, 200] }),
      row({ round: 1, side: 'doconv', variant: 'doconv', windows: [100, 100] }), // 10 %, 100 %
      row({ round: 2, side: 'doconv', variant: 'conv', windows: [100] }),
      row({ round: 2, side: 'doconv', variant: 'doconv', windows: [100] }), // 0 %
    ];
    const o = doOverheadPct(rows, 'doconv', 'idle')['resnet-20 doconv'];
    expect(o.n).toBe(2);
    expect(o.max).toBeCloseTo(55); // round 1: median of 10 and 100
    expect(o.min).toBe(0);
  });

  it('reports the highest peak RSS of each side', () => {
    const rows = [
      row({ round: 1, side: 'doconv', windows: [1], peakRssBytes: 5 }),
      row({ round: 2, side: 'doconv', windows: [1], peakRssBytes: 9 }),
      row({ round: 1, side: 'pytorch', windows: [1], peakRssBytes: 7 }),
    ];
    expect(peakMemory(rows)).toEqual({ 'resnet-20 doconv': { doconv: 9, pytorch: 7 } });
  });
});
