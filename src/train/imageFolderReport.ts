/**
 * What a run on an image folder records about its data in summary.json: the size and channels it
 * was read at, the normalisation, and every file skipped (with its reason), converted or ignored.
 */
import type { Dataset } from '../data/dataset.js';
import type { ImageFolderDataset, SkippedImage } from '../data/imageFolder.js';

/** summary.json's `imageFolder`. */
export interface ImageFolderReport {
  /** [height, width, channels] the images were resized and converted to. */
  inputShape: [number, number, number];
  /** Per-channel mean/std of the training images' pixels/255. */
  stats: { mean: number[]; std: number[] };
  /** Files not loaded, with the reason, train and val split. */
  skipped: SkippedImage[];
  /** How many images were converted to the set's channel count (grayscale ↔ RGB). */
  converted: number;
  /** How many files in class folders were not .png/.jpg/.jpeg. */
  ignored: number;
  /** The on-disk cache of each split over the memory budget (train first; none: both in memory). */
  cacheFiles: string[];
}

/** The report of a run's train and test (val) splits, read by loadImageFolderSplits. */
export function imageFolderReport(data: { train: Dataset; test: Dataset }): ImageFolderReport {
  const train = data.train as Partial<ImageFolderDataset> & Dataset;
  const test = data.test as Partial<ImageFolderDataset> & Dataset;
  return {
    inputShape: [train.height, train.width, train.channels],
    stats: {
      mean: [...(train.stats?.mean ?? [])],
      std: [...(train.stats?.std ?? [])],
    },
    skipped: [...(train.skipped ?? []), ...(test.skipped ?? [])],
    converted: (train.converted?.length ?? 0) + (test.converted?.length ?? 0),
    ignored: train.ignored?.length ?? 0,
    cacheFiles: [train.rows?.where, test.rows?.where].filter((f): f is string => f !== undefined),
  };
}
