/**
 * An image folder over its memory budget, read through the on-disk cache: the same images, labels,
 * statistics and seeded batches as the in-memory load; the cache reused on a second load, rebuilt
 * when a file changes or the cache is truncated or corrupt; nothing half-written; no tensor leaked.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flipCrop } from '../../src/data/augment.js';
import { batches } from '../../src/data/batches.js';
import { readImages, sliceDataset } from '../../src/data/dataset.js';
import {
  type ImageFolderDataset,
  type ImageFolderOptions,
  loadImageFolder,
  loadImageFolderSplits,
} from '../../src/data/imageFolder.js';
import { imageMemoryBudget, IMAGE_MEMORY_BUDGET_ENV } from '../../src/data/imageCache.js';
import { tintedRgb, writeDigitFolder, writePng, mnistDigits } from './imageFiles.js';

let root: string;
let folder: string;
let cacheDir: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'doconv-cache-'));
  folder = path.join(root, 'digits');
  await writeDigitFolder(folder, 50, { classes: [0, 1, 2], rgb: true });
  // A text file named .png: skipped and named, in memory and cached alike.
  await fs.writeFile(path.join(folder, 'digit-1', 'notes.png'), 'not an image');
  cacheDir = path.join(root, 'cache');
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

/** A load that records its warnings and progress notes. */
async function load(opts: ImageFolderOptions = {}) {
  const notes: string[] = [];
  const set = await loadImageFolder(folder, {
    size: 12,
    onWarning: (m) => notes.push(m),
    ...opts,
  });
  return { set, notes };
}
const cached = (opts: ImageFolderOptions = {}) => load({ memoryBudget: 1, cacheDir, ...opts });
const cacheFiles = async () => (await fs.readdir(cacheDir)).filter((f) => f.endsWith('.u8'));
const built = (notes: string[]) => notes.some((m) => m.includes('decoding them once into'));

/** Every batch of an epoch as plain arrays, the tensors disposed. */
function epoch(ds: ImageFolderDataset, seed: number) {
  const out: { xs: number[]; ys: number[] }[] = [];
  for (const b of batches(ds, 7, {
    shuffle: true,
    seed,
    normalize: ds.stats,
    augment: flipCrop(),
    labels: 'int',
  })) {
    out.push({ xs: Array.from(b.xs.dataSync()), ys: Array.from(b.ys.dataSync()) });
    tf.dispose([b.xs, b.ys]);
  }
  return out;
}

