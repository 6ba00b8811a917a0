/**
 * An image folder's split decoded once into one uint8 file on disk, for a set larger than the
 * memory budget: training then reads the images each batch needs from that file. Node-only.
 *
 * Why random reads and not chunked shuffling: `fs.readSync` of each batch's rows at their offsets
 * keeps the trainer's seeded permutation exactly (a cached run sees the very batches an in-memory
 * run sees), and the OS page cache makes the reads cheap once the file has been read once (the
 * check on opening reads it whole). Node has no memory-mapped files.
 *
 * The file, `<folder name>-<hash of its path>-<split>-<key>.u8` in the cache folder:
 *   "DOCIMG01" | count × height × width × channels pixel bytes | count label bytes | JSON meta |
 *   uint32 LE length of the meta | "DOCIMG01"
 * The key hashes what the pixels depend on: the folder's path, the split's files in order with their
 * labels, sizes and modification times, the size and channels, the class names, the decode cap
 * (which files are skipped) and this format's version — a changed folder gets a new key, so its old cache is never read. The meta holds the
 * SHA-256 of pixels and labels, checked when the file is opened: a truncated or corrupt cache is
 * rebuilt, not trained on. Written to a temporary file and renamed into place (a crash leaves no
 * half-written cache under the real name); older caches of the same folder and split are deleted.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Normalization } from './batches.js';
import type { ImageRows } from './dataset.js';
import type { LabelledFile } from './imageFolderLayout.js';
import { parseByteCount } from '../io/limits.js';

/** The environment variable setting the memory budget (bytes, or with a K/M/G/T suffix). */
export const IMAGE_MEMORY_BUDGET_ENV = 'DOCONV_IMAGE_MEMORY_BUDGET';
/** The environment variable naming the cache folder. */
export const IMAGE_CACHE_DIR_ENV = 'DOCONV_IMAGE_CACHE';
/** 1 GiB: a split larger than this at the input size is cached on disk instead of held in memory. */
export const DEFAULT_IMAGE_MEMORY_BUDGET = 2 ** 30;

const MAGIC = Buffer.from('DOCIMG01', 'latin1');
const TRAILER_BYTES = 4 + MAGIC.length;
const FORMAT_VERSION = 1;
/** Chunk of the one-pass check on opening. */
const CHECK_CHUNK = 4 * 2 ** 20;

/** The budget in effect: the option, else the environment variable, else 1 GiB. */
export function imageMemoryBudget(option?: number): number {
  if (option !== undefined) {
    if (!Number.isSafeInteger(option) || option < 0) {
      throw new Error(
        `memoryBudget: expected a non-negative integer of bytes, got ${String(option)}`,
      );
    }
    return option;
  }
  const env = process.env[IMAGE_MEMORY_BUDGET_ENV];
  return env === undefined || env === ''
    ? DEFAULT_IMAGE_MEMORY_BUDGET
    : parseByteCount(env, IMAGE_MEMORY_BUDGET_ENV);
}

/** The cache folder: the option, else DOCONV_IMAGE_CACHE, else $XDG_CACHE_HOME or ~/.cache, /doconv/images. */
export function imageCacheDir(option?: string): string {
  if (option !== undefined && option !== '') return path.resolve(option);
  const env = process.env[IMAGE_CACHE_DIR_ENV];
  if (env !== undefined && env !== '') return path.resolve(env);
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'doconv', 'images');
}

/** What a split's cached pixels depend on. */
export interface CacheSource {
  dir: string;
  split: 'train' | 'val';
  files: readonly LabelledFile[];
  classNames: readonly string[];
  height: number;
  width: number;
  channels: number;
  /** The decode cap in effect (a file over it is skipped, so it changes what is cached). */
  decodeLimit: number;
}

/** The cache file of `src` in `cacheDir` (its key hashes the files' sizes and modification times). */
export function imageCachePath(src: CacheSource, cacheDir: string): string {
  const absolute = path.resolve(src.dir);
  const files = src.files.map(({ file, label }) => {
    try {
      const st = fs.statSync(file);
      return [file, label, st.size, st.mtimeMs];
    } catch {
      return [file, label, null, null]; // the decode pass skips (and names) it
    }
  });
  const key = sha256Hex(
    JSON.stringify({
      version: FORMAT_VERSION,
      dir: absolute,
      split: src.split,
      shape: [src.height, src.width, src.channels],
      decodeLimit: src.decodeLimit,
      classNames: src.classNames,
      files,
    }),
  ).slice(0, 24);
  return path.join(cacheDir, `${cachePrefix(absolute, src.split)}${key}.u8`);
}

