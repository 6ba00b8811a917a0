/**
 * Decoding one split of an image folder (imageFolder.ts lists, splits and shapes it): in memory when
 * the split fits the memory budget, else once into the on-disk cache (imageCache.ts) and read from
 * there. Node-only.
 *
 * Both ways decode the same files in the same order through `decodeFiles` and sum the statistics
 * in `ChannelSums`, so a cached split has the very images, labels and statistics of an in-memory one.
 */
import { readFile } from 'node:fs/promises';
import type { Normalization } from './batches.js';
import { withRows } from './dataset.js';
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
import type { ImageFolderDataset, ImageFolderOptions, SkippedImage } from './imageFolder.js';
import type { LabelledFile } from './imageFolderLayout.js';
import type { ImageHeader } from './imageHeader.js';
import { convertChannels, resizeBilinear } from './resizeImage.js';
import { checkDecodedSize, decodeLimitBytes } from '../io/limits.js';

export function isHeader(h: ImageHeader | SkippedImage | undefined): h is ImageHeader {
  return h !== undefined && 'format' in h;
}

/**
 * Decodes `files` one by one into a new Dataset of `shape`, skipping (and naming) bad ones: in
 * memory when the split fits the memory budget, else through the on-disk cache.
 */
export async function readSplit(
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
  // The decode cap decides which files are skipped: part of what the cache holds.
  const decodeLimit = decodeLimitBytes(opts.maxBytes);
  const file = imageCachePath({ ...where, files, classNames, ...shape, decodeLimit }, dir);
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
        // Every 10 % of a long split (a short one decodes too fast to need it).
        if (files.length >= 100 && (done % tenth === 0 || done === files.length)) {
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

export async function readFileBytes(file: string): Promise<Uint8Array> {
  try {
    const b = await readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new Error(`${file}: cannot be read (${(e as Error).message})`);
  }
}

/** The first few paths of a list, for a one-line warning. */
export function sample(files: readonly string[], n = 3): string {
  return files.slice(0, n).join(', ') + (files.length > n ? `, … ${files.length - n} more` : '');
}
