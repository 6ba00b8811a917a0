/**
 * The recipe options, one row each: the key it sets in RecipeOptions, the flag `doconv train` and
 * `doconv compare` take for it, how the flag's text is read, and its --help line. The CLI registers
 * its options and converts their values from this table, and RecipeOptions (config.ts) is derived
 * from it, so a new recipe option is one row here plus its use in resolveConfig.
 *
 * A key 'schedule.FIELD' sets one field of the `schedule` option (an LrSchedule) rather than an
 * option of its own: the CLI spells a schedule as --schedule and its modifiers.
 */
import { zooModelNames } from '../models/index.js';
import { DATASET_NAMES } from '../data/loadDataset.js';
import { NORMALIZE_KINDS } from './data.js';
import { OPTIMIZER_KINDS } from './optimizers.js';
import { PRESET_NAMES } from './presets.js';
import { SCHEDULE_KINDS, type ScheduleUnit } from './schedules.js';
import {
  NON_NEGATIVE_NUMBER,
  type NumberRule,
  numberParser,
  parseExistingDir,
  parsePositiveNumberList,
  POSITIVE_INT,
  POSITIVE_NUMBER,
} from './textValues.js';

/** One recipe option. Its value comes from `parse`, else is one of `choices`, else is a switch. */
export interface RecipeOptionRow {
  /** The flag as commander spells it: '--epochs <n>' takes a value; '--augment' is a switch. */
  readonly flag: string;
  /** The flag's --help line. */
  readonly help: string;
  /** Reads the flag's text; throws a ValueParseError naming the text. */
  readonly parse?: (text: string) => unknown;
  /**
   * A number option's rule: its `parse` reads text by it, and resolveConfig checks a value given
   * to the library by it, so the CLI and the library accept the same values.
   */
  readonly rule?: NumberRule;
  /** The values the flag allows (commander lists them when given another). */
  readonly choices?: readonly string[];
  /** A switch's --no- form: its --help line. */
  readonly negation?: string;
  /** A value the flag takes (for --help readers and the table's test). */
  readonly example?: string;
}

/** Above this a learning rate diverges for every model here; a typo like 1e30 is refused. */
export const MAX_LEARNING_RATE = 10;

/** The rule and the parser of a number option. */
const numberOption = (rule: NumberRule) => ({ rule, parse: numberParser(rule) });

const SCHEDULE_UNITS = ['epoch', 'step'] as const satisfies readonly ScheduleUnit[];

