/**
 * The recipe every task takes (RecipeOptions: the options of the one recipe table, recipeOptions.ts,
 * plus what only the library takes), the checks every task's recipe passes, and the classification
 * recipe: from a preset, a model and overrides to the complete, checked, JSON-serialisable
 * `TrainConfig` a classification run records in its checkpoint and summary. (The scene tasks'
 * recipe is in sceneTasks.ts.)
 */
import {
  type ConvKind,
  convKinds,
  isZooModelName,
  type ZooModelName,
  zooModelNames,
  type ZooTask,
} from '../models/index.js';
import type { SceneSet } from '../data/scenes.js';
import { DATASET_NAMES, type DatasetName } from '../data/loadDataset.js';
import { NORMALIZE_KINDS } from './data.js';
import { OPTIMIZER_KINDS, type OptimizerSpec } from './optimizers.js';
import { defaultRecipe, presetByName, type Recipe } from './presets.js';
import { RECIPE_OPTIONS, type RecipeOptionRow, type RecipeOptionValue } from './recipeOptions.js';
import { checkNumber, INTEGER, type NumberRule, showValue } from './numberRules.js';
import { OptionError } from '../util/optionError.js';
import { checkSchedule, type LrSchedule } from './schedules.js';
import { TRAINING_RESUME_KEYS, type TrainingRecipe } from './trainingRecipe.js';

/** Builds a model for a run (a zoo model name is the usual way; this is for models of your own). */
export type ModelBuilder = (opts: {
  conv: ConvKind;
  inputShape: [number, number, number];
  numClasses: number;
  seed: number;
}) => import('@tensorflow/tfjs').LayersModel;

/** The table's options that are options of their own (not a field of `schedule`), with their docs. */
type TableOptions = {
  -readonly [
    K in keyof typeof RECIPE_OPTIONS as K extends `schedule.${string}` ? never : K
  ]?: RecipeOptionValue<(typeof RECIPE_OPTIONS)[K]>;
};

/**
 * What decides a run: the options of RECIPE_OPTIONS (recipeOptions.ts), where the library takes
 * more than a flag gives, and the run's conv kind and seed. With `preset`, every field the preset
 * sets is taken from it unless given here (and then it applies to conv and doconv runs alike:
 * `compare` passes one options object to both).
 */
export type RecipeOptions = Omit<TableOptions, 'preset' | 'model' | 'task'> & {
  /** 'tf-mnist-sample', 'pt-mnist-sample' or 'gluon-lenet' (see presets.ts). */
  preset?: string;
  /**
   * A zoo model name (see zooModelNames), or a builder of your own (classification). Required
   * without a preset or a task; its task (zooModelTask) decides how the run trains.
   */
  model?: ZooModelName | ModelBuilder;
  /**
   * What to train for: default the model's own task. Without a model, 'segmentation' and
   * 'detection' take their default zoo net (deeplab-mini, centernet-mini).
   */
  task?: ZooTask;
  /** Segmentation and detection: your own scenes (e.g. loadCocoFolder); both or neither. */
  train?: SceneSet;
  test?: SceneSet;
  /** Segmentation and detection: the seed of the generated mnist-scenes. Default 2026. */
  sceneSeed?: number;
  /** Detection: detections kept per image when scoring. Default 20. */
  topK?: number;
  /** Default: the preset's, else the dataset's (see defaultRecipe). */
  schedule?: LrSchedule;
  /** Default 'doconv'. */
  conv?: ConvKind;
  /** Seeds initialisation (the zoo's seed), shuffling and augmentation. Default 1. */
  seed?: number;
};

/** The complete recipe of a run, as recorded in state.json and summary.json. */
export interface TrainConfig extends Recipe {
  preset: string | null;
  /** The zoo name, or the builder's function name for a custom model. */
  model: string;
  conv: ConvKind;
  dataDir: string | null;
  /** Dataset 'folder': the [height, width] its images are resized to, when given. */
  imageSize?: [number, number];
  /** Dataset 'folder': 1 (gray) or 3 (RGB), when given (default: 1 when every image is gray). */
  channels?: 1 | 3;
  holdout?: number;
  trainLimit: number | null;
  testLimit: number | null;
  seed: number;
  workers: number;
}

