import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  idxDataset,
  loadIdxFolder,
  parseIdx,
  parseIdxImages,
  parseIdxLabels,
} from '../../src/node.js';
import { idxBytes, makeTempDir, patternImages, writeIdxFolder } from './fixtures.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});
async function tempDir() {
  const d = await makeTempDir();
  dirs.push(d);
  return d;
}

describe('parseIdx', () => {
  it('reads dims and values of an idx3 file', () => {
    const img = patternImages(2, 4, 3);
    const parsed = parseIdxImages(idxBytes([2, 4, 3], img), 'x');
    expect(parsed).toMatchObject({ count: 2, height: 4, width: 3 });
    // Pixel (n=1, y=2, x=1) is at n·h·w + y·w + x.
    expect(parsed.data[1 * 12 + 2 * 3 + 1]).toBe((31 + 14 + 1) % 256);
    expect(Array.from(parsed.data)).toEqual(Array.from(img));
  });

  it('rejects a wrong magic number, naming the file and the magic', () => {
    const bytes = idxBytes([3], [1, 2, 3]);
    bytes[0] = 0x12;
    expect(() => parseIdx(bytes, 'labels.idx')).toThrow(
      'labels.idx: magic number 0x12000801 is not an IDX file',
    );
  });

  it('rejects a non-ubyte value type', () => {
    expect(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d), 'f.idx')).toThrow(
      'f.idx: IDX value type 0x0d (float) in magic 0x00000d01 is not supported',
    );
  });

  it('rejects a truncated file with expected vs actual sizes', () => {
    const bytes = idxBytes([2, 4, 3], patternImages(2, 4, 3)).subarray(0, 30);
    expect(() => parseIdx(bytes, 'imgs')).toThrow(
      'imgs: expected 40 bytes (16-byte header + 2×4×3 ubyte values), got 30 (truncated)',
    );
  });

  it('rejects trailing data', () => {
    const bytes = new Uint8Array([...idxBytes([2], [1, 2]), 9]);
    expect(() => parseIdx(bytes, 'l')).toThrow(
      'l: expected 10 bytes (8-byte header + 2 ubyte values), got 11 (trailing data)',
    );
  });

  it('rejects a header cut short', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0]), 'h')).toThrow(
      'h: 6 bytes is too short for an IDX header with 3 dimensions (16 bytes)',
    );
  });

  it('rejects a labels file where images are expected and vice versa', () => {
    expect(() => parseIdxImages(idxBytes([2], [1, 2]), 'l')).toThrow(
      'l: magic 0x00000801 has 1 dimensions, expected an idx3 image file',
    );
    expect(() => parseIdxLabels(idxBytes([1, 1, 1], [1]), 'i', 10)).toThrow(
      'i: magic 0x00000803 has 3 dimensions, expected an idx1 label file',
    );
  });

  it('rejects labels outside 0..numClasses-1', () => {
    expect(() => parseIdxLabels(idxBytes([3], [1, 10, 2]), 'l', 10)).toThrow(
      'l: label 10 at index 1 is not below numClasses = 10',
    );
  });

  it('rejects image and label files with different counts, naming both', () => {
    expect(() =>
      idxDataset({
        name: 't',
        images: idxBytes([3, 2, 2], new Uint8Array(12)),
        imagesName: 'imgs-file',
        labels: idxBytes([2], [0, 1]),
        labelsName: 'labels-file',
        numClasses: 10,
      }),
    ).toThrow('imgs-file holds 3 images but labels-file holds 2 labels');
  });
});

describe('loadIdxFolder', () => {
  for (const gzip of [false, true]) {
    it(`loads both splits from ${gzip ? 'gzipped' : 'plain'} files, with limit`, async () => {
      const dir = await tempDir();
      await writeIdxFolder(dir, { train: 7, test: 3, gzip });
      const train = await loadIdxFolder(dir, { split: 'train', name: 'toy' });
      expect(train).toMatchObject({
        name: 'toy/train',
        count: 7,
        height: 4,
        width: 3,
        channels: 1,
        numClasses: 10,
      });
      expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(Array.from(train.images)).toEqual(Array.from(patternImages(7, 4, 3)));
      const test = await loadIdxFolder(dir, { split: 'test', name: 'toy', limit: 2 });
      expect(test.count).toBe(2);
      expect(test.images.length).toBe(2 * 12);
      expect(Array.from(test.labels)).toEqual([0, 1]);
    });
  }

  it('fails naming the file (and the .gz alternative) when one is missing', async () => {
    const dir = await tempDir();
    await writeIdxFolder(dir, { train: 2, test: 2 });
    await fs.rm(path.join(dir, 't10k-labels-idx1-ubyte'));
    await expect(loadIdxFolder(dir, { split: 'test', name: 'toy' })).rejects.toThrow(
      `${path.join(dir, 't10k-labels-idx1-ubyte')}: no such file (nor t10k-labels-idx1-ubyte.gz)`,
    );
  });

  it('fails naming a truncated file', async () => {
    const dir = await tempDir();
    await writeIdxFolder(dir, { train: 5, test: 2 });
    const file = path.join(dir, 'train-images-idx3-ubyte');
    await fs.truncate(file, 16 + 4 * 12 + 5);
    await expect(loadIdxFolder(dir, { split: 'train', name: 'toy' })).rejects.toThrow(
      `${file}: expected 76 bytes (16-byte header + 5×4×3 ubyte values), got 69 (truncated)`,
    );
  });

  it('fails naming a damaged gzip file', async () => {
    const dir = await tempDir();
    await writeIdxFolder(dir, { train: 5, test: 2, gzip: true });
    const file = path.join(dir, 'train-images-idx3-ubyte.gz');
    const gz = await fs.readFile(file);
    await fs.writeFile(file, gz.subarray(0, gz.length - 12));
    await expect(loadIdxFolder(dir, { split: 'train', name: 'toy' })).rejects.toThrow(
      `${file}: gzip data is damaged or truncated`,
    );
  });

  it('fails naming both files when counts differ', async () => {
    const dir = await tempDir();
    await writeIdxFolder(dir, { train: 5, test: 2 });
    const labels = path.join(dir, 'train-labels-idx1-ubyte');
    await fs.writeFile(labels, gzipSync(idxBytes([4], [0, 1, 2, 3])));
    await expect(loadIdxFolder(dir, { split: 'train', name: 'toy' })).rejects.toThrow(
      `${path.join(dir, 'train-images-idx3-ubyte')} holds 5 images but ${labels} holds 4 labels`,
    );
  });

  it('rejects a bad limit, naming it', async () => {
    const dir = await tempDir();
    await writeIdxFolder(dir, { train: 5, test: 2 });
    await expect(loadIdxFolder(dir, { split: 'train', name: 'toy', limit: -1 })).rejects.toThrow(
      'toy/train: limit must be a non-negative integer, got -1',
    );
  });
});
