import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FASHION_MNIST_CLASSES,
  findFashionMnistDir,
  loadFashionMnist,
} from '../../src/data/node.js';
import { makeTempDir, writeIdxFolder } from './fixtures.js';

const installed = await findFashionMnistDir();
if (!installed) {
  console.warn(
    'Fashion-MNIST tests on the real data are skipped: the Debian package dataset-fashion-mnist is not installed',
  );
}

describe('Fashion-MNIST', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it.skipIf(!installed)(
    'loads the Debian package files: 60000 train, 10000 test, 28×28×1',
    async () => {
      const train = await loadFashionMnist({ split: 'train' });
      expect(train).toMatchObject({
        name: 'fashion-mnist/train',
        count: 60000,
        height: 28,
        width: 28,
        channels: 1,
        numClasses: 10,
      });
      expect(train.classNames).toEqual(FASHION_MNIST_CLASSES);
      expect(train.labels[0]).toBe(9); // the first Fashion-MNIST training image is an ankle boot
      const counts = new Array(10).fill(0);
      train.labels.forEach((l) => counts[l]++);
      expect(counts).toEqual(new Array(10).fill(6000)); // the set is balanced
      const test = await loadFashionMnist({ split: 'test', limit: 500 });
      expect(test.count).toBe(500);
    },
  );

  it('loads from a user-given folder', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    await writeIdxFolder(dir, { train: 4, test: 2, h: 28, w: 28, gzip: true });
    const ds = await loadFashionMnist({ split: 'test', dir });
    expect(ds.count).toBe(2);
    expect(ds.name).toBe('fashion-mnist/test');
  });

  it('names what it looked for when the user folder is empty', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    await expect(loadFashionMnist({ split: 'train', dir })).rejects.toThrow(
      `${path.join(dir, 'train-images-idx3-ubyte')}: no such file (nor train-images-idx3-ubyte.gz)`,
    );
  });
});
