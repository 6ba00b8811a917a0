/** Plain progress lines when stderr is not a terminal: every 10 % of an epoch, then the epoch line. */
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatEpochLine,
  LineProgress,
  type EpochMetrics,
} from '../../src/train/index.js';

const metrics: EpochMetrics = {
  epoch: 2,
  trainLoss: 0.12345,
  trainAccuracy: 0.9612,
  testLoss: 0.0712,
  testAccuracy: 0.9781,
  imagesPerSecond: 912.4,
  seconds: 65.83,
  evalSeconds: 1.2,
  lr: 0.001,
};

describe('LineProgress', () => {
  it('prints at each tenth of the epoch with images/s and ETA, then the epoch summary', () => {
    const lines: string[] = [];
    const p = new LineProgress((l) => lines.push(l));
    p.startEpoch(2, 5, 20);
    for (let step = 1; step <= 20; step++) {
      p.step({
        step,
        steps: 20,
        images: step * 32,
        loss: 0.5,
        accuracy: 0.8,
        imagesPerSecond: 320,
      });
    }
    p.endEpoch(metrics, 5);
    expect(lines.length).toBe(9 + 1);
    expect(lines[0]).toBe('epoch 2/5  10% step 2/20 | loss 0.5000 acc 0.8000 | 320 img/s | ETA 2s');
    expect(lines[8].startsWith('epoch 2/5  90% step 18/20 ')).toBe(true);
    expect(lines[9]).toBe(formatEpochLine(metrics, 5));
    expect(lines[9]).toBe(
      'epoch 2/5: train loss 0.1235 acc 0.9612 | test loss 0.0712 acc 0.9781 | 912 img/s, 65.8 s | lr 0.001',
    );
  });

  it('epochs with fewer than 10 steps print fewer lines', () => {
    const lines: string[] = [];
    const p = new LineProgress((l) => lines.push(l));
    p.startEpoch(1, 1, 3);
    for (let step = 1; step <= 3; step++)
      p.step({ step, steps: 3, images: step, loss: 1, accuracy: 0, imagesPerSecond: 1 });
    expect(lines.length).toBe(2);
  });
});

describe('formatDuration', () => {
  for (const [s, text] of [
    [42, '42s'],
    [185, '3m05s'],
    [3720, '1h02m'],
    [Infinity, '?'],
  ] as const) {
    it(`${s} s → ${text}`, () => expect(formatDuration(s)).toBe(text));
  }
});
