/**
 * A folder of PNG/JPEG images sorted into class folders → a Dataset at the model's input size.
 * Node-only. Layouts and class names: imageFolderLayout.ts; decoding: decodeImage.ts; resizing and
 * channel conversion: resizeImage.ts.
 *
 * Memory: files are read and decoded one at a time, and each is resized into the set's byte array
 * at once, so the full-size pixels of only one image exist at any moment. What stays is the set at
 * the model's input size, count × height × width × channels bytes (1 000 images of 64×64×3: 12 MB),
 * and that is checked against the decode cap (io/limits.ts, 1 GiB by default, DOCONV_MAX_DECODED_BYTES
 * or `maxBytes`) before it is allocated — the same cap every single file is checked against.
 * A split larger than the memory budget (`memoryBudget`, DOCONV_IMAGE_MEMORY_BUDGET, 1 GiB) is
 * decoded once into an on-disk cache instead (imageCache.ts) and read from it batch by batch; its
 * statistics are summed in the same pass, in the same order, so they equal the in-memory ones.
 *
 * Bad files never end a load and are never dropped silently: a file that cannot be read or decoded
 * (not a PNG/JPEG, truncated, bad CRC, over the cap) is skipped with a warning naming it and the
 * reason, and counted in `skipped`; a grayscale image in a colour set is converted (and counted in
 * `converted`), as are colour images when the set is grayscale.
 */
import { readFile } from 'node:fs/promises';
import type { Normalization } from './batches.js';
import { type Dataset, withRows } from './dataset.js';
import { decodeImage } from './decodeImage.js';
import {
  checkFreeSpace,
  ImageCacheWriter,
  imageCacheDir,
  imageCachePath,
  imageMemoryBudget,
  type OpenedCache,
  openImageCache,
} from './imageCache.js';
import { folderLayout, type LabelledFile, type LayoutOptions } from './imageFolderLayout.js';
import { type ImageHeader, readImageHeader } from './imageHeader.js';
import { convertChannels, resizeBilinear } from './resizeImage.js';
import { createRng, mixSeeds, permutation } from './prng.js';
import { checkDecodedSize, type DecodeLimitOption } from '../io/limits.js';
import { OptionError } from '../util/optionError.js';

/** Options of `loadImageFolder` and `loadImageFolderSplits`. */
export interface ImageFolderOptions extends LayoutOptions, DecodeLimitOption {
  /**
   * Height and width every image is resized to (bilinear; a number for a square). Default: the
   * training images' own size when they all share one (else the load fails asking for it).
   */
  size?: number | readonly [number, number];
  /** 1 (gray) or 3 (RGB). Default: 1 when every training image is grayscale, else 3. */
  channels?: 1 | 3;
  /** Keep the first N images of each split (after the seeded shuffle). */
  limit?: number;
  /** Keep the first N images of the val split (default: `limit`). */
  valLimit?: number;
  /** Where warnings (skipped and converted files) go. Default: console.warn. */
  onWarning?: (message: string) => void;
  /**
   * Bytes a split may take in memory at the input size; a larger one is decoded once into an
   * on-disk cache and read from it. Default: DOCONV_IMAGE_MEMORY_BUDGET, else 1 GiB. 0 caches always.
   */
  memoryBudget?: number;
  /** Where caches go. Default: DOCONV_IMAGE_CACHE, else $XDG_CACHE_HOME (or ~/.cache)/doconv/images. */
  cacheDir?: string;
  /** Notes on building a cache (every 10 % of the images decoded). Default: onWarning's sink. */
  onProgress?: (message: string) => void;
}

/** A file that was not loaded, and why. */
export interface SkippedImage {
  file: string;
  reason: string;
}

/** A split of an image folder: a Dataset plus where each image came from and what was skipped. */
export interface ImageFolderDataset extends Dataset {
  classNames: string[];
  /** The file of each image, in dataset order. */
  files: string[];
  skipped: SkippedImage[];
  /** Files converted to the set's channel count (grayscale in an RGB set, or the reverse). */
  converted: string[];
  /** Files in class folders that are not .png/.jpg/.jpeg (not read). */
  ignored: string[];
  /** Per-channel mean and std of these images' pixels/255. */
  stats: Normalization;
}