describe('image folder cache', () => {
  it('gives the in-memory set, statistics and seeded batches, bit for bit', async () => {
    const memory = (await load()).set;
    expect(memory.rows).toBeUndefined();
    const { set, notes } = await cached();
    expect(built(notes)).toBe(true);
    expect(set.rows?.where).toMatch(/\.u8$/);
    for (const key of ['count', 'height', 'width', 'channels', 'numClasses'] as const) {
      expect(set[key]).toBe(memory[key]);
    }
    expect(set.files).toEqual(memory.files);
    expect(set.skipped).toEqual(memory.skipped);
    expect(set.skipped.map((s) => path.basename(s.file))).toEqual(['notes.png']);
    expect(set.converted).toEqual(memory.converted);
    expect(Array.from(set.labels)).toEqual(Array.from(memory.labels));
    expect(set.stats).toEqual(memory.stats);
    const all = Array.from({ length: set.count }, (_, i) => i);
    expect(readImages(set, all)).toEqual(memory.images);
    // Its images are not in memory: reading them as an array fails loudly, naming the cache.
    expect(() => set.images).toThrow(/not in memory but in .*\.u8/);

    const before = tf.memory().numTensors;
    const a = epoch(memory, 11);
    const b = epoch(set, 11);
    expect(tf.memory().numTensors).toBe(before);
    expect(b).toEqual(a);
    expect(a.length).toBe(Math.ceil(set.count / 7));
    // An epoch visits each image once: the labels of its batches are the set's, permuted.
    expect(b.flatMap((x) => x.ys).sort()).toEqual(Array.from(set.labels).sort());
    expect(epoch(set, 12)).not.toEqual(b);
    // A slice reads its own rows.
    const part = sliceDataset(set, 3, 9);
    expect(readImages(part, [0, 5])).toEqual(readImages(memory, [3, 8]));
  });

  it('is reused on the next load, and rebuilt when a file changes', async () => {
    await cached();
    const [first] = await cacheFiles();
    const stat = await fs.stat(path.join(cacheDir, first));
    const again = await cached();
    expect(built(again.notes)).toBe(false);
    expect(await cacheFiles()).toEqual([first]);
    expect((await fs.stat(path.join(cacheDir, first))).mtimeMs).toBe(stat.mtimeMs);
    expect(again.notes).toContain(
      `${folder}/train: 1 of ${again.set.files.length + 1} file(s) skipped (cached)`,
    );

    // One image rewritten (another digit): a new key, a new cache, the old one removed.
    const victim = again.set.files.find((f) => f.endsWith('.png'))!;
    const [, , , digit] = await mnistDigits(4);
    await writePng(victim, tintedRgb(digit.image));
    const changed = await cached();
    expect(built(changed.notes)).toBe(true);
    const files = await cacheFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).not.toBe(first);
    const memory = (await load()).set;
    expect(
      readImages(
        changed.set,
        Array.from({ length: memory.count }, (_, i) => i),
      ),
    ).toEqual(memory.images);
    expect(changed.set.stats).toEqual(memory.stats);

    // Another decode cap skips other files (JPEGs declare 28×28×4 bytes, over 3000): rebuilt.
    const capped = await cached({ maxBytes: 3000 });
    expect(built(capped.notes)).toBe(true);
    expect(capped.set.skipped.filter((f) => f.file.endsWith('.jpg')).length).toBeGreaterThan(0);
    expect(capped.set.files.every((f) => f.endsWith('.png'))).toBe(true);
  });

  it('detects a truncated or corrupt cache and rebuilds it', async () => {
    const memory = (await load()).set;
    await cached();
    const [name] = await cacheFiles();
    const file = path.join(cacheDir, name);
    const whole = await fs.readFile(file);

    const flipped = Buffer.from(whole);
    flipped[100] ^= 0x40; // a pixel byte
    await fs.writeFile(file, flipped);
    const corrupt = await cached();
    expect(corrupt.notes.some((m) => m.includes('checksum does not match'))).toBe(true);
    expect(built(corrupt.notes)).toBe(true);
    expect(readImages(corrupt.set, [0, 1])).toEqual(readImages(memory, [0, 1]));

    await fs.writeFile(file, whole.subarray(0, whole.length - 1000));
    const truncated = await cached();
    expect(truncated.notes.some((m) => m.includes('rebuilding it'))).toBe(true);
    expect(built(truncated.notes)).toBe(true);
    expect(await fs.readFile(file)).toEqual(whole);
    // No temporary file left behind.
    expect((await fs.readdir(cacheDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('caches each split of a folder when both are over the budget', async () => {
    const memory = await loadImageFolderSplits(folder, { size: 12, onWarning: () => {} });
    const disk = await loadImageFolderSplits(folder, {
      size: 12,
      onWarning: () => {},
      memoryBudget: 1,
      cacheDir,
    });
    expect(disk.val.rows).toBeDefined();
    expect(disk.val.files).toEqual(memory.val.files);
    expect(readImages(disk.val, [0, disk.val.count - 1])).toEqual(
      readImages(memory.val, [0, memory.val.count - 1]),
    );
  });

  it('reports the one-time decode of a long split every 10 %, through onProgress', async () => {
    const long = path.join(root, 'long');
    for (let i = 0; i < 125; i++) {
      const data = new Uint8Array(4 * 4).fill(i);
      await writePng(path.join(long, i % 2 ? 'odd' : 'even', `${i}.png`), {
        width: 4,
        height: 4,
        channels: 1,
        data,
      });
    }
    const progress: string[] = [];
    const set = await loadImageFolder(long, {
      memoryBudget: 1,
      cacheDir,
      onWarning: () => {},
      onProgress: (m) => progress.push(m),
    });
    expect(progress[0]).toMatch(
      /100 images × 4×4×1 bytes are over the memory budget; decoding them once into .*\.u8/,
    );
    expect(progress.slice(1)).toEqual(
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map(
        (n) => `${long}/train: ${n}/100 images decoded into the cache`,
      ),
    );
    expect(set.count).toBe(100);
  });

  it('names a cache folder that cannot be written, and clears temporary files a killed run left', async () => {
    const blocker = path.join(root, 'not-a-folder');
    await fs.writeFile(blocker, 'a file where the cache folder would be');
    await expect(cached({ cacheDir: path.join(blocker, 'cache') })).rejects.toThrow(
      /digits\/train: the image cache folder .*not-a-folder\/cache cannot be written .*set DOCONV_IMAGE_CACHE \(or cacheDir\)/,
    );

    const name = (await cacheFiles()).find((f) => /^digits-\w+-train-/.test(f))!;
    const prefix = name.slice(0, name.length - '.u8'.length - 24);
    const old = path.join(cacheDir, `${prefix}0123.u8.99-x.tmp`);
    const fresh = path.join(cacheDir, `${prefix}4567.u8.98-y.tmp`);
    await fs.writeFile(old, 'left by a killed run');
    await fs.writeFile(fresh, 'being written by another run');
    const hourAgo = new Date(Date.now() - 3600e3);
    await fs.utimes(old, hourAgo, hourAgo);
    await fs.rm(path.join(cacheDir, name)); // forces a rebuild, which tidies up
    await cached();
    const left = await fs.readdir(cacheDir);
    expect(left).toContain(path.basename(fresh));
    expect(left).not.toContain(path.basename(old));
    await fs.rm(fresh);
  });

  it('takes its budget from the option, else the environment, and names a bad value', () => {
    const saved = process.env[IMAGE_MEMORY_BUDGET_ENV];
    try {
      delete process.env[IMAGE_MEMORY_BUDGET_ENV];
      expect(imageMemoryBudget()).toBe(2 ** 30);
      process.env[IMAGE_MEMORY_BUDGET_ENV] = '3M';
      expect(imageMemoryBudget()).toBe(3 * 2 ** 20);
      expect(imageMemoryBudget(5)).toBe(5);
      process.env[IMAGE_MEMORY_BUDGET_ENV] = 'lots';
      expect(() => imageMemoryBudget()).toThrow(/DOCONV_IMAGE_MEMORY_BUDGET.*"lots"/);
      expect(() => imageMemoryBudget(-1)).toThrow(/memoryBudget.*-1/);
    } finally {
      if (saved === undefined) delete process.env[IMAGE_MEMORY_BUDGET_ENV];
      else process.env[IMAGE_MEMORY_BUDGET_ENV] = saved;
    }
  });
});