/** The name shared by every cache of one folder's split, whatever its files. */
function cachePrefix(absoluteDir: string, split: string): string {
  const name = path.basename(absoluteDir).replace(/[^A-Za-z0-9._-]/g, '_') || 'root';
  return `${name}-${sha256Hex(absoluteDir).slice(0, 8)}-${split}-`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What the cache records beside the pixels: the split as the in-memory loader would return it. */
export interface CacheMeta {
  count: number;
  height: number;
  width: number;
  channels: number;
  files: string[];
  skipped: Array<{ file: string; reason: string }>;
  converted: string[];
  stats: Normalization;
}

/** A cache opened and checked: its labels in memory, its images read on demand. */
export interface OpenedCache {
  meta: CacheMeta;
  labels: Uint8Array;
  rows: ImageRows;
}

// Each opened cache keeps its file open while its dataset lives (a newer run's clean-up may delete
// the file meanwhile: the open descriptor still reads it); the descriptor closes when it is collected.
const descriptors = new FinalizationRegistry<number>((fd) => {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
});

/**
 * Opens the cache at `file` for `expected` (height, width, channels): null when there is none,
 * `{invalid: reason}` when it cannot be trusted (truncated, corrupt, another shape), else the cache.
 */
export function openImageCache(
  file: string,
  expected: { height: number; width: number; channels: number },
): OpenedCache | null | { invalid: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const result = checkCache(fd, file, expected);
    if ('invalid' in result) {
      fs.closeSync(fd);
      return result;
    }
    const per = result.meta.height * result.meta.width * result.meta.channels;
    const rows: ImageRows = {
      count: result.meta.count,
      imageBytes: per,
      where: file,
      read: (indices, out) => readRows(fd, file, per, indices, out),
    };
    descriptors.register(rows, fd);
    return { meta: result.meta, labels: result.labels, rows };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function checkCache(
  fd: number,
  file: string,
  expected: { height: number; width: number; channels: number },
): { meta: CacheMeta; labels: Uint8Array } | { invalid: string } {
  const size = fs.fstatSync(fd).size;
  if (size < 2 * MAGIC.length + 4) return { invalid: `${size} bytes, shorter than its frame` };
  const head = readExactly(fd, 0, MAGIC.length);
  const tail = readExactly(fd, size - TRAILER_BYTES, TRAILER_BYTES);
  if (!head.equals(MAGIC) || !tail.subarray(4).equals(MAGIC)) {
    return { invalid: 'no doconv image-cache frame (truncated or not a cache)' };
  }
  const metaBytes = tail.readUInt32LE(0);
  if (metaBytes > size - 2 * MAGIC.length - 4) return { invalid: 'meta length past the file' };
  let meta: CacheMeta & { sha256: string };
  try {
    meta = JSON.parse(
      readExactly(fd, size - TRAILER_BYTES - metaBytes, metaBytes).toString('utf8'),
    ) as CacheMeta & { sha256: string };
  } catch (e) {
    return { invalid: `unreadable meta (${(e as Error).message})` };
  }
  const { height, width, channels } = expected;
  if (meta.height !== height || meta.width !== width || meta.channels !== channels) {
    return { invalid: `holds ${meta.height}×${meta.width}×${meta.channels} images` };
  }
  const per = height * width * channels;
  const body = meta.count * per + meta.count;
  if (
    !Number.isSafeInteger(meta.count) ||
    MAGIC.length + body + metaBytes + TRAILER_BYTES !== size
  ) {
    return { invalid: `${size} bytes, not the ${meta.count} images its meta lists (truncated?)` };
  }
  // One pass over pixels and labels: a flipped byte is found here, not trained on.
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(Math.min(CHECK_CHUNK, Math.max(body, 1)));
  for (let at = 0; at < body; at += chunk.length) {
    const n = Math.min(chunk.length, body - at);
    readInto(fd, file, chunk, n, MAGIC.length + at);
    hash.update(chunk.subarray(0, n));
  }
  if (hash.digest('hex') !== meta.sha256)
    return { invalid: 'its checksum does not match (corrupt)' };
  const labels = new Uint8Array(readExactly(fd, MAGIC.length + meta.count * per, meta.count));
  const { count, files, skipped, converted, stats } = meta;
  return { meta: { count, height, width, channels, files, skipped, converted, stats }, labels };
}

function readRows(
  fd: number,
  file: string,
  per: number,
  indices: ArrayLike<number>,
  out: Uint8Array,
): void {
  for (let i = 0; i < indices.length; i++) {
    readInto(fd, file, out.subarray(i * per, (i + 1) * per), per, MAGIC.length + indices[i] * per);
  }
}

function readExactly(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  readInto(fd, '(cache)', b, length, position);
  return b;
}

function readInto(fd: number, file: string, into: Uint8Array, length: number, position: number) {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, into, done, length - done, position + done);
    if (n === 0) {
      throw new Error(
        `image cache ${file}: ended at byte ${position + done}, expected ${length - done} more (changed while in use? delete it to rebuild)`,
      );
    }
    done += n;
  }
}

