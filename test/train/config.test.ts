/** Presets fix everything but the conv kind; overrides apply to both sides; errors name option and value. */
import { describe, expect, it } from 'vitest';
import {
  PRESET_NAMES,
  PRESETS,
  resolveConfig,
  RESUME_KEYS,
  type RecipeOptions,
} from '../../src/train/index.js';

describe('presets', () => {
  it('the three official samples, as issue 4 states them', () => {
    expect(PRESET_NAMES).toEqual(['tf-mnist-sample', 'pt-mnist-sample', 'gluon-lenet']);
    expect(PRESETS['tf-mnist-sample']).toMatchObject({
      model: 'tf-mnist-sample',
      dataset: 'mnist',
      epochs: 5,
      batchSize: 32,
      optimizer: { kind: 'adam', learningRate: 0.001 },
      normalize: 'none',
      weightDecay: 0,
    });
    expect(PRESETS['tf-mnist-sample']).not.toHaveProperty('holdout');
    expect(PRESETS['pt-mnist-sample']).toMatchObject({
      model: 'pt-mnist-sample',
      holdout: 10000,
      epochs: 1,
      batchSize: 32,
      optimizer: { kind: 'sgd', learningRate: 0.01, momentum: 0.9 },
    });
    expect(PRESETS['gluon-lenet']).toMatchObject({
      model: 'gluon-lenet',
      epochs: 10,
      batchSize: 100,
      optimizer: { kind: 'sgd', learningRate: 0.03, momentum: 0 },
    });
  });

  for (const preset of PRESET_NAMES) {
    it(`${preset}: conv and doconv configs differ in conv only, with or without overrides`, () => {
      for (const overrides of [{}, { epochs: 15, trainLimit: 6000, lr: 0.02 }] as RecipeOptions[]) {
        const a = resolveConfig({ preset, ...overrides, conv: 'conv' });
        const b = resolveConfig({ preset, ...overrides, conv: 'doconv' });
        expect({ ...a, conv: 'x' }).toEqual({ ...b, conv: 'x' });
        if (overrides.epochs)
          expect(a).toMatchObject({
            epochs: 15,
            trainLimit: 6000,
            optimizer: { learningRate: 0.02 },
          });
      }
    });
  }

  it('without a preset: per-dataset defaults (cifar10 gets the CIFAR recipe)', () => {
    expect(resolveConfig({ model: 'resnet-20', dataset: 'cifar10' })).toMatchObject({
      optimizer: { kind: 'sgd', learningRate: 0.1, momentum: 0.9 },
      augment: true,
      normalize: 'dataset',
      weightDecay: 1e-4,
      schedule: { kind: 'cosine' },
    });
    expect(resolveConfig({ model: 'resnet-20', dataset: 'fashion-mnist' })).toMatchObject({
      optimizer: { kind: 'adam' },
      augment: false,
      preset: null,
    });
  });

  it("switching the optimizer does not inherit the other one's settings", () => {
    const c = resolveConfig({ preset: 'pt-mnist-sample', optimizer: 'adam' });
    expect(c.optimizer).toEqual({
      kind: 'adam',
      learningRate: 0.001,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
    });
  });

  it('every resume key is a config field', () => {
    const c = resolveConfig({ preset: 'pt-mnist-sample' });
    // holdout and imageSize are present only when set
    for (const k of RESUME_KEYS)
      if (k !== 'holdout' && k !== 'imageSize' && k !== 'channels') expect(c).toHaveProperty(k);
  });
});

describe('resolveConfig errors name the option and the value', () => {
  const cases: Array<[RecipeOptions, string]> = [
    // @ts-expect-error a misspelled zoo name does not type-check either (ZooModelName)
    [{ model: 'resnet-7' }, 'unknown model "resnet-7"; known models: tf-mnist-sample'],
    [
      { preset: 'keras' },
      'unknown preset "keras"; known presets: tf-mnist-sample, pt-mnist-sample, gluon-lenet',
    ],
    [{}, 'model is required without a preset'],
    [{ model: 'tf-mnist-sample', epochs: 0 }, 'epochs must be a positive integer, got 0'],
    [{ model: 'tf-mnist-sample', batchSize: 2.5 }, 'batchSize must be a positive integer, got 2.5'],
    [{ model: 'tf-mnist-sample', lr: -1 }, 'lr must be a number in (0, 10], got -1'],
    [
      { model: 'tf-mnist-sample', optimizer: 'sgd', momentum: 1.5 },
      'momentum must be a number in [0, 1), got 1.5',
    ],
    [{ model: 'tf-mnist-sample', weightDecay: -0.1 }, 'weightDecay must be a number ≥ 0, got -0.1'],
    [{ model: 'tf-mnist-sample', dataset: 'svhn' as never }, 'unknown dataset "svhn"'],
    [
      { model: 'tf-mnist-sample', conv: 'dconv' as never },
      'conv must be one of conv, doconv, got "dconv"',
    ],
    [
      { model: 'tf-mnist-sample', schedule: { kind: 'step' } },
      'step schedule: give exactly one of milestones or every',
    ],
  ];
  for (const [opts, message] of cases) {
    it(JSON.stringify(opts), () => expect(() => resolveConfig(opts)).toThrow(message));
  }
});
