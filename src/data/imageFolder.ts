/**
 * A folder of PNG/JPEG images sorted into class folders → a Dataset at the model's input size.
 * Node-only. Layouts and class names: imageFolderLayout.ts; decoding a split (in memory or through
 * the on-disk cache, imageCache.ts): imageFolderSplit.ts; one image: decodeImage.ts; resizing and
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
import type { Normalization } from './batches.js';
import type { Dataset } from './dataset.js';
import { folderLayout, type LabelledFile, type LayoutOptions } from './imageFolderLayout.js';
import { type ImageHeader, readImageHeader } from './imageHeader.js';
import { isHeader, readFileBytes, readSplit, sample } from './imageFolderSplit.js';
import { createRng, mixSeeds, permutation } from './prng.js';
import { checkDecodedSize, type DecodeLimitOption } from '../io/limits.js';
import { OptionError } from '../util/optionError.js';
import { checkOptionAllocation } from '../util/sizeLimit.js';

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
    // Every image is resized to this before anything else: refuse a size over the cap up front.
    checkOptionAllocation(
      ['size'],
      height * width * channels * 4,
      (n) =>
        `one image at ${n('size', typeof opts.size === 'number' ? String(opts.size) : `${height}×${width}`)} ` +
        `as the model's float32 input, ${height} × ${width} × ${channels} channels × 4 bytes`,
    );
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