/** Both splits of an image folder, read at one size and channel count with one class list. */
export interface ImageFolderSplits {
  train: ImageFolderDataset;
  val: ImageFolderDataset;
  classNames: string[];
  /** 'folders': from train/ and val/; 'holdout': val is a seeded share of each class. */
  layout: 'folders' | 'holdout';
}

/**
 * Reads the train and val splits of `dir` (see imageFolderLayout.ts), each in a seeded random
 * order. Size and channels default from the training images.
 */
export async function loadImageFolderSplits(
  dir: string,
  opts: ImageFolderOptions = {},
): Promise<ImageFolderSplits> {
  const folder = await openFolder(dir, opts);
  const train = await folder.read('train');
  const val = await folder.read('val');
  return { train, val, classNames: folder.classNames, layout: folder.layout };
}

/** One split of `dir` ('train' by default) as loadImageFolderSplits reads it (only it is decoded). */
export async function loadImageFolder(
  dir: string,
  opts: ImageFolderOptions & { split?: 'train' | 'val' } = {},
): Promise<ImageFolderDataset> {
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'val') {
    throw new Error(`split must be 'train' or 'val', got ${JSON.stringify(split)}`);
  }
  return (await openFolder(dir, opts)).read(split);
}

/** The folder listed, split and shaped (from the training images' headers), ready to decode. */
async function openFolder(dir: string, opts: ImageFolderOptions) {
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  const layout = await folderLayout(dir, opts);
  if (layout.classNames.length > 256) {
    throw new Error(
      `image folder ${JSON.stringify(dir)}: ${layout.classNames.length} classes, more than the 256 a byte label holds`,
    );
  }
  for (const w of layout.warnings) warn(w);
  if (layout.ignored.length > 0) {
    warn(
      `${dir}: ${layout.ignored.length} file(s) not .png/.jpg/.jpeg ignored (${sample(layout.ignored)})`,
    );
  }
  const seed = opts.seed ?? 1;
  const files = {
    train: shuffled(layout.train, mixSeeds(seed, 1), opts.limit),
    val: shuffled(layout.val, mixSeeds(seed, 2), opts.valLimit ?? opts.limit),
  };
  const headers = await readHeaders(files.train, opts);
  const shape = resolveShape(dir, headers, opts);
  return {
    classNames: layout.classNames,
    layout: layout.kind,
    read: async (split: 'train' | 'val') => {
      const known = split === 'train' ? headers : undefined;
      const set = await readSplit(
        { dir, split },
        files[split],
        layout.classNames,
        shape,
        opts,
        warn,
        known,
      );
      set.ignored = layout.ignored;
      return set;
    },
  };
}

/** `files` in a seeded random order (so a limit takes every class), cut to `limit`. */
function shuffled(files: LabelledFile[], seed: number, limit: number | undefined): LabelledFile[] {
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new Error(`limit must be a positive integer, got ${String(limit)}`);
  }
  const order = permutation(files.length, createRng(seed));
  return Array.from(order.subarray(0, limit ?? files.length), (i) => files[i]);
}

/** Each file's header, or why it cannot be read (the decode pass then skips it). */
async function readHeaders(
  files: readonly LabelledFile[],
  opts: DecodeLimitOption,
): Promise<Map<string, ImageHeader | SkippedImage>> {
  const out = new Map<string, ImageHeader | SkippedImage>();
  for (const { file } of files) {
    try {
      const header = readImageHeader(await readFileBytes(file), file);
      checkDecodedSize(file, header.decodedBytes, header.detail, opts.maxBytes);
      out.set(file, header);
    } catch (e) {
      out.set(file, { file, reason: (e as Error).message });
    }
  }
  return out;
}

function isHeader(h: ImageHeader | SkippedImage | undefined): h is ImageHeader {
  return h !== undefined && 'format' in h;
}

