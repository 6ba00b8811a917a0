/**
 * Which images a run trains and tests on, and how pixels are scaled. Node-only (reads dataset files).
 */
import { type Dataset, sliceDataset, takeFirst } from '../data/dataset.js';
import { type DatasetName, DATASET_NAMES, loadDataset } from '../data/loadDataset.js';
import type { Normalization } from '../data/batches.js';
import { loadImageFolderSplits } from '../data/imageFolder.js';
import { OptionError } from '../util/optionError.js';
import { checkNumber, POSITIVE_INT, showValue } from './numberRules.js';

/**
 * Per-channel mean/std of each bundled dataset's training images (pixels in [0, 1]). An image
 * folder's are computed from its training images when it is loaded (the Dataset's `stats`).
 */
export const DATASET_STATS: Record<Exclude<DatasetName, 'folder'>, Normalization> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  // GluonCV's CIFAR-10 transform values (its CIFAR ResNets are what the zoo's ResNets follow).
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
};

/** 'none': pixels/255 (all three official samples); 'dataset': then (x − mean)/std with DATASET_STATS. */
export const NORMALIZE_KINDS = ['none', 'dataset'] as const;
export type NormalizeKind = (typeof NORMALIZE_KINDS)[number];

/**
 * The Normalization that `batches` takes for `kind` on `dataset` (undefined = pixels/255); an image
 * folder's come from `train` (its `stats`, computed from its training images).
 */
export function normalizationFor(
  kind: NormalizeKind,
  dataset: DatasetName,
  train?: Dataset,
): Normalization | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'dataset') {
    if (dataset !== 'folder') return DATASET_STATS[dataset];
    const stats = (train as { stats?: Normalization } | undefined)?.stats;
    if (stats === undefined) {
      throw new Error('normalize "dataset" on an image folder needs its training images\' stats');
    }
    return stats;
  }
  throw new Error(
    `normalize: unknown kind ${JSON.stringify(kind)}; known: ${NORMALIZE_KINDS.join(', ')}`,
  );
}

/** Where the train and test images of a run come from. */
export interface DataSelection {
  dataset: DatasetName;
  /** Folder with the files (required for cifar10; optional for fashion-mnist; ignored for mnist). */
  dataDir?: string;
  /**
   * Hold out the LAST `holdout` training images as the test set and train on the ones before them
   * (the PyTorch sample's mnist.pkl.gz split: train on the first 50 000, validate on the last 10 000).
   * Omitted: train on the train split, test on the test split.
   */
  holdout?: number;
  /** Keep only the first N training images (after the holdout split). */
  trainLimit?: number;
  /** Keep only the first N test images. */
  testLimit?: number;
  /** 'folder': the height and width its images are resized to (default: their own size). */
  imageSize?: readonly [number, number];
  /** 'folder': 1 or 3 channels (default: 1 when every image is gray). */
  channels?: 1 | 3;
  /** 'folder': where notes about skipped and converted files go. */
  onWarning?: (message: string) => void;
}

/** Loads the train and test sets `sel` describes. */
export async function loadTrainTest(
  sel: DataSelection,
): Promise<{ train: Dataset; test: Dataset }> {
  if (!DATASET_NAMES.includes(sel.dataset)) {
    throw new Error(
      `dataset: unknown name ${JSON.stringify(sel.dataset)}; known: ${DATASET_NAMES.join(', ')}`,
    );
  }
  if (sel.dataset === 'cifar10' && sel.dataDir === undefined) {
    throw new OptionError(
      ['dataset', 'dataDir'],
      (n) =>
        `${n('dataset')} cifar10 needs ${n('dataDir')} (a folder with data_batch_1.bin … data_batch_5.bin, test_batch.bin)`,
    );
  }
  checkLimit('trainLimit', sel.trainLimit);
  checkLimit('testLimit', sel.testLimit);
  if (sel.dataset === 'folder') return loadFolderTrainTest(sel);
  if (sel.holdout === undefined) {
    const [train, test] = await Promise.all([
      loadDataset(sel.dataset, { split: 'train', dir: sel.dataDir, limit: sel.trainLimit }),
      loadDataset(sel.dataset, { split: 'test', dir: sel.dataDir, limit: sel.testLimit }),
    ]);
    return nonEmpty({ train, test }, sel);
  }
  const all = await loadDataset(sel.dataset, { split: 'train', dir: sel.dataDir });
  if (!Number.isInteger(sel.holdout) || sel.holdout < 1 || sel.holdout >= all.count) {
    throw new Error(
      `holdout must be an integer in 1..${all.count - 1} (${all.name} has ${all.count} images), got ${showValue(sel.holdout)}`,
    );
  }
  const cut = all.count - sel.holdout;
  return nonEmpty(
    {
      train: takeFirst(sliceDataset(all, 0, cut), sel.trainLimit),
      test: takeFirst(sliceDataset(all, cut, all.count), sel.testLimit),
    },
    sel,
  );
}

/**
 * An image folder's train and val splits. The holdout (without a val/ folder) has a seed of its
 * own, not the run's: runs of several seeds are then tested on the same images.
 */
async function loadFolderTrainTest(sel: DataSelection): Promise<{ train: Dataset; test: Dataset }> {
  if (sel.dataDir === undefined) {
    throw new OptionError(
      ['dataDir', 'dataset'],
      (n) => `${n('dataset', 'folder')} needs ${n('dataDir')}: a folder of class folders`,
    );
  }
  if (sel.holdout !== undefined) {
    const holdout = showValue(sel.holdout);
    throw new OptionError(
      ['holdout', 'dataset'],
      (n) =>
        `${n('holdout', holdout)} is not used with ${n('dataset', 'folder')}: its test set is DIR/val/, else a seeded 20 % of each class`,
    );
  }
  const { train, val } = await loadImageFolderSplits(sel.dataDir, {
    size: sel.imageSize,
    channels: sel.channels,
    limit: sel.trainLimit,
    valLimit: sel.testLimit,
    onWarning: sel.onWarning,
  });
  return nonEmpty({ train, test: val }, sel);
}

/** Refuses a split of 0 images: training on none would "finish" with NaN metrics. */
function nonEmpty<T extends { train: Dataset; test: Dataset }>(sets: T, sel: DataSelection): T {
  for (const split of ['train', 'test'] as const) checkNotEmpty(sets[split], split, sel.dataDir);
  return sets;
}

/** Throws naming the dataset, the split and the folder when `ds` holds no images. */
export function checkNotEmpty(ds: Dataset, split: string, dir: string | undefined): void {
  if (ds.count > 0) return;
  const where = dir !== undefined ? ` (from ${JSON.stringify(dir)})` : '';
  throw new Error(
    `the ${split} set of ${ds.name}${where} holds 0 images; nothing to ${split === 'train' ? 'train on' : 'test on'}`,
  );
}

function checkLimit(key: string, v: number | undefined): void {
  if (v !== undefined) checkNumber(key, v, POSITIVE_INT);
}
