import { describe, expect, it } from 'vitest';
import {
  checkSchedule,
  learningRateAt,
  type LrSchedule,
  type ScheduleProgress,
} from '../../src/train/index.js';

const at = (epoch: number, step = 0, stepsPerEpoch = 10, epochs = 10): ScheduleProgress => ({
  epoch,
  step,
  stepsPerEpoch,
  epochs,
});

describe('learningRateAt', () => {
  it('warm-up: rate × (steps done incl. this one) / warm-up steps, per step whatever the unit, then the schedule', () => {
    // 10 steps an epoch, warm-up over 1.5 epochs = 15 steps; a plain loop of the definition.
    for (const unit of ['epoch', 'step'] as const) {
      const s: LrSchedule = { kind: 'cosine', warmupEpochs: 1.5 };
      for (let i = 0; i < 30; i++) {
        const [e, st] = [Math.floor(i / 10), i % 10];
        const t = unit === 'step' ? e + st / 10 : e;
        const cosine = (0.2 * (1 + Math.cos((Math.PI * t) / 10))) / 2;
        const expected = (i + 1 < 15 ? (i + 1) / 15 : 1) * cosine;
        expect(learningRateAt(s, 0.2, unit, at(e, st))).toBeCloseTo(expected, 12);
      }
    }
    expect(learningRateAt({ kind: 'constant', warmupEpochs: 0 }, 0.1, 'step', at(0))).toBe(0.1);
    expect(learningRateAt({ kind: 'constant', warmupEpochs: 2 }, 0.1, 'step', at(0))).toBeCloseTo(
      0.005,
      12,
    );
  });

  it('constant: the base rate everywhere', () => {
    for (const unit of ['epoch', 'step'] as const)
      for (const e of [0, 3, 9])
        expect(learningRateAt({ kind: 'constant' }, 0.1, unit, at(e, 7))).toBe(0.1);
  });

  const milestones: LrSchedule = { kind: 'step', milestones: [3, 6], gamma: 0.1 };
  const stepCases: Array<[number, number, 'epoch' | 'step', number]> = [
    // epoch, step, unit, expected factor
    [0, 0, 'epoch', 1],
    [2, 9, 'epoch', 1],
    [3, 0, 'epoch', 0.1],
    [5, 9, 'epoch', 0.1],
    [6, 0, 'epoch', 0.01],
    [9, 5, 'epoch', 0.01],
    [2, 9, 'step', 1], // t = 2.9
    [3, 0, 'step', 0.1],
  ];
  for (const [epoch, step, unit, factor] of stepCases) {
    it(`step milestones [3, 6]: epoch=${epoch}, step=${step}, unit=${unit} → ×${factor}`, () => {
      expect(learningRateAt(milestones, 0.5, unit, at(epoch, step))).toBeCloseTo(0.5 * factor, 12);
    });
  }

  it('step every 2 epochs with the default gamma 0.1', () => {
    const s: LrSchedule = { kind: 'step', every: 2 };
    expect([0, 1, 2, 3, 4].map((e) => learningRateAt(s, 1, 'epoch', at(e)))).toEqual([
      1,
      1,
      0.1,
      0.1,
      0.1 ** 2,
    ]);
  });

  it('cosine per epoch: base at epoch 0, half-way at T/2, min at T', () => {
    const s: LrSchedule = { kind: 'cosine', minLr: 0.001 };
    expect(learningRateAt(s, 0.1, 'epoch', at(0))).toBeCloseTo(0.1, 12);
    expect(learningRateAt(s, 0.1, 'epoch', at(5))).toBeCloseTo((0.1 + 0.001) / 2, 12);
    expect(learningRateAt(s, 0.1, 'epoch', at(10))).toBeCloseTo(0.001, 12);
    // Constant within an epoch when per epoch.
    expect(learningRateAt(s, 0.1, 'epoch', at(2, 9))).toBe(
      learningRateAt(s, 0.1, 'epoch', at(2, 0)),
    );
  });

  it('cosine per step follows t = epoch + step/stepsPerEpoch', () => {
    const s: LrSchedule = { kind: 'cosine' };
    const t = 2 + 4 / 10;
    const expected = (0.1 * (1 + Math.cos((Math.PI * t) / 10))) / 2;
    expect(learningRateAt(s, 0.1, 'step', at(2, 4))).toBeCloseTo(expected, 12);
    // Decreasing step by step.
    const rates = Array.from({ length: 10 }, (_, k) => learningRateAt(s, 0.1, 'step', at(0, k)));
    for (let k = 1; k < rates.length; k++) expect(rates[k]).toBeLessThan(rates[k - 1]);
  });
});

describe('checkSchedule', () => {
  const bad: Array<[string, LrSchedule, RegExp]> = [
    [
      'step with neither milestones nor every',
      { kind: 'step' },
      /exactly one of milestones or every/,
    ],
    ['step with both', { kind: 'step', milestones: [2], every: 3 }, /exactly one/],
    [
      'negative milestone',
      { kind: 'step', milestones: [-1] },
      /milestones must be positive epochs, got \[-1\]/,
    ],
    ['zero gamma', { kind: 'step', every: 2, gamma: 0 }, /gamma must be > 0, got 0/],
    ['negative minLr', { kind: 'cosine', minLr: -1 }, /minLr must be ≥ 0, got -1/],
    [
      'negative warm-up',
      { kind: 'cosine', warmupEpochs: -1 },
      /warmupEpochs must be .* ≥ 0, got -1/,
    ],
    [
      'NaN warm-up',
      { kind: 'constant', warmupEpochs: NaN },
      /warmupEpochs must be .* got NaN|warmupEpochs must be .* got null/,
    ],
    ['unknown kind', { kind: 'linear' } as unknown as LrSchedule, /unknown kind "linear"/],
  ];
  for (const [name, s, message] of bad)
    it(`rejects ${name}`, () => expect(() => checkSchedule(s)).toThrow(message));
});