/** The size and channels to load at: the options', else what every training image shares. */
function resolveShape(
  dir: string,
  headers: Map<string, ImageHeader | SkippedImage>,
  opts: ImageFolderOptions,
): { height: number; width: number; channels: 1 | 3 } {
  const good = [...headers.entries()].filter((e): e is [string, ImageHeader] => isHeader(e[1]));
  if (good.length === 0) {
    const why = [...headers.values()].map((h) => (h as SkippedImage).reason);
    throw new Error(
      `image folder ${JSON.stringify(dir)}: no readable training image (${why.slice(0, 3).join('; ')})`,
    );
  }
  const channels = opts.channels ?? (good.every(([, h]) => h.channels === 1) ? 1 : 3);
  if (channels !== 1 && channels !== 3) {
    throw new Error(`channels must be 1 or 3, got ${JSON.stringify(channels)}`);
  }
  if (opts.size !== undefined) {
    const [height, width] = typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
    for (const v of [height, width]) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(
          `size must be a positive integer or [height, width], got ${JSON.stringify(opts.size)}`,
        );
      }
    }
    return { height, width, channels };
  }
  const [firstFile, first] = good[0];
  const other = good.find(([, h]) => h.width !== first.width || h.height !== first.height);
  if (other !== undefined) {
    throw new OptionError(
      'size',
      (n) =>
        `image folder ${JSON.stringify(dir)}: the images differ in size (${firstFile} is ${first.width}×${first.height}, ${other[0]} is ${other[1].width}×${other[1].height}); give the size to resize them to (${n('size')})`,
    );
  }
  return { height: first.height, width: first.width, channels };
}

/**
 * Decodes `files` one by one into a new Dataset of `shape`, skipping (and naming) bad ones: in
 * memory when the split fits the memory budget, else through the on-disk cache.
 */
async function readSplit(
  where: { dir: string; split: 'train' | 'val' },
  files: readonly LabelledFile[],
  classNames: string[],
  shape: { height: number; width: number; channels: 1 | 3 },
  opts: ImageFolderOptions,
  warn: (message: string) => void,
  known?: Map<string, ImageHeader | SkippedImage>,
): Promise<ImageFolderDataset> {
  const name = `${where.dir}/${where.split}`;
  const { height, width, channels } = shape;
  const per = height * width * channels;
  const base = {
    name,
    count: 0,
    height,
    width,
    channels,
    numClasses: classNames.length,
    classNames,
  };
  if (files.length * per > imageMemoryBudget(opts.memoryBudget)) {
    const cached = await cachedSplit(where, files, classNames, shape, opts, warn, known);
    return withRows({ ...base, ...cached.meta, labels: cached.labels, ignored: [] }, cached.rows);
  }
  checkDecodedSize(
    name,
    files.length * per,
    `${files.length} images × ${height}×${width}×${channels} bytes at the input size`,
    opts.maxBytes,
  );
  const images = new Uint8Array(files.length * per);
  const labels = new Uint8Array(files.length);
  const stats = new ChannelSums(channels);
  const report = await decodeFiles(name, files, shape, opts, warn, known, (image, label, i) => {
    images.set(image, i * per);
    labels[i] = label;
    stats.add(image);
  });
  const count = report.files.length;
  return {
    ...base,
    images: images.subarray(0, count * per),
    labels: labels.subarray(0, count),
    count,
    ...report,
    ignored: [],
    stats: stats.result(),
  };
}

/**
 * The split from its on-disk cache: reused when one for exactly these files (sizes, modification
 * times), size and channels exists and checks out; else decoded once into a new one.
 */
async function cachedSplit(
  where: { dir: string; split: 'train' | 'val' },
  files: readonly LabelledFile[],
  classNames: string[],
  shape: { height: number; width: number; channels: 1 | 3 },
  opts: ImageFolderOptions,
  warn: (message: string) => void,
  known?: Map<string, ImageHeader | SkippedImage>,
): Promise<OpenedCache> {
  const name = `${where.dir}/${where.split}`;
  const per = shape.height * shape.width * shape.channels;
  const dir = imageCacheDir(opts.cacheDir);
  const file = imageCachePath({ ...where, files, classNames, ...shape }, dir);
  const found = openImageCache(file, shape);
  if (found !== null && !('invalid' in found)) {
    // What the decode pass warned about when the cache was built, said again.
    if (found.meta.skipped.length > 0) {
      warn(`${name}: ${found.meta.skipped.length} of ${files.length} file(s) skipped (cached)`);
    }
    return found;
  }
  if (found !== null) warn(`image cache ${file}: ${found.invalid}; rebuilding it`);
  checkFreeSpace(dir, files.length * (per + 1), name);
  const progress = opts.onProgress ?? warn;
  progress(
    `${name}: ${files.length} images × ${shape.height}×${shape.width}×${shape.channels} bytes are over the memory budget; decoding them once into ${file}`,
  );
  const writer = new ImageCacheWriter(file, per);
  try {
    const stats = new ChannelSums(shape.channels);
    const tenth = Math.max(1, Math.ceil(files.length / 10));
    const report = await decodeFiles(
      name,
      files,
      shape,
      opts,
      warn,
      known,
      (image, label) => {
        writer.add(image, label);
        stats.add(image);
      },
      (done) => {
        if (done % tenth === 0 || done === files.length) {
          progress(`${name}: ${done}/${files.length} images decoded into the cache`);
        }
      },
    );
    writer.finish({ ...shape, ...report, stats: stats.result() });
  } catch (e) {
    writer.abort();
    throw e;
  }
  const built = openImageCache(file, shape);
  if (built === null || 'invalid' in built) {
    throw new Error(
      `image cache ${file}: unreadable right after writing it (${built?.invalid ?? 'missing'})`,
    );
  }
  return built;
}