/** Fields that must match for `resume` to continue a run (epochs may grow; paths may move). */
export const RESUME_KEYS = [
  'model',
  'conv',
  'dataset',
  'imageSize',
  'channels',
  'holdout',
  'trainLimit',
  'testLimit',
  ...TRAINING_RESUME_KEYS,
  'augment',
  'normalize',
  'seed',
  'workers',
] as const satisfies readonly (keyof TrainConfig)[];

/** One setting that differs between a recorded run and the settings asked for now. */
export interface SettingDifference {
  key: keyof TrainConfig;
  recorded: unknown;
  now: unknown;
}

/**
 * The `keys` whose values differ between a recorded config (a checkpoint's or a finished run's)
 * and `now`. Fields added to the recipe after a run was recorded count with the value such runs
 * had: `workers` 1.
 */
export function differingSettings(
  recorded: Partial<TrainConfig> | undefined,
  now: TrainConfig,
  keys: readonly (keyof TrainConfig)[] = RESUME_KEYS,
): SettingDifference[] {
  const saved: Partial<TrainConfig> = { workers: 1, ...recorded };
  return keys
    .filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k]))
    .map((key) => ({ key, recorded: saved[key], now: now[key] }));
}

/**
 * Refuses the options of `keys` that `opts` gives: they mean nothing for this run (`why` says what
 * it is). One error naming every one of them.
 */
export function refuseOptions(
  opts: object,
  keys: readonly string[],
  why: (name: (option: string) => string) => string,
): void {
  const given = keys.filter((k) => (opts as Record<string, unknown>)[k] !== undefined);
  if (given.length > 0) {
    throw new OptionError(given, (n) => `${given.map((k) => n(k)).join(', ')}: ${why(n)}`);
  }
}

/** The options only segmentation and detection runs take. */
export const SCENE_ONLY_OPTIONS = ['train', 'test', 'sceneSeed', 'topK'] as const;

/** Resolves and checks a classification recipe; errors name the option and the value. */
export function resolveConfig(opts: RecipeOptions): TrainConfig {
  const preset = opts.preset !== undefined ? presetByName(opts.preset) : undefined;
  const model = opts.model ?? preset?.model;
  if (model === undefined) {
    throw new OptionError(
      ['model', 'preset'],
      (n) =>
        `${n('model')} is required without a ${n('preset')}; known models: ${zooModelNames.join(', ')}`,
    );
  }
  const modelName = typeof model === 'string' ? model : model.name || 'custom';
  if (typeof model === 'string' && !isZooModelName(model)) {
    throw new OptionError(
      'model',
      (n) => `unknown ${n('model')} ${showValue(model)}; known models: ${zooModelNames.join(', ')}`,
    );
  }
  refuseOptions(
    opts,
    SCENE_ONLY_OPTIONS,
    () => `not used by ${modelName} (a classification model)`,
  );
  const wanted: string = opts.dataset ?? preset?.dataset ?? 'mnist';
  if (!(DATASET_NAMES as readonly string[]).includes(wanted)) {
    throw new Error(
      wanted === 'mnist-scenes'
        ? `dataset "mnist-scenes" is for the segmentation and detection models (deeplab-mini, centernet-mini), not ${modelName}`
        : `unknown dataset ${showValue(wanted)}; known: ${DATASET_NAMES.join(', ')}`,
    );
  }
  const dataset = wanted as DatasetName;

  const base: Recipe = preset ?? { model: modelName, ...defaultRecipe(dataset) };
  const conv = opts.conv ?? 'doconv';
  if (!convKinds.includes(conv)) {
    throw new Error(`conv must be one of ${convKinds.join(', ')}, got ${showValue(conv)}`);
  }
  const config: TrainConfig = {
    ...base,
    preset: opts.preset ?? null,
    model: modelName,
    conv,
    dataset,
    dataDir: opts.dataDir ?? null,
    trainLimit: opts.trainLimit ?? null,
    testLimit: opts.testLimit ?? null,
    epochs: opts.epochs ?? base.epochs,
    batchSize: opts.batchSize ?? base.batchSize,
    evalBatchSize: opts.evalBatchSize ?? base.evalBatchSize,
    optimizer: resolveOptimizer(base.optimizer, opts),
    schedule: opts.schedule ?? base.schedule,
    scheduleUnit: opts.scheduleUnit ?? base.scheduleUnit,
    weightDecay: opts.weightDecay ?? base.weightDecay,
    decayD: opts.decayD ?? base.decayD,
    augment: opts.augment ?? base.augment,
    normalize: opts.normalize ?? base.normalize,
    seed: opts.seed ?? 1,
    workers: opts.workers ?? 1,
  };
  if (opts.imageSize !== undefined) config.imageSize = checkImageSize(opts.imageSize, dataset);
  if (opts.channels !== undefined) config.channels = checkChannels(opts.channels, dataset);
  const holdout = opts.holdout ?? base.holdout;
  if (holdout !== undefined) config.holdout = holdout;
  else delete config.holdout;
  checkConfig(config);
  return config;
}

