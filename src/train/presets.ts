/**
 * Training recipes: the three official DO-Conv MNIST samples, and defaults per dataset for runs
 * without a preset. A preset fixes everything except the conv kind, so a baseline run and a DO-Conv
 * run of one preset differ in exactly that; anything a user overrides applies to both sides alike.
 */
import type { DatasetName } from '../data/loadDataset.js';
import type { NormalizeKind } from './data.js';
import { omit } from './omit.js';
import type { TrainingRecipe } from './trainingRecipe.js';

/** Everything about a run except the conv kind, the seed and where it is written. */
export interface Recipe extends TrainingRecipe {
  /** A zoo model name. */
  model: string;
  dataset: DatasetName;
  /** Test on the last N training images instead of the test split (see DataSelection.holdout). */
  holdout?: number;
  /** Random flip + crop (CIFAR style) on training batches. */
  augment: boolean;
  normalize: NormalizeKind;
}

/** A named recipe with where it comes from and what it reported. */
export interface Preset extends Recipe {
  description: string;
  /** The official README's mean test accuracy (%) over 5 runs, and the source sample. */
  reference: { conv: number; doconv: number; source: string };
}

/**
 * What the three samples share after their optimizer: a constant learning rate, no weight decay, no
 * augmentation, pixels/255. (Spread in that place, so recorded configs keep their key order.)
 */
const SAMPLE_TRAINING = {
  schedule: { kind: 'constant' },
  scheduleUnit: 'epoch',
  weightDecay: 0,
  decayD: true,
  augment: false,
  normalize: 'none',
} as const;

export const PRESETS = {
  'tf-mnist-sample': {
    description:
      'TF sample: Adam (Keras defaults, lr 0.001), batch 32, 5 epochs, pixels/255, MNIST 60k train / 10k test',
    model: 'tf-mnist-sample',
    dataset: 'mnist',
    epochs: 5,
    batchSize: 32,
    evalBatchSize: 32,
    optimizer: { kind: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    ...SAMPLE_TRAINING,
    reference: { conv: 98.504, doconv: 98.682, source: 'sample_tf.py' },
  },
  'pt-mnist-sample': {
    description:
      'PyTorch sample: SGD lr 0.01 momentum 0.9, batch 32, 1 epoch (the sample also mentions 15), pixels/255, ' +
      'train on the first 50 000 MNIST training images, test on the last 10 000',
    model: 'pt-mnist-sample',
    dataset: 'mnist',
    holdout: 10000,
    epochs: 1,
    batchSize: 32,
    evalBatchSize: 64,
    optimizer: { kind: 'sgd', learningRate: 0.01, momentum: 0.9 },
    ...SAMPLE_TRAINING,
    reference: { conv: 95.156, doconv: 95.674, source: 'sample_pt.py' },
  },
  'gluon-lenet': {
    description:
      'GluonCV sample: SGD lr 0.03 (no momentum), batch 100, 10 epochs, pixels/255, MNIST 60k / 10k',
    model: 'gluon-lenet',
    dataset: 'mnist',
    epochs: 10,
    batchSize: 100,
    evalBatchSize: 100,
    optimizer: { kind: 'sgd', learningRate: 0.03, momentum: 0 },
    ...SAMPLE_TRAINING,
    reference: { conv: 98.1, doconv: 98.26, source: 'sample_gluoncv.py' },
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The preset `name`; throws naming it and listing the known ones. */
export function presetByName(name: string): Preset {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new Error(
      `unknown preset ${JSON.stringify(name)}; known presets: ${PRESET_NAMES.join(', ')}`,
    );
  }
  return PRESETS[name as PresetName];
}

/**
 * The recipe of a run without a preset, by dataset (the model still has to be given).
 * MNIST-like and image folders: the TF sample's settings (a folder normalised by its own statistics). CIFAR-10: the GluonCV CIFAR ResNet recipe (SGD 0.1, momentum
 * 0.9, λ = 1e-4, batch 128, flip/crop, mean/std normalisation) with a cosine schedule over a short 30
 * epochs; the paper-length run is `epochs: 200, schedule: {kind: 'step', milestones: [100, 150]}`.
 */
export function defaultRecipe(dataset: DatasetName): Omit<Recipe, 'model'> {
  if (dataset === 'cifar10') {
    return {
      dataset,
      epochs: 30,
      batchSize: 128,
      evalBatchSize: 256,
      optimizer: { kind: 'sgd', learningRate: 0.1, momentum: 0.9 },
      schedule: { kind: 'cosine' },
      scheduleUnit: 'step',
      weightDecay: 1e-4,
      decayD: true,
      augment: true,
      normalize: 'dataset',
    };
  }
  const recipe = omit(PRESETS['tf-mnist-sample'], ['model', 'description', 'reference']);
  // An image folder is normalised per channel by its own training images' mean and std.
  if (dataset === 'folder') return { ...recipe, dataset, normalize: 'dataset' };
  return { ...recipe, dataset };
}
