/**
 * Option parsing shared by the subcommands: value parsers that reject bad input naming the value
 * (commander adds the option's name: "option '--epochs <n>' argument 'x' is invalid. …"), and the
 * recipe options common to `train` and `compare`.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'node:fs';
import { convKinds, zooModelNames } from '../models/index.js';
import { DATASET_NAMES, type DatasetName } from '../data/loadDataset.js';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  type LrSchedule,
  NORMALIZE_KINDS,
  type NormalizeKind,
  OPTIMIZER_KINDS,
  type OptimizerKind,
  PRESET_NAMES,
  PROGRESS_MODES,
  type ProgressMode,
  type RecipeOptions,
  SCHEDULE_KINDS,
  type ScheduleKind,
  type ScheduleUnit,
} from '../train/index.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a positive integer.`);
  }
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not an integer.`);
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a positive number.`);
  }
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a number ≥ 0.`);
  }
  return n;
}

/** "100,150" → [100, 150]. */
export function positiveNumberList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '' || !(Number(p) > 0) || !Number.isFinite(Number(p)))) {
    throw new InvalidArgumentError(
      `${JSON.stringify(value)} is not a comma-separated list of positive numbers.`,
    );
  }
  return parts.map(Number);
}

/** "1,2,3" → [1, 2, 3]. */
export function integerList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new InvalidArgumentError(
      `${JSON.stringify(value)} is not a comma-separated list of integers.`,
    );
  }
  return parts.map(Number);
}

/** An existing folder (for --data-dir). */
export function existingDir(value: string): string {
  let ok = false;
  try {
    ok = fs.statSync(value).isDirectory();
  } catch {
    throw new InvalidArgumentError(`${JSON.stringify(value)}: no such folder.`);
  }
  if (!ok) throw new InvalidArgumentError(`${JSON.stringify(value)} is not a folder.`);
  return value;
}

/** Options every training subcommand shares, as commander parses them. */
export interface RecipeFlags {
  preset?: string;
  model?: string;
  dataset?: DatasetName;
  dataDir?: string;
  holdout?: number;
  trainLimit?: number;
  testLimit?: number;
  epochs?: number;
  batchSize?: number;
  evalBatchSize?: number;
  optimizer?: OptimizerKind;
  lr?: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  schedule?: ScheduleKind;
  milestones?: number[];
  stepEvery?: number;
  gamma?: number;
  minLr?: number;
  scheduleUnit?: ScheduleUnit;
  weightDecay?: number;
  decayD?: boolean;
  augment?: boolean;
  normalize?: NormalizeKind;
  workers?: number;
  backend: BackendChoice;
  progress: ProgressMode;
}

/** Adds the recipe options (preset, model, data, optimizer, schedule, …) to `cmd`. */
export function addRecipeOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--preset <name>',
        "an official sample's recipe; fixes everything but --conv (other flags override it for both convs alike)",
      ).choices(PRESET_NAMES),
    )
    .addOption(
      new Option('--model <name>', 'zoo model (required without --preset)').choices(zooModelNames),
    )
    .addOption(
      new Option('--dataset <name>', "dataset (default: the preset's, else mnist)").choices(
        DATASET_NAMES,
      ),
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        "folder with the dataset files (required for cifar10; fashion-mnist defaults to the Debian package's)",
      ).argParser(existingDir),
    )
    .addOption(
      new Option(
        '--holdout <n>',
        'test on the last N training images instead of the test split',
      ).argParser(positiveInt),
    )
    .addOption(
      new Option('--train-limit <n>', 'train on the first N training images only').argParser(
        positiveInt,
      ),
    )
    .addOption(
      new Option('--test-limit <n>', 'test on the first N test images only').argParser(positiveInt),
    )
    .addOption(new Option('--epochs <n>', 'epochs').argParser(positiveInt))
    .addOption(new Option('--batch-size <n>', 'training batch size').argParser(positiveInt))
    .addOption(new Option('--eval-batch-size <n>', 'evaluation batch size').argParser(positiveInt))
    .addOption(
      new Option('--optimizer <kind>', 'sgd (PyTorch-style momentum) or adam (Keras form)').choices(
        OPTIMIZER_KINDS,
      ),
    )
    .addOption(new Option('--lr <rate>', 'base learning rate').argParser(positiveNumber))
    .addOption(new Option('--momentum <m>', 'SGD momentum in [0, 1)').argParser(nonNegativeNumber))
    .addOption(new Option('--beta1 <b>', 'Adam β1').argParser(nonNegativeNumber))
    .addOption(new Option('--beta2 <b>', 'Adam β2').argParser(nonNegativeNumber))
    .addOption(new Option('--epsilon <e>', 'Adam ε').argParser(positiveNumber))
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule').choices(SCHEDULE_KINDS))
    .addOption(
      new Option(
        '--milestones <epochs>',
        'step schedule: epochs at which lr ×= gamma, e.g. 100,150',
      ).argParser(positiveNumberList),
    )
    .addOption(
      new Option('--step-every <epochs>', 'step schedule: lr ×= gamma every N epochs').argParser(
        positiveNumber,
      ),
    )
    .addOption(
      new Option('--gamma <g>', 'step schedule factor (default 0.1)').argParser(positiveNumber),
    )
    .addOption(
      new Option('--min-lr <rate>', 'cosine schedule: final rate (default 0)').argParser(
        nonNegativeNumber,
      ),
    )
    .addOption(
      new Option(
        '--schedule-unit <unit>',
        'change the rate once per epoch or at every step',
      ).choices(['epoch', 'step']),
    )
    .addOption(
      new Option(
        '--weight-decay <lambda>',
        'L2 weight decay: adds λ·w to the gradient of every kernel (and D, see --no-decay-d); never biases or BatchNorm',
      ).argParser(nonNegativeNumber),
    )
    .addOption(
      new Option(
        '--decay-d',
        "weight decay also applies to DO-Conv's D (the default, as the official TF and PyTorch code)",
      ),
    )
    .addOption(new Option('--no-decay-d', "exempt DO-Conv's D from weight decay (only W decays)"))
    .addOption(
      new Option(
        '--augment',
        'random flip + 4-pixel crop of training images (default on for cifar10)',
      ),
    )
    .addOption(new Option('--no-augment', 'no augmentation'))
    .addOption(
      new Option(
        '--normalize <kind>',
        'none: pixels/255; dataset: then per-channel (x − mean)/std',
      ).choices(NORMALIZE_KINDS),
    )
    .addOption(
      new Option(
        '--workers <n>',
        "worker threads for the forward/backward passes, one core each (default 1: this thread); BatchNorm then normalises each worker's share of the batch on its own",
      ).argParser(positiveInt),
    )
    .addOption(
      new Option(
        '--backend <name>',
        "backend (auto: tfjs-node, else wasm with doconv's kernels, else cpu)",
      )
        .choices(BACKEND_CHOICES)
        .default('auto'),
    )
    .addOption(
      new Option(
        '--progress <mode>',
        'progress display on stderr (auto: bar on a terminal, lines otherwise)',
      )
        .choices(PROGRESS_MODES)
        .default('auto'),
    );
}

