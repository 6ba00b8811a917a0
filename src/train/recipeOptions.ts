/**
 * The recipe options, one row each: the key it sets in RecipeOptions and what it accepts (a number
 * rule, a list of choices, or a value of another type). RecipeOptions (config.ts) is derived from
 * this table and resolveConfig checks values by its rules; the CLI gives every row a flag (its own
 * table, src/cli/recipeFlags.ts, which must cover every key here), so a new recipe option is one row
 * here, one there, and its use in resolveConfig.
 *
 * A key 'schedule.FIELD' sets one field of the `schedule` option (an LrSchedule) rather than an
 * option of its own.
 */
import { zooModelNames, type ZooTask } from '../models/index.js';
import { DATASET_NAMES } from '../data/loadDataset.js';
import { NORMALIZE_KINDS } from './data.js';
import { OPTIMIZER_KINDS } from './optimizers.js';
import { PRESET_NAMES } from './presets.js';
import { SCHEDULE_KINDS, type ScheduleUnit } from './schedules.js';
import {
  NON_NEGATIVE_NUMBER,
  type NumberRule,
  POSITIVE_INT,
  POSITIVE_NUMBER,
} from './numberRules.js';

/** One recipe option: a number by `rule`, one of `choices`, else a value of type `value`. */
export interface RecipeOptionRow {
  /** A number option's rule (resolveConfig checks values by it; the CLI reads text by it). */
  readonly rule?: NumberRule;
  /** The values the option allows. */
  readonly choices?: readonly string[];
  /** What any other option holds: a path, a list of positive numbers, [height, width], or a switch. */
  readonly value?: 'path' | 'positive numbers' | 'image size' | 'switch';
}

/** Above this a learning rate diverges for every model here; a typo like 1e30 is refused. */
export const MAX_LEARNING_RATE = 10;

/** The tasks a zoo model can have. */
export const ZOO_TASKS = [
  'classification',
  'segmentation',
  'detection',
] as const satisfies readonly ZooTask[];

const SCHEDULE_UNITS = ['epoch', 'step'] as const satisfies readonly ScheduleUnit[];

export const RECIPE_OPTIONS = {
  /** An official sample's recipe (presets.ts); fixes everything but the conv kind. */
  preset: { choices: PRESET_NAMES },
  /** A zoo model name. */
  model: { choices: zooModelNames },
  /** What to train for: default the model's own; alone, a scene task takes its default zoo net. */
  task: { choices: ZOO_TASKS },
  /** Default: the preset's, else 'mnist'; 'mnist-scenes' for the segmentation and detection nets. */
  dataset: { choices: [...DATASET_NAMES, 'mnist-scenes'] },
  /** Folder with the dataset files (cifar10, folder: required; fashion-mnist: default the Debian package's). */
  dataDir: { value: 'path' },
  /** Dataset 'folder': the [height, width] its images are resized to (default: their own size). */
  imageSize: { value: 'image size' },
  /** Dataset 'folder': 1 (gray) or 3 (RGB) channels (default: 1 when every training image is gray). */
  channels: { rule: { integer: true, min: 1, max: 3 } },
  /** Test on the last N training images instead of the test split. */
  holdout: { rule: POSITIVE_INT },
  /** Train on the first N training images only (scene sets: how many scenes to generate). */
  trainLimit: { rule: POSITIVE_INT },
  /** Test on the first N test images only (scene sets: how many scenes to generate). */
  testLimit: { rule: POSITIVE_INT },
  epochs: { rule: POSITIVE_INT },
  batchSize: { rule: POSITIVE_INT },
  evalBatchSize: { rule: POSITIVE_INT },
  /** 'sgd' (PyTorch-style momentum) or 'adam' (Keras form). */
  optimizer: { choices: OPTIMIZER_KINDS },
  /** Base learning rate. */
  lr: { rule: { min: 0, minExclusive: true, max: MAX_LEARNING_RATE } },
  /** SGD momentum. */
  momentum: { rule: { min: 0, max: 1, maxExclusive: true } },
  /** Adam's β1. */
  beta1: { rule: { min: 0, max: 1, maxExclusive: true } },
  /** Adam's β2. */
  beta2: { rule: { min: 0, max: 1, maxExclusive: true } },
  /** Adam's ε. */
  epsilon: { rule: { min: 0, minExclusive: true, max: 1 } },
  'schedule.kind': { choices: SCHEDULE_KINDS },
  /** Step schedule: epochs at which lr ×= gamma. */
  'schedule.milestones': { value: 'positive numbers' },
  /** Step schedule: lr ×= gamma every N epochs. */
  'schedule.every': { rule: POSITIVE_NUMBER },
  /** Step schedule factor. */
  'schedule.gamma': { rule: { min: 0, minExclusive: true, max: 1 } },
  /** Cosine schedule: the final rate (≤ lr). */
  'schedule.minLr': { rule: NON_NEGATIVE_NUMBER },
  /** Linear warm-up over the first N epochs (any schedule; per step). */
  'schedule.warmupEpochs': { rule: NON_NEGATIVE_NUMBER },
  /** Change the rate once per epoch or at every step. */
  scheduleUnit: { choices: SCHEDULE_UNITS },
  /** L2 coefficient λ: g ← g + λ·w on kernels (and D unless decayD is false); 0 disables. */
  weightDecay: { rule: NON_NEGATIVE_NUMBER },
  /** Whether a DO layer's D decays with the kernels. Default true (as the official TF and PyTorch code). */
  decayD: { value: 'switch' },
  /** CIFAR-style random flip + 4-pixel crop on training images. */
  augment: { value: 'switch' },
  /** 'none' (pixels/255) or 'dataset' (then per-channel mean/std). */
  normalize: { choices: NORMALIZE_KINDS },
  /**
   * Worker threads computing each step's forward and backward passes (data parallel, one wasm
   * instance each: the way to use more than one core in Node). Default 1: this thread. Part of the
   * recipe: BatchNorm normalises each worker's shard by itself, so BN nets' numbers depend on it.
   */
  workers: { rule: POSITIVE_INT },
} as const satisfies Record<string, RecipeOptionRow>;

export type RecipeOptionKey = keyof typeof RECIPE_OPTIONS;

/** The value a row gives: a number, one of its `choices`, a path, a list of numbers, [height, width], or a boolean. */
export type RecipeOptionValue<R> = R extends { rule: NumberRule }
  ? number
  : R extends { choices: readonly (infer T)[] }
    ? T
    : R extends { value: 'path' }
      ? string
      : R extends { value: 'positive numbers' }
        ? number[]
        : R extends { value: 'image size' }
          ? [number, number]
          : boolean;

/** Each row's value under its key ('schedule.FIELD' keys included), all optional. */
export type RecipeOptionValues = {
  -readonly [K in RecipeOptionKey]?: RecipeOptionValue<(typeof RECIPE_OPTIONS)[K]>;
};

/** The rows as [key, row] pairs, in table order. */
export function recipeOptionRows(): Array<[RecipeOptionKey, RecipeOptionRow]> {
  return Object.entries(RECIPE_OPTIONS) as Array<[RecipeOptionKey, RecipeOptionRow]>;
}
