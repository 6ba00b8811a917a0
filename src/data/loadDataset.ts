/**
 * One entry point for loading a dataset by name, as the CLI and trainer need. Node-only.
 */
import { loadCifar10 } from './cifar10Files.js';
import type { Dataset, LimitOption } from './dataset.js';
import { loadFashionMnist } from './fashionMnist.js';
import type { Split } from './idxFiles.js';
import { type ImageFolderOptions, loadImageFolder } from './imageFolder.js';
import { loadMnist } from './mnist.js';

/** 'folder': an image folder of your own (imageFolder.ts); the others are the bundled sets. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'folder'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Options of `loadDataset`. */
export interface LoadDatasetOptions extends LimitOption {
  split: Split;
  /** Folder with the files: required for cifar10 and folder, optional for fashion-mnist, ignored for mnist. */
  dir?: string;
  /** For 'folder': how to read it (size, channels, class names …); its 'test' split is the val split. */
  image?: Omit<ImageFolderOptions, 'limit'>;
}

/** Loads `name`'s `split`. */
export async function loadDataset(name: DatasetName, opts: LoadDatasetOptions): Promise<Dataset> {
  switch (name) {
    case 'mnist':
      return loadMnist(opts);
    case 'fashion-mnist':
      return loadFashionMnist(opts);
    case 'cifar10':
      if (opts.dir === undefined) {
        throw new Error(
          'cifar10: dir is required (a folder with data_batch_1.bin … data_batch_5.bin, test_batch.bin)',
        );
      }
      return loadCifar10(opts.dir, opts);
    case 'folder':
      if (opts.dir === undefined) {
        throw new Error(
          'folder: dir is required (a folder with one subfolder of images per class)',
        );
      }
      return loadImageFolder(opts.dir, {
        ...opts.image,
        split: opts.split === 'test' ? 'val' : 'train',
        limit: opts.limit,
      });
    default:
      throw new Error(
        `loadDataset: unknown dataset ${JSON.stringify(name)}; known: ${DATASET_NAMES.join(', ')}`,
      );
  }
}