/** The library's RecipeOptions from the parsed flags; errors name the flag. */
export function recipeFromFlags(f: RecipeFlags): RecipeOptions {
  if (f.preset === undefined && f.model === undefined) {
    throw new InvalidArgumentError(
      `give --preset <name> (${PRESET_NAMES.join(', ')}) or --model <name> (${zooModelNames.join(', ')})`,
    );
  }
  if (f.dataset === 'cifar10' && f.dataDir === undefined) {
    throw new InvalidArgumentError(
      '--dataset cifar10 needs --data-dir <dir> (a folder with data_batch_1.bin … data_batch_5.bin, test_batch.bin)',
    );
  }
  return {
    preset: f.preset,
    model: f.model,
    dataset: f.dataset,
    dataDir: f.dataDir,
    holdout: f.holdout,
    trainLimit: f.trainLimit,
    testLimit: f.testLimit,
    epochs: f.epochs,
    batchSize: f.batchSize,
    evalBatchSize: f.evalBatchSize,
    optimizer: f.optimizer,
    lr: f.lr,
    momentum: f.momentum,
    beta1: f.beta1,
    beta2: f.beta2,
    epsilon: f.epsilon,
    schedule: scheduleFromFlags(f),
    scheduleUnit: f.scheduleUnit,
    weightDecay: f.weightDecay,
    decayD: f.decayD,
    augment: f.augment,
    normalize: f.normalize,
    workers: f.workers,
  };
}

function scheduleFromFlags(f: RecipeFlags): LrSchedule | undefined {
  const stepFlags =
    f.milestones !== undefined || f.stepEvery !== undefined || f.gamma !== undefined;
  if (f.schedule !== 'step' && stepFlags) {
    throw new InvalidArgumentError(
      `--milestones, --step-every and --gamma need --schedule step (got --schedule ${f.schedule ?? '(none)'})`,
    );
  }
  if (f.schedule !== 'cosine' && f.minLr !== undefined) {
    throw new InvalidArgumentError(
      `--min-lr needs --schedule cosine (got --schedule ${f.schedule ?? '(none)'})`,
    );
  }
  switch (f.schedule) {
    case undefined:
      return undefined;
    case 'constant':
      return { kind: 'constant' };
    case 'cosine':
      return f.minLr !== undefined ? { kind: 'cosine', minLr: f.minLr } : { kind: 'cosine' };
    case 'step': {
      if ((f.milestones === undefined) === (f.stepEvery === undefined)) {
        throw new InvalidArgumentError(
          '--schedule step needs exactly one of --milestones <epochs> or --step-every <n>',
        );
      }
      const gamma = f.gamma !== undefined ? { gamma: f.gamma } : {};
      return f.milestones !== undefined
        ? { kind: 'step', milestones: f.milestones, ...gamma }
        : { kind: 'step', every: f.stepEvery, ...gamma };
    }
  }
}

/** The conv kinds, for --conv. */
export const CONV_CHOICES = convKinds;
