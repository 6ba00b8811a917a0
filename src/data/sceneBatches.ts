/**
 * From a SceneSet to training tensors for the two dense tasks. Browser-safe. Each batch owns its
 * xs and ys; the caller disposes them.
 *
 * - segmentation: ys = int32 [B, H, W] class per pixel (255 = ignore);
 * - detection (CenterNet targets at `stride`): ys = float32 [B, H/s, W/s, K + 5]: K class heatmaps
 *   (a Gaussian peak of exactly 1 at each object's centre cell), box size (w, h in cells), centre
 *   offset within the cell (x, y), and a 1 where a centre lies (where size and offset are trained).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, mixSeeds, permutation } from './prng.js';
import { checkSceneSet, type SceneSet } from './scenes.js';
import { formatValue } from '../util/formatValue.js';

/** The two dense tasks. */
export type DenseTask = 'segmentation' | 'detection';

/** Options of {@link sceneBatches} / {@link makeSceneBatch}. */
export interface SceneBatchOptions {
  task: DenseTask;
  /** detection: input pixels per output cell. Default 4. */
  stride?: number;
  /** Visit scenes in a seeded random order. Default false. */
  shuffle?: boolean;
  /** Seeds the order. Use mixSeeds(seed, epoch) per epoch. */
  seed?: number;
}

/** One batch: xs float32 [B, H, W, C] = pixels/255, ys as described above. */
export interface SceneBatch {
  xs: tf.Tensor4D;
  ys: tf.Tensor;
  size: number;
}

/**
 * CenterNet's Gaussian radius (Zhou et al., `gaussian_radius` with min_overlap 0.7): the largest
 * corner shift r for which a box of size h×w still overlaps the true one with IoU ≥ 0.7, in the
 * worst of three cases; at least 0.
 */
export function gaussianRadius(h: number, w: number, minOverlap = 0.7): number {
  const b1 = h + w;
  const c1 = (w * h * (1 - minOverlap)) / (1 + minOverlap);
  const r1 = (b1 + Math.sqrt(b1 * b1 - 4 * c1)) / 2;
  const b2 = 2 * (h + w);
  const c2 = (1 - minOverlap) * w * h;
  const r2 = (b2 + Math.sqrt(b2 * b2 - 16 * c2)) / 2;
  const a3 = 4 * minOverlap;
  const b3 = -2 * minOverlap * (h + w);
  const c3 = (minOverlap - 1) * w * h;
  const r3 = (b3 + Math.sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
  return Math.max(0, Math.min(r1, r2, r3));
}

/** Detection targets of scenes `indices`: float32 [B, h, w, K + 5] as a flat array (see above). */
export function detectionTargets(
  set: SceneSet,
  indices: ArrayLike<number>,
  stride = 4,
): { data: Float32Array; shape: [number, number, number, number] } {
  if (!set.boxes)
    throw new Error(`detectionTargets: scene set ${formatValue(set.name)} has no boxes`);
  if (set.height % stride !== 0 || set.width % stride !== 0) {
    throw new Error(
      `detectionTargets: stride ${stride} must divide the image size ${set.height}×${set.width}`,
    );
  }
  const h = set.height / stride;
  const w = set.width / stride;
  const k = set.numClasses - 1;
  const ch = k + 5;
  const data = new Float32Array(indices.length * h * w * ch);
  const { offsets, coords, classes } = set.boxes;
  for (let b = 0; b < indices.length; b++) {
    const s = indices[b];
    const base = b * h * w * ch;
    for (let o = offsets[s]; o < offsets[s + 1]; o++) {
      const [x0, y0, x1, y1] = [
        coords[o * 4],
        coords[o * 4 + 1],
        coords[o * 4 + 2],
        coords[o * 4 + 3],
      ];
      const bw = (x1 - x0) / stride;
      const bh = (y1 - y0) / stride;
      if (!(bw > 0 && bh > 0)) continue;
      const cx = (x0 + x1) / 2 / stride;
      const cy = (y0 + y1) / 2 / stride;
      const ix = Math.min(w - 1, Math.max(0, Math.floor(cx)));
      const iy = Math.min(h - 1, Math.max(0, Math.floor(cy)));
      const r = Math.max(0, Math.floor(gaussianRadius(bh, bw)));
      const sigma = (2 * r + 1) / 6;
      const c = classes[o];
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const yy = iy + dy;
          const xx = ix + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const g = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
          const at = base + (yy * w + xx) * ch + c;
          if (g > data[at]) data[at] = g;
        }
      }
      const at = base + (iy * w + ix) * ch;
      data[at + k] = bw;
      data[at + k + 1] = bh;
      data[at + k + 2] = cx - ix;
      data[at + k + 3] = cy - iy;
      data[at + k + 4] = 1;
    }
  }
  return { data, shape: [indices.length, h, w, ch] };
}

/** The batch of scenes `indices`. */
export function makeSceneBatch(
  set: SceneSet,
  indices: ArrayLike<number>,
  opts: SceneBatchOptions,
): SceneBatch {
  const { height: H, width: W, channels: C } = set;
  const per = H * W * C;
  const size = indices.length;
  const pixels = new Float32Array(size * per);
  for (let i = 0; i < size; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= set.count) {
      throw new Error(
        `makeSceneBatch(${formatValue(set.name)}): index ${k} is outside 0..${set.count - 1}`,
      );
    }
    const src = set.images.subarray(k * per, (k + 1) * per);
    for (let j = 0; j < per; j++) pixels[i * per + j] = src[j] / 255;
  }
  const xs = tf.tensor4d(pixels, [size, H, W, C]);
  if (opts.task === 'segmentation') {
    if (!set.masks) {
      xs.dispose();
      throw new Error(`makeSceneBatch: scene set ${formatValue(set.name)} has no masks to segment`);
    }
    const labels = new Int32Array(size * H * W);
    for (let i = 0; i < size; i++) {
      labels.set(set.masks.subarray(indices[i] * H * W, (indices[i] + 1) * H * W), i * H * W);
    }
    return { xs, ys: tf.tensor3d(labels, [size, H, W], 'int32'), size };
  }
  if (opts.task !== 'detection') {
    xs.dispose();
    throw new Error(
      `makeSceneBatch: task must be 'segmentation' or 'detection', got ${formatValue(opts.task)}`,
    );
  }
  try {
    const t = detectionTargets(set, indices, opts.stride ?? 4);
    return { xs, ys: tf.tensor4d(t.data, t.shape), size };
  } catch (e) {
    xs.dispose();
    throw e;
  }
}

/** How many batches {@link sceneBatches} yields. */
export function sceneBatchCount(count: number, batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${formatValue(batchSize)}`);
  }
  return Math.ceil(count / batchSize);
}

/** Yields the scenes in batches (the last one smaller); same set, options and seed → same batches. */
export function* sceneBatches(
  set: SceneSet,
  batchSize: number,
  opts: SceneBatchOptions,
): Generator<SceneBatch, void, undefined> {
  checkSceneSet(set);
  const n = sceneBatchCount(set.count, batchSize);
  const order = opts.shuffle
    ? permutation(set.count, createRng(mixSeeds(opts.seed ?? 0, 1)))
    : null;
  for (let b = 0; b < n; b++) {
    const start = b * batchSize;
    const end = Math.min(start + batchSize, set.count);
    const indices = order
      ? order.subarray(start, end)
      : Uint32Array.from({ length: end - start }, (_, i) => start + i);
    yield makeSceneBatch(set, indices, opts);
  }
}
