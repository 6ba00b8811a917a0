/**
 * Browser-safe dataset parts, as re-exported by the package root: the Dataset shape, parsers for bytes
 * already in memory, the seeded PRNG, batching and augmentation. File loading is in ./node.ts.
 */
export {
  type Dataset,
  type ImageRows,
  type ImageShape,
  type LimitOption,
  checkDataset,
  readImages,
  sliceDataset,
  takeFirst,
} from './dataset.js';
export {
  type IdxArray,
  type IdxPair,
  parseIdx,
  parseIdxImages,
  parseIdxLabels,
  idxDataset,
} from './idx.js';
export {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  CIFAR10_RECORDS_PER_FILE,
  checkCifar10Size,
  decodeCifar10Records,
  parseCifar10Batch,
} from './cifar10.js';
export { type Rng, createRng, mixSeeds, permutation, randomInt } from './prng.js';
export { type Augmentation, type FlipCropOptions, flipCrop, randomFlipCrop } from './augment.js';
export {
  type Batch,
  type BatchFormat,
  type BatchOptions,
  type Normalization,
  batchCount,
  batches,
  makeBatch,
} from './batches.js';