function checkImageSize(size: unknown, dataset: DatasetName): [number, number] {
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((v) => Number.isInteger(v) && v >= 1 && v <= 65535)
  ) {
    throw new OptionError(
      'imageSize',
      (n) => `${n('imageSize')} must be [height, width] in pixels, got ${showValue(size)}`,
    );
  }
  if (dataset !== 'folder') {
    throw new OptionError(
      ['imageSize', 'dataset'],
      (n) =>
        `${n('imageSize')} resizes the images of ${n('dataset', 'folder')}; ${dataset} has a fixed size`,
    );
  }
  return [size[0], size[1]];
}

function checkChannels(channels: unknown, dataset: DatasetName): 1 | 3 {
  if (channels !== 1 && channels !== 3) {
    throw new OptionError(
      'channels',
      (n) => `${n('channels')} must be 1 (gray) or 3 (RGB), got ${showValue(channels)}`,
    );
  }
  if (dataset !== 'folder') {
    throw new OptionError(
      ['channels', 'dataset'],
      (n) =>
        `${n('channels')} converts the images of ${n('dataset', 'folder')}; ${dataset} has fixed channels`,
    );
  }
  return channels;
}

/** Refuses the options of the optimizer not chosen: SGD's momentum for Adam, Adam's β and ε for SGD. */
export function refuseOptimizerOptions(kind: string, opts: RecipeOptions): void {
  const others = kind === 'sgd' ? ['beta1', 'beta2', 'epsilon'] : ['momentum'];
  refuseOptions(opts, others, (n) => `not used by ${n('optimizer')} ${kind}`);
}

function resolveOptimizer(base: OptimizerSpec, opts: RecipeOptions): OptimizerSpec {
  const kind = opts.optimizer ?? base.kind;
  if (!OPTIMIZER_KINDS.includes(kind)) {
    throw new Error(
      `optimizer must be one of ${OPTIMIZER_KINDS.join(', ')}, got ${showValue(kind)}`,
    );
  }
  const same = kind === base.kind;
  const inherited = <K extends string>(key: K) =>
    same ? (base as unknown as Record<K, number | undefined>)[key] : undefined;
  const learningRate = opts.lr ?? (same ? base.learningRate : kind === 'adam' ? 0.001 : 0.01);
  refuseOptimizerOptions(kind, opts);
  if (kind === 'sgd') {
    const momentum = opts.momentum ?? inherited('momentum') ?? 0;
    return { kind, learningRate, momentum };
  }
  return {
    kind,
    learningRate,
    beta1: opts.beta1 ?? inherited('beta1') ?? 0.9,
    beta2: opts.beta2 ?? inherited('beta2') ?? 0.999,
    epsilon: opts.epsilon ?? inherited('epsilon') ?? 1e-7,
  };
}

/** A number option's rule from the table: the CLI reads the flag's text by the same rule. */
export function ruleOf(key: keyof typeof RECIPE_OPTIONS): NumberRule {
  const rule = (RECIPE_OPTIONS[key] as RecipeOptionRow).rule;
  if (rule === undefined) throw new Error(`recipe option ${key} has no number rule`);
  return rule;
}

