/**
 * From a byte Dataset to float tensor batches. Browser-safe.
 *
 * Memory: each yielded Batch owns two new tensors (xs, ys) and nothing else; the caller disposes them
 * (`tf.dispose([b.xs, b.ys])`) or runs inside tf.tidy. Tensors are created only when the generator is
 * advanced, so stopping a loop early leaks nothing. Byte→float conversion, normalisation, one-hot and
 * augmentation all run in JS on the batch, so no intermediate tensors exist.
 */
import * as tf from '@tensorflow/tfjs';
import type { Augmentation } from './augment.js';
import { checkDataset, type Dataset, readImages } from './dataset.js';
import { createRng, mixSeeds, permutation, type Rng } from './prng.js';

/** Per-channel normalisation applied after scaling bytes to [0, 1]: x = (p/255 − mean[c]) / std[c]. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/** How `makeBatch` turns examples into tensors. */
export interface BatchFormat {
  /** 'onehot': float32 [B, numClasses] (categoricalCrossentropy); 'int': int32 [B] (sparse losses). Default 'onehot'. */
  labels?: 'onehot' | 'int';
  /** Per-channel mean/std; when omitted pixels are just /255. */
  normalize?: Normalization;
  /** Applied to the byte images of each batch before conversion (e.g. `flipCrop()` for CIFAR). */
  augment?: Augmentation;
}

/** Options of `batches`. */
export interface BatchOptions extends BatchFormat {
  /** Visit examples in a seeded random order (a fresh permutation per call). Default false. */
  shuffle?: boolean;
  /** Seeds shuffling and augmentation (independent streams). Default 0. Use mixSeeds(seed, epoch) per epoch. */
  seed?: number;
  /** Skip a last batch smaller than batchSize. Default false. */
  dropRemainder?: boolean;
}

/** One batch; the caller owns (and disposes) xs and ys. */
export interface Batch {
  /** float32 [B, H, W, C]. */
  xs: tf.Tensor4D;
  /** float32 [B, numClasses] one-hot, or int32 [B]. */
  ys: tf.Tensor;
  /** B. */
  size: number;
}

/** How many batches `batches` yields. */
export function batchCount(count: number, batchSize: number, dropRemainder = false): number {
  checkBatchSize(batchSize);
  return dropRemainder ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * Yields the dataset in batches of `batchSize` (the last one smaller unless dropRemainder).
 * Same dataset, options and seed → the same batches, bit for bit.
 */
export function* batches(
  ds: Dataset,
  batchSize: number,
  opts: BatchOptions = {},
): Generator<Batch, void, undefined> {
  checkBatchSize(batchSize);
  checkDataset(ds);
  const seed = opts.seed ?? 0;
  // Separate streams, so switching augmentation on does not change the visiting order.
  const order = opts.shuffle ? permutation(ds.count, createRng(mixSeeds(seed, 1))) : null;
  const augmentRng = createRng(mixSeeds(seed, 2));
  const n = batchCount(ds.count, batchSize, opts.dropRemainder);
  for (let b = 0; b < n; b++) {
    const start = b * batchSize;
    const end = Math.min(start + batchSize, ds.count);
    const indices = order ? order.subarray(start, end) : range(start, end);
    yield makeBatch(ds, indices, opts, augmentRng);
  }
}

/** Builds one batch from the examples at `indices`; `rng` drives `format.augment` (required with it). */
export function makeBatch(
  ds: Dataset,
  indices: ArrayLike<number>,
  format: BatchFormat = {},
  rng?: Rng,
): Batch {
  const { height: h, width: w, channels: c } = ds;
  const per = h * w * c;
  const size = indices.length;
  for (let i = 0; i < size; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= ds.count) {
      throw new Error(
        `makeBatch(${JSON.stringify(ds.name)}): index ${k} is outside 0..${ds.count - 1}`,
      );
    }
  }
  // From memory, or read from an image folder's on-disk cache (dataset.ts `rows`).
  let bytes = readImages(ds, indices, new Uint8Array(size * per));
  if (format.augment) {
    if (!rng) throw new Error('makeBatch: format.augment needs an rng (createRng(seed))');
    bytes = format.augment(bytes, { count: size, height: h, width: w, channels: c }, rng);
  }
  const table = pixelTable(c, format.normalize);
  const pixels = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) pixels[i] = table[(i % c) * 256 + bytes[i]];
  const xs = tf.tensor4d(pixels, [size, h, w, c], 'float32');

  let ys: tf.Tensor;
  if ((format.labels ?? 'onehot') === 'onehot') {
    const oneHot = new Float32Array(size * ds.numClasses);
    for (let i = 0; i < size; i++) oneHot[i * ds.numClasses + ds.labels[indices[i]]] = 1;
    ys = tf.tensor2d(oneHot, [size, ds.numClasses], 'float32');
  } else {
    const ints = new Int32Array(size);
    for (let i = 0; i < size; i++) ints[i] = ds.labels[indices[i]];
    ys = tf.tensor1d(ints, 'int32');
  }
  return { xs, ys, size };
}

/**
 * float32 value of byte p in channel ch at [ch·256 + p]. A table makes the per-pixel work one lookup,
 * and gives exactly Math.fround((p/255 − mean)/std), the value a float64 reference computes.
 */
function pixelTable(channels: number, norm: Normalization | undefined): Float32Array {
  if (norm && (norm.mean.length !== channels || norm.std.length !== channels)) {
    throw new Error(
      `normalize: mean and std need one value per channel (${channels}), got mean ${JSON.stringify(norm.mean)}, std ${JSON.stringify(norm.std)}`,
    );
  }
  if (norm && norm.std.some((s) => !(s > 0))) {
    throw new Error(`normalize: every std must be > 0, got ${JSON.stringify(norm.std)}`);
  }
  const table = new Float32Array(channels * 256);
  for (let ch = 0; ch < channels; ch++) {
    const mean = norm ? norm.mean[ch] : 0;
    const std = norm ? norm.std[ch] : 1;
    for (let p = 0; p < 256; p++) table[ch * 256 + p] = (p / 255 - mean) / std;
  }
  return table;
}

function range(start: number, end: number): Uint32Array {
  const r = new Uint32Array(end - start);
  for (let i = 0; i < r.length; i++) r[i] = start + i;
  return r;
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`);
  }
}
