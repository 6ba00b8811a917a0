/**
 * MNIST-style datasets stored as four IDX files (plain or .gz) in one folder. Node-only.
 */
import * as path from 'node:path';
import type { Dataset, LimitOption } from './dataset.js';
import { idxDataset } from './idx.js';
import { checkDecodedSize } from '../io/limits.js';
import { firstExisting, readBytes, readHead } from './readBytes.js';

export type Split = 'train' | 'test';

/** The standard file names (without .gz) of each split. */
export const IDX_FILE_NAMES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** Options of `loadIdxFolder`. */
export interface IdxFolderOptions extends LimitOption {
  split: Split;
  /** Dataset name for messages, e.g. 'fashion-mnist'; the split is appended. */
  name: string;
  numClasses?: number;
  classNames?: readonly string[];
  /** [height, width] the images must have (28×28 for the MNIST family); default: any. */
  imageSize?: readonly [number, number];
}

/** Finds `base` or `base.gz` in `dir`; the error lists both names it looked for. */
export async function findIdxFile(dir: string, base: string): Promise<string> {
  const plain = path.join(dir, base);
  const found = await firstExisting([plain, `${plain}.gz`]);
  if (!found) throw new Error(`${plain}: no such file (nor ${base}.gz)`);
  return found;
}

/** Loads one split of an MNIST-layout folder (train-images-idx3-ubyte[.gz], ...). */
export async function loadIdxFolder(dir: string, opts: IdxFolderOptions): Promise<Dataset> {
  const names = IDX_FILE_NAMES[opts.split];
  if (!names)
    throw new Error(
      `${opts.name}: split must be 'train' or 'test', got ${JSON.stringify(opts.split)}`,
    );
  const imagesName = await findIdxFile(dir, names.images);
  const labelsName = await findIdxFile(dir, names.labels);
  // Headers first: a small .gz may declare (and inflate to) gigabytes.
  const [imagesBytes, labelsBytes] = await Promise.all([
    checkIdxHeader(imagesName),
    checkIdxHeader(labelsName),
  ]);
  const [images, labels] = await Promise.all([
    readBytes(imagesName, { declaredBytes: imagesBytes }),
    readBytes(labelsName, { declaredBytes: labelsBytes }),
  ]);
  return idxDataset({
    name: `${opts.name}/${opts.split}`,
    images,
    imagesName,
    labels,
    labelsName,
    numClasses: opts.numClasses ?? 10,
    classNames: opts.classNames,
    limit: opts.limit,
    imageSize: opts.imageSize,
  });
}

/**
 * Reads only an IDX file's header (inflating just that much of a .gz) and checks what it declares
 * against the decode cap, so a gzip bomb is refused before it is inflated. Returns the whole file's
 * declared size (header + values), or undefined when the header is cut short (parseIdx says so).
 */
async function checkIdxHeader(file: string): Promise<number | undefined> {
  const head = await readHead(file, 4 + 4 * 255);
  const ndims = head[3] ?? 0;
  if (head.length < 4 + 4 * ndims) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const values = dims.reduce((a, b) => a * b, 1);
  checkDecodedSize(file, values, `${dims.join('×')} ubyte values`);
  return 4 + 4 * ndims + values;
}
