import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES, loadCifar10, loadDataset, parseCifar10Batch } from '../../src/node.js';
import { cifarBatch, cifarRecord, makeTempDir, writeCifarFolder } from './fixtures.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});
async function tempDir() {
  const d = await makeTempDir();
  dirs.push(d);
  return d;
}

describe('parseCifar10Batch', () => {
  it('turns a hand-made CHW record into HWC pixels', () => {
    // Record with red = 10, green = 20, blue = 30 everywhere except pixel (y=1, x=2): 1, 2, 3.
    const rec = new Uint8Array(3073);
    rec[0] = 7;
    rec.fill(10, 1, 1025);
    rec.fill(20, 1025, 2049);
    rec.fill(30, 2049, 3073);
    const p = 1 * 32 + 2;
    rec[1 + p] = 1;
    rec[1 + 1024 + p] = 2;
    rec[1 + 2048 + p] = 3;
    const { images, labels, count } = parseCifar10Batch(rec, 'one.bin', 1);
    expect(count).toBe(1);
    expect(labels[0]).toBe(7);
    expect(Array.from(images.subarray(p * 3, p * 3 + 3))).toEqual([1, 2, 3]);
    expect(Array.from(images.subarray(0, 3))).toEqual([10, 20, 30]);
    expect(Array.from(images.subarray(1023 * 3, 1024 * 3))).toEqual([10, 20, 30]);
  });

  it('maps every pixel: out[(y·32+x)·3 + c] = plane c at y·32+x', () => {
    const { images } = parseCifar10Batch(cifarRecord(3, 5), 'r', 1);
    for (const [y, x, c] of [
      [0, 0, 0],
      [0, 31, 1],
      [31, 0, 2],
      [17, 9, 1],
      [31, 31, 2],
    ]) {
      expect(images[(y * 32 + x) * 3 + c]).toBe((c * 100 + y * 32 + x + 5) % 256);
    }
  });

  it('rejects a wrong size, naming the file and both sizes', () => {
    expect(() => parseCifar10Batch(new Uint8Array(3073 * 2 - 1), 'b.bin', 2)).toThrow(
      'b.bin: expected 6146 bytes (2 records × 3073), got 6145 (not a whole number of records)',
    );
    expect(() => parseCifar10Batch(new Uint8Array(3073), 'b.bin')).toThrow(
      'b.bin: expected 30730000 bytes (10000 records × 3073), got 3073 (1 whole records)',
    );
  });

  it('rejects a label above 9 (e.g. a CIFAR-100 file)', () => {
    expect(() => parseCifar10Batch(cifarRecord(42), 'c100.bin', 1)).toThrow(
      'c100.bin: record 0 has label 42; CIFAR-10 labels are 0..9',
    );
  });
});

describe('loadCifar10', () => {
  it('loads the train split across all five files in order', async () => {
    const dir = await tempDir();
    await writeCifarFolder(dir, 3);
    const ds = await loadCifar10(dir, { split: 'train', recordsPerFile: 3 });
    expect(ds).toMatchObject({
      name: 'cifar10/train',
      count: 15,
      height: 32,
      width: 32,
      channels: 3,
      numClasses: 10,
    });
    expect(ds.classNames).toEqual(CIFAR10_CLASSES);
    expect(Array.from(ds.labels)).toEqual(Array.from({ length: 15 }, (_, i) => i % 10));
    // Image 7 (file 3, record 1): seed 7; pixel (y=2, x=5) green.
    expect(ds.images[7 * 3072 + (2 * 32 + 5) * 3 + 1]).toBe((100 + 69 + 7) % 256);
  });

  it('loads the test split, and through loadDataset', async () => {
    const dir = await tempDir();
    await writeCifarFolder(dir, 2);
    const a = await loadCifar10(dir, { split: 'test', recordsPerFile: 2 });
    expect(a.count).toBe(2);
    expect(Array.from(a.labels)).toEqual([0, 1]); // first = 1000 → labels 1000 % 10, 1001 % 10
    await expect(loadDataset('cifar10', { split: 'test' })).rejects.toThrow(
      'cifar10: dir is required',
    );
  });

  it('reads only the files a limit needs, still size-checking all of them', async () => {
    const dir = await tempDir();
    await writeCifarFolder(dir, 4);
    const ds = await loadCifar10(dir, { split: 'train', recordsPerFile: 4, limit: 6 });
    expect(ds.count).toBe(6);
    expect(ds.images.length).toBe(6 * 3072);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 3, 4, 5]);
    const last = path.join(dir, 'data_batch_5.bin');
    await fs.truncate(last, 4 * 3073 - 100);
    await expect(loadCifar10(dir, { split: 'train', recordsPerFile: 4, limit: 6 })).rejects.toThrow(
      `${last}: expected 12292 bytes (4 records × 3073), got 12192`,
    );
  });

  it('rejects real-size expectations on small files by name (default 10000 records)', async () => {
    const dir = await tempDir();
    await writeCifarFolder(dir, 2);
    await expect(loadCifar10(dir, { split: 'test' })).rejects.toThrow(
      `${path.join(dir, 'test_batch.bin')}: expected 30730000 bytes (10000 records × 3073), got 6146 (2 whole records)`,
    );
  });

  it('names the missing file', async () => {
    const dir = await tempDir();
    await writeCifarFolder(dir, 2);
    await fs.rm(path.join(dir, 'data_batch_3.bin'));
    await expect(loadCifar10(dir, { split: 'train', recordsPerFile: 2 })).rejects.toThrow(
      `CIFAR-10: ${path.join(dir, 'data_batch_3.bin')}: no such file`,
    );
  });

  it('accepts the folder the official archive was unpacked in (cifar-10-batches-bin/ inside)', async () => {
    const dir = await tempDir();
    const inner = path.join(dir, 'cifar-10-batches-bin');
    await fs.mkdir(inner);
    await fs.writeFile(path.join(inner, 'test_batch.bin'), cifarBatch(2));
    const ds = await loadCifar10(dir, { split: 'test', recordsPerFile: 2 });
    expect(ds.count).toBe(2);
  });
});