/**
 * Reads, decodes, converts and resizes `files` one at a time, handing each kept image (a reused
 * buffer of the input size) to `keep`; a bad file is skipped with a warning naming it.
 */
async function decodeFiles(
  name: string,
  files: readonly LabelledFile[],
  shape: { height: number; width: number; channels: 1 | 3 },
  opts: ImageFolderOptions,
  warn: (message: string) => void,
  known: Map<string, ImageHeader | SkippedImage> | undefined,
  keep: (image: Uint8Array, label: number, index: number) => void,
  onFile?: (done: number) => void,
): Promise<{ files: string[]; skipped: SkippedImage[]; converted: string[] }> {
  const { height, width, channels } = shape;
  const image = new Uint8Array(height * width * channels);
  const kept: string[] = [];
  const skipped: SkippedImage[] = [];
  const converted: string[] = [];
  for (const [i, { file, label }] of files.entries()) {
    const before = known?.get(file);
    if (before !== undefined && !isHeader(before)) {
      skipped.push(before);
      warn(`skipped ${before.reason}`);
    } else {
      try {
        const decoded = await decodeImage(await readFileBytes(file), file, opts);
        resizeBilinear(convertChannels(decoded, channels), height, width, image, 0);
        if (decoded.channels !== channels) converted.push(file);
        keep(image, label, kept.length);
        kept.push(file);
      } catch (e) {
        skipped.push({ file, reason: (e as Error).message });
        warn(`skipped ${(e as Error).message}`);
      }
    }
    onFile?.(i + 1);
  }
  if (converted.length > 0) {
    warn(
      `${name}: ${converted.length} ${channels === 3 ? 'grayscale image(s) converted to RGB' : 'colour image(s) converted to grayscale'} (${sample(converted)})`,
    );
  }
  if (skipped.length > 0) warn(`${name}: ${skipped.length} of ${files.length} file(s) skipped`);
  return { files: kept, skipped, converted };
}

/**
 * Per-channel sums of bytes/255 and their squares in float64, image after image: the same sums,
 * in the same order, whether the set is in memory or streamed into the cache.
 */
class ChannelSums {
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private n = 0;

  constructor(private readonly channels: number) {
    this.sum = new Float64Array(channels);
    this.sumSq = new Float64Array(channels);
  }

  add(bytes: Uint8Array): void {
    const c = this.channels;
    for (let i = 0; i < bytes.length; i++) {
      const v = bytes[i] / 255;
      this.sum[i % c] += v;
      this.sumSq[i % c] += v * v;
    }
    this.n += bytes.length / c;
  }

  /** Mean and (population) std; a std of 0 becomes 1. */
  result(): Normalization {
    const n = this.n;
    const mean = Array.from(this.sum, (s) => (n > 0 ? s / n : 0));
    const std = Array.from(this.sumSq, (s, c) => {
      const variance = n > 0 ? s / n - mean[c] ** 2 : 0;
      return variance > 1e-12 ? Math.sqrt(variance) : 1;
    });
    return { mean, std };
  }
}

async function readFileBytes(file: string): Promise<Uint8Array> {
  try {
    const b = await readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new Error(`${file}: cannot be read (${(e as Error).message})`);
  }
}

/** The first few paths of a list, for a one-line warning. */
function sample(files: readonly string[], n = 3): string {
  return files.slice(0, n).join(', ') + (files.length > n ? `, … ${files.length - n} more` : '');
}