function checkConfig(c: TrainConfig): void {
  checkTrainingRecipe(c);
  if (c.trainLimit !== null) checkNumber('trainLimit', c.trainLimit, ruleOf('trainLimit'));
  if (c.testLimit !== null) checkNumber('testLimit', c.testLimit, ruleOf('testLimit'));
  if (c.holdout !== undefined) checkNumber('holdout', c.holdout, ruleOf('holdout'));
  if (typeof c.augment !== 'boolean') {
    throw new Error(`augment must be true or false, got ${showValue(c.augment)}`);
  }
  if (!NORMALIZE_KINDS.includes(c.normalize)) {
    throw new Error(
      `normalize must be one of ${NORMALIZE_KINDS.join(', ')}, got ${showValue(c.normalize)}`,
    );
  }
}

/**
 * The checks every task's recipe passes, by the recipe table's rules: epochs, batch sizes,
 * workers, seed, the optimizer's numbers, weight decay, the schedule.
 */
export function checkTrainingRecipe(c: TrainingRecipe & { seed: number; workers: number }): void {
  for (const key of ['epochs', 'batchSize', 'evalBatchSize', 'workers'] as const) {
    checkNumber(key, c[key], ruleOf(key));
  }
  checkNumber('seed', c.seed, INTEGER);
  const opt = c.optimizer;
  if (!OPTIMIZER_KINDS.includes(opt.kind)) {
    throw new Error(
      `optimizer must be one of ${OPTIMIZER_KINDS.join(', ')}, got ${showValue(opt.kind)}`,
    );
  }
  checkNumber('lr', opt.learningRate, ruleOf('lr'));
  if (opt.kind === 'sgd') checkNumber('momentum', opt.momentum ?? 0, ruleOf('momentum'));
  else {
    for (const key of ['beta1', 'beta2', 'epsilon'] as const) {
      if (opt[key] !== undefined) checkNumber(key, opt[key], ruleOf(key));
    }
  }
  checkNumber('weightDecay', c.weightDecay, ruleOf('weightDecay'));
  if (typeof c.decayD !== 'boolean') {
    throw new Error(`decayD must be true or false, got ${showValue(c.decayD)}`);
  }
  if (c.scheduleUnit !== 'epoch' && c.scheduleUnit !== 'step') {
    throw new Error(`scheduleUnit must be 'epoch' or 'step', got ${showValue(c.scheduleUnit)}`);
  }
  checkScheduleValues(c.schedule, opt.learningRate);
  checkSchedule(c.schedule);
}

/** The schedule's numbers by the table's rules, and a cosine schedule's end not above its start. */
function checkScheduleValues(schedule: LrSchedule, lr: number): void {
  if (typeof schedule !== 'object' || schedule === null) {
    throw new Error(
      `schedule must be an object like { kind: 'cosine' }, got ${showValue(schedule)}`,
    );
  }
  if (schedule.warmupEpochs !== undefined) {
    checkNumber('schedule.warmupEpochs', schedule.warmupEpochs, ruleOf('schedule.warmupEpochs'));
  }
  if (schedule.kind === 'step') {
    const { milestones, every, gamma } = schedule;
    if (milestones !== undefined) {
      if (!Array.isArray(milestones)) {
        throw new Error(
          `schedule.milestones must be an array of epochs, got ${showValue(milestones)}`,
        );
      }
      milestones.forEach((m, i) =>
        checkNumber(`schedule.milestones[${i}]`, m, ruleOf('schedule.every')),
      );
    }
    if (every !== undefined) checkNumber('schedule.every', every, ruleOf('schedule.every'));
    if (gamma !== undefined) checkNumber('schedule.gamma', gamma, ruleOf('schedule.gamma'));
  }
  if (schedule.kind === 'cosine' && schedule.minLr !== undefined) {
    checkNumber('schedule.minLr', schedule.minLr, ruleOf('schedule.minLr'));
    if (schedule.minLr > lr) {
      const minLr = showValue(schedule.minLr);
      throw new OptionError(
        ['schedule.minLr', 'lr'],
        (n) =>
          `${n('schedule.minLr')} ${minLr} is above ${n('lr')} ${showValue(lr)}: a cosine schedule decays from ${n('lr')} down to ${n('schedule.minLr')}`,
      );
    }
  }
}
