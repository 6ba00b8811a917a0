/**
 * Hostile options given to the library directly (trainModel, compareConvs, evaluateSavedModel,
 * foldSavedModel): each is refused before any work or write, with an error naming the option and
 * the value, NaN and ±Infinity printed as such (not JSON's "null"). The rules are the CLI's (one
 * table, src/train/recipeOptions.ts, read by the CLI through src/cli/recipeFlags.ts), checked in test/hardening/cliArguments.test.ts.
 */
import * as fs from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareConvs,
  evaluateSavedModel,
  foldSavedModel,
  trainModel,
  type CompareOptions,
  type TrainOptions,
} from '../../src/train/index.js';
import { checkNumber, describeRule, showValue } from '../../src/train/numberRules.js';
import { numberParser } from '../../src/cli/textParsers.js';
import { tempDir } from '../train/helpers.js';

let root = '';
beforeAll(async () => {
  root = await tempDir('trainer-args');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const model = 'tf-mnist-sample';

const trainCases: Array<[string, TrainOptions, string]> = [
  ['lr NaN', { model, lr: NaN }, 'lr must be a number in (0, 10], got NaN'],
  ['lr Infinity', { model, lr: Infinity }, 'lr must be a number in (0, 10], got Infinity'],
  ['lr 0', { model, lr: 0 }, 'lr must be a number in (0, 10], got 0'],
  ['lr negative', { model, lr: -0.1 }, 'lr must be a number in (0, 10], got -0.1'],
  ['lr huge', { model, lr: 1e30 }, 'lr must be a number in (0, 10], got 1e+30'],
  ['lr as text', { model, lr: '0.1' as never }, 'lr must be a number in (0, 10], got "0.1"'],
  ['epochs 0', { model, epochs: 0 }, 'epochs must be a positive integer, got 0'],
  ['epochs NaN', { model, epochs: NaN }, 'epochs must be a positive integer, got NaN'],
  [
    'epochs Infinity',
    { model, epochs: Infinity },
    'epochs must be a positive integer, got Infinity',
  ],
  ['epochs 1.5', { model, epochs: 1.5 }, 'epochs must be a positive integer, got 1.5'],
  ['batchSize 0', { model, batchSize: 0 }, 'batchSize must be a positive integer, got 0'],
  [
    'batchSize -Infinity',
    { model, batchSize: -Infinity },
    'batchSize must be a positive integer, got -Infinity',
  ],
  [
    'evalBatchSize 0.5',
    { model, evalBatchSize: 0.5 },
    'evalBatchSize must be a positive integer, got 0.5',
  ],
  ['workers 0', { model, workers: 0 }, 'workers must be a positive integer, got 0'],
  ['trainLimit 0', { model, trainLimit: 0 }, 'trainLimit must be a positive integer, got 0'],
  ['trainLimit NaN', { model, trainLimit: NaN }, 'trainLimit must be a positive integer, got NaN'],
  ['testLimit -1', { model, testLimit: -1 }, 'testLimit must be a positive integer, got -1'],
  ['holdout 0', { model, holdout: 0 }, 'holdout must be a positive integer, got 0'],
  ['seed NaN', { model, seed: NaN }, 'seed must be an integer, got NaN'],
  ['seed 1.5', { model, seed: 1.5 }, 'seed must be an integer, got 1.5'],
  ['weightDecay NaN', { model, weightDecay: NaN }, 'weightDecay must be a number ≥ 0, got NaN'],
  [
    'weightDecay Infinity',
    { model, weightDecay: Infinity },
    'weightDecay must be a number ≥ 0, got Infinity',
  ],
  [
    'weightDecay negative',
    { model, weightDecay: -1e-4 },
    'weightDecay must be a number ≥ 0, got -0.0001',
  ],
  [
    'momentum 1',
    { model, optimizer: 'sgd', momentum: 1 },
    'momentum must be a number in [0, 1), got 1',
  ],
  [
    'momentum NaN',
    { model, optimizer: 'sgd', momentum: NaN },
    'momentum must be a number in [0, 1), got NaN',
  ],
  ['beta1 1', { model, optimizer: 'adam', beta1: 1 }, 'beta1 must be a number in [0, 1), got 1'],
  [
    'beta2 -0.5',
    { model, optimizer: 'adam', beta2: -0.5 },
    'beta2 must be a number in [0, 1), got -0.5',
  ],
  [
    'epsilon 0',
    { model, optimizer: 'adam', epsilon: 0 },
    'epsilon must be a number in (0, 1], got 0',
  ],
  [
    'cosine minLr above lr',
    { model, lr: 0.01, schedule: { kind: 'cosine', minLr: 0.1 } },
    'schedule.minLr 0.1 is above lr 0.01',
  ],
  [
    'cosine minLr NaN',
    { model, schedule: { kind: 'cosine', minLr: NaN } },
    'schedule.minLr must be a number ≥ 0, got NaN',
  ],
  [
    'step every Infinity',
    { model, schedule: { kind: 'step', every: Infinity } },
    'schedule.every must be a positive number, got Infinity',
  ],
  [
    'step gamma 0',
    { model, schedule: { kind: 'step', every: 3, gamma: 0 } },
    'schedule.gamma must be a number in (0, 1], got 0',
  ],
  [
    'step milestone NaN',
    { model, schedule: { kind: 'step', milestones: [3, NaN] } },
    'schedule.milestones[1] must be a positive number, got NaN',
  ],
  ['schedule as text', { model, schedule: 'cosine' as never }, 'schedule must be an object'],
  ['augment "yes"', { model, augment: 'yes' as never }, 'augment must be true or false, got "yes"'],
  // @ts-expect-error a misspelled zoo name does not type-check either (ZooModelName)
  ['unknown model', { model: 'resnet-7' }, 'unknown model "resnet-7"; known models: '],
  [
    'unknown conv',
    { model, conv: 'dconv' as never },
    'conv must be one of conv, doconv, got "dconv"',
  ],
  ['unknown dataset', { model, dataset: 'svhn' as never }, 'unknown dataset "svhn"'],
  [
    'unknown optimizer',
    { model, optimizer: 'rmsprop' as never },
    'optimizer must be one of sgd, adam, got "rmsprop"',
  ],
];

describe('trainModel refuses bad options before any work, naming option and value', () => {
  for (const [name, opts, message] of trainCases) {
    it(name, async () => {
      const out = path.join(root, `train-${name.replace(/\W+/g, '-')}`);
      await expect(trainModel({ ...opts, out })).rejects.toThrow(message);
      // Nothing written: not even the folder.
      await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
    });
  }
});

const compareCases: Array<[string, CompareOptions, string]> = [
  ['runs 0', { model, runs: 0 }, 'runs must be an integer in [1, 10000], got 0'],
  ['runs NaN', { model, runs: NaN }, 'runs must be an integer in [1, 10000], got NaN'],
  [
    'runs 2^31 - 1',
    { model, runs: 2 ** 31 - 1 },
    'runs must be an integer in [1, 10000], got 2147483647',
  ],
  [
    'jobs past the cores (a thread each)',
    { model, runs: 5000, jobs: 10_000 },
    `jobs 10000 is more than this machine's ${os.availableParallelism()} cores (each worker is a thread computing on one core); oversubscribe: true starts them anyway`,
  ],
  ['seeds empty', { model, seeds: [] }, 'seeds must be a non-empty array of integers, got []'],
  ['seeds NaN', { model, seeds: [1, NaN] }, 'seeds[1] must be an integer, got NaN'],
  ['seeds repeated', { model, seeds: [1, 1] }, 'seeds must not repeat'],
  ['jobs Infinity', { model, jobs: Infinity }, 'jobs must be a positive integer, got Infinity'],
  ['lr Infinity', { model, lr: Infinity }, 'lr must be a number in (0, 10], got Infinity'],
];

describe('compareConvs refuses bad options before any run', () => {
  for (const [name, opts, message] of compareCases) {
    it(name, async () => {
      const out = path.join(root, `compare-${name.replace(/\W+/g, '-')}`);
      await expect(compareConvs({ ...opts, out })).rejects.toThrow(message);
      await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
    });
  }
});

describe('evaluateSavedModel and foldSavedModel check their numbers first', () => {
  it('limit, batchSize, verifyImages', async () => {
    await expect(evaluateSavedModel('/no/such', { limit: 0 })).rejects.toThrow(
      'limit must be a positive integer, got 0',
    );
    await expect(evaluateSavedModel('/no/such', { batchSize: NaN })).rejects.toThrow(
      'batchSize must be a positive integer, got NaN',
    );
    await expect(foldSavedModel('/no/such', root, { verifyImages: -1 })).rejects.toThrow(
      'verifyImages must be an integer ≥ 0, got -1',
    );
  });
});

describe('the validation layer', () => {
  it('showValue prints NaN and ±Infinity as such, also inside arrays', () => {
    expect(showValue(NaN)).toBe('NaN');
    expect(showValue(-Infinity)).toBe('-Infinity');
    expect(showValue([1, NaN, Infinity])).toBe('[1,NaN,Infinity]');
    expect(showValue({ minLr: NaN })).toBe('{"minLr":NaN}');
    expect(showValue('x')).toBe('"x"');
    expect(showValue(undefined)).toBe('undefined');
    expect(showValue(-0)).toBe('-0');
  });

  it('describeRule', () => {
    expect(describeRule({ integer: true, min: 1 })).toBe('a positive integer');
    expect(describeRule({ min: 0, minExclusive: true })).toBe('a positive number');
    expect(describeRule({ min: 0 })).toBe('a number ≥ 0');
    expect(describeRule({ min: 0, max: 1, maxExclusive: true })).toBe('a number in [0, 1)');
    expect(describeRule({ integer: true })).toBe('an integer');
  });

  const parseCases: Array<[string, boolean]> = [
    ['3', true],
    // Digits only, as docs/cli.md says (eb2f09c): no sign, no surrounding spaces.
    [' 3 ', false],
    ['+3', false],
    ['', false],
    [' ', false],
    ['NaN', false],
    ['Infinity', false],
    ['-Infinity', false],
    ['1e999', false],
    ['0x10', false],
    ['3abc', false],
    ['0', false],
    ['-3', false],
  ];
  for (const [text, ok] of parseCases) {
    it(`positive integer from ${JSON.stringify(text)}: ${ok ? 'read' : 'refused, naming the text'}`, () => {
      const parse = numberParser({ integer: true, min: 1 });
      if (ok) expect(parse(text)).toBe(3);
      else expect(() => parse(text)).toThrow(`${JSON.stringify(text)} is not a positive integer.`);
    });
  }

  it('number texts: exponents and decimals read; NaN, Infinity and overflow do not', () => {
    const parse = numberParser({ min: 0, minExclusive: true, max: 10 });
    expect(parse('1e-3')).toBe(0.001);
    expect(parse('.5')).toBe(0.5);
    expect(parse('10')).toBe(10);
    for (const bad of ['NaN', 'Infinity', '1e999', '11', '1e30', '0', '-1', '', 'e3', '1..2']) {
      expect(() => parse(bad)).toThrow(`${JSON.stringify(bad)} is not a number in (0, 10].`);
    }
  });

  it('checkNumber returns the value it accepts', () => {
    expect(checkNumber('x', 2, { integer: true, min: 1 })).toBe(2);
  });
});