/**
 * Writes a cache image by image into a temporary file beside `file`; `finish` renames it into
 * place (and deletes older caches of the same folder and split), `abort` deletes it.
 */
export class ImageCacheWriter {
  private readonly temp: string;
  private readonly fd: number;
  private readonly hash: Hash = createHash('sha256');
  private readonly labels: number[] = [];
  private position = 0;

  constructor(
    readonly file: string,
    readonly imageBytes: number,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.temp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    this.fd = fs.openSync(this.temp, 'wx');
    this.write(MAGIC);
  }

  /** Appends one image (imageBytes bytes) and its label. */
  add(image: Uint8Array, label: number): void {
    if (image.length !== this.imageBytes) {
      throw new Error(
        `image cache: an image of ${image.length} bytes, expected ${this.imageBytes}`,
      );
    }
    this.write(image);
    this.hash.update(image);
    this.labels.push(label);
  }

  /** Completes the file with labels and `meta`, and moves it into place. */
  finish(meta: Omit<CacheMeta, 'count'>): void {
    const labels = Uint8Array.from(this.labels);
    this.write(labels);
    this.hash.update(labels);
    const json = Buffer.from(
      JSON.stringify({ ...meta, count: labels.length, sha256: this.hash.digest('hex') }),
      'utf8',
    );
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length, 0);
    this.write(Buffer.concat([json, length, MAGIC]));
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    fs.renameSync(this.temp, this.file);
    removeOlderCaches(this.file);
  }

  /** Deletes the temporary file (after a failure). */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.temp, { force: true });
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.position + done);
    }
    this.position += bytes.length;
  }
}

/** A temporary file untouched this long was left by a killed run (a live writer keeps writing). */
const STALE_TEMP_MS = 10 * 60 * 1000;

/**
 * Deletes the other caches of `file`'s folder and split (stale: their folder has changed since),
 * and temporary files of it that a killed run left behind.
 */
function removeOlderCaches(file: string): void {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const prefix = name.slice(0, name.length - '.u8'.length - 24);
  for (const other of fs.readdirSync(dir)) {
    if (other === name || !other.startsWith(prefix)) continue;
    const full = path.join(dir, other);
    try {
      if (other.endsWith('.u8')) fs.rmSync(full, { force: true });
      else if (other.endsWith('.tmp') && Date.now() - fs.statSync(full).mtimeMs > STALE_TEMP_MS) {
        fs.rmSync(full, { force: true });
      }
    } catch {
      // another run removed it first, or it is in use (Windows): it is not ours to insist on
    }
  }
}

/**
 * Makes the cache folder and refuses a cache the disk has no room for, before decoding anything;
 * either failure names the folder and how to choose another.
 */
export function checkFreeSpace(cacheDir: string, bytes: number, what: string): void {
  const elsewhere = `set ${IMAGE_CACHE_DIR_ENV} (or cacheDir) to a folder with room`;
  let free: number;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.accessSync(cacheDir, fs.constants.W_OK);
    const st = fs.statfsSync(cacheDir);
    free = st.bavail * st.bsize;
  } catch (e) {
    throw new Error(
      `${what}: the image cache folder ${cacheDir} cannot be written (${(e as Error).message}); ${elsewhere}, or raise ${IMAGE_MEMORY_BUDGET_ENV} to keep the images in memory`,
    );
  }
  if (bytes > free) {
    throw new Error(
      `${what}: its cache needs ${bytes} bytes but ${cacheDir} has ${free} free; ${elsewhere}, or read fewer/smaller images`,
    );
  }
}