export const RECIPE_OPTIONS = {
  preset: {
    flag: '--preset <name>',
    help: "an official sample's recipe; fixes everything but --conv (other flags override it for both convs alike)",
    choices: PRESET_NAMES,
    example: 'pt-mnist-sample',
  },
  model: {
    flag: '--model <name>',
    help: 'zoo model (required without --preset)',
    choices: zooModelNames,
    example: 'resnet-20',
  },
  /** Default: the preset's, else 'mnist'. */
  dataset: {
    flag: '--dataset <name>',
    help: "dataset (default: the preset's, else mnist; mnist-scenes for the segmentation and detection models)",
    choices: [...DATASET_NAMES, 'mnist-scenes'],
    example: 'fashion-mnist',
  },
  /** Folder with the dataset files (cifar10: required; fashion-mnist: default the Debian package's). */
  dataDir: {
    flag: '--data-dir <dir>',
    help: "folder with the dataset files (required for cifar10; fashion-mnist defaults to the Debian package's)",
    parse: parseExistingDir,
    example: '.',
  },
  /** Test on the last N training images instead of the test split. */
  holdout: {
    flag: '--holdout <n>',
    help: 'test on the last N training images instead of the test split',
    ...numberOption(POSITIVE_INT),
    example: '10000',
  },
  /** Train on the first N training images only. */
  trainLimit: {
    flag: '--train-limit <n>',
    help: 'train on the first N training images only',
    ...numberOption(POSITIVE_INT),
    example: '6000',
  },
  /** Test on the first N test images only. */
  testLimit: {
    flag: '--test-limit <n>',
    help: 'test on the first N test images only',
    ...numberOption(POSITIVE_INT),
    example: '1000',
  },
  epochs: { flag: '--epochs <n>', help: 'epochs', ...numberOption(POSITIVE_INT), example: '15' },
  batchSize: {
    flag: '--batch-size <n>',
    help: 'training batch size',
    ...numberOption(POSITIVE_INT),
    example: '128',
  },
  evalBatchSize: {
    flag: '--eval-batch-size <n>',
    help: 'evaluation batch size',
    ...numberOption(POSITIVE_INT),
    example: '256',
  },
  optimizer: {
    flag: '--optimizer <kind>',
    help: 'sgd (PyTorch-style momentum) or adam (Keras form)',
    choices: OPTIMIZER_KINDS,
    example: 'sgd',
  },
  /** Base learning rate. */
  lr: {
    flag: '--lr <rate>',
    help: `base learning rate, in (0, ${MAX_LEARNING_RATE}]`,
    ...numberOption({ min: 0, minExclusive: true, max: MAX_LEARNING_RATE }),
    example: '0.1',
  },
  /** SGD momentum. */
  momentum: {
    flag: '--momentum <m>',
    help: 'SGD momentum in [0, 1)',
    ...numberOption({ min: 0, max: 1, maxExclusive: true }),
    example: '0.9',
  },
  /** Adam's β1. */
  beta1: {
    flag: '--beta1 <b>',
    help: 'Adam β1 in [0, 1)',
    ...numberOption({ min: 0, max: 1, maxExclusive: true }),
    example: '0.9',
  },
  /** Adam's β2. */
  beta2: {
    flag: '--beta2 <b>',
    help: 'Adam β2 in [0, 1)',
    ...numberOption({ min: 0, max: 1, maxExclusive: true }),
    example: '0.999',
  },
  /** Adam's ε. */
  epsilon: {
    flag: '--epsilon <e>',
    help: 'Adam ε in (0, 1]',
    ...numberOption({ min: 0, minExclusive: true, max: 1 }),
    example: '1e-8',
  },
  'schedule.kind': {
    flag: '--schedule <kind>',
    help: 'learning-rate schedule',
    choices: SCHEDULE_KINDS,
    example: 'cosine',
  },
  'schedule.milestones': {
    flag: '--milestones <epochs>',
    help: 'step schedule: epochs at which lr ×= gamma, e.g. 100,150',
    parse: parsePositiveNumberList,
    example: '100,150',
  },
  'schedule.every': {
    flag: '--step-every <epochs>',
    help: 'step schedule: lr ×= gamma every N epochs',
    ...numberOption(POSITIVE_NUMBER),
    example: '30',
  },
  'schedule.gamma': {
    flag: '--gamma <g>',
    help: 'step schedule factor in (0, 1] (default 0.1)',
    ...numberOption({ min: 0, minExclusive: true, max: 1 }),
    example: '0.2',
  },
  'schedule.minLr': {
    flag: '--min-lr <rate>',
    help: 'cosine schedule: final rate, ≥ 0 and ≤ --lr (default 0)',
    ...numberOption(NON_NEGATIVE_NUMBER),
    example: '0.001',
  },
  /** Change the rate once per epoch or at every step. */
  scheduleUnit: {
    flag: '--schedule-unit <unit>',
    help: 'change the rate once per epoch or at every step',
    choices: SCHEDULE_UNITS,
    example: 'step',
  },
  /** L2 coefficient λ: g ← g + λ·w on kernels (and D unless decayD is false); 0 disables. */
  weightDecay: {
    flag: '--weight-decay <lambda>',
    help: 'L2 weight decay: adds λ·w to the gradient of every kernel (and D, see --no-decay-d); never biases or BatchNorm',
    ...numberOption(NON_NEGATIVE_NUMBER),
    example: '1e-4',
  },
  /** Whether a DO layer's D decays with the kernels. Default true (as the official TF and PyTorch code). */
  decayD: {
    flag: '--decay-d',
    help: "weight decay also applies to DO-Conv's D (the default, as the official TF and PyTorch code)",
    negation: "exempt DO-Conv's D from weight decay (only W decays)",
  },
  /** CIFAR-style random flip + 4-pixel crop on training images. */
  augment: {
    flag: '--augment',
    help: 'random flip + 4-pixel crop of training images (default on for cifar10)',
    negation: 'no augmentation',
  },
  /** 'none' (pixels/255) or 'dataset' (then per-channel mean/std). */
  normalize: {
    flag: '--normalize <kind>',
    help: 'none: pixels/255; dataset: then per-channel (x − mean)/std',
    choices: NORMALIZE_KINDS,
    example: 'dataset',
  },
  /**
   * Worker threads computing each step's forward and backward passes (data parallel, one wasm
   * instance each: the way to use more than one core in Node). Default 1: this thread. Part of the
   * recipe: BatchNorm normalises each worker's shard by itself, so BN nets' numbers depend on it.
   */
  workers: {
    flag: '--workers <n>',
    help: "worker threads for the forward/backward passes, one core each (default 1: this thread); BatchNorm then normalises each worker's share of the batch on its own",
    ...numberOption(POSITIVE_INT),
    example: '2',
  },
} as const satisfies Record<string, RecipeOptionRow>;

export type RecipeOptionKey = keyof typeof RECIPE_OPTIONS;

/** The value a row gives: what its `parse` returns, one of its `choices`, or a switch's boolean. */
export type RecipeOptionValue<R> = R extends { parse: (text: string) => infer T }
  ? T
  : R extends { choices: readonly (infer T)[] }
    ? T
    : boolean;

/** Each row's value under its key ('schedule.FIELD' keys included), all optional. */
export type RecipeOptionValues = {
  -readonly [K in RecipeOptionKey]?: RecipeOptionValue<(typeof RECIPE_OPTIONS)[K]>;
};

/** The rows as [key, row] pairs, in table (and --help) order. */
export function recipeOptionRows(): Array<[RecipeOptionKey, RecipeOptionRow]> {
  return Object.entries(RECIPE_OPTIONS) as Array<[RecipeOptionKey, RecipeOptionRow]>;
}
