import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchCount, batches, flipCrop, makeBatch, mixSeeds } from '../../src/data/index.js';
import { syntheticDataset } from './synthetic.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** All batches' labels (int) in visiting order, disposing every tensor. */
function labelOrder(it: Iterable<{ xs: tf.Tensor; ys: tf.Tensor }>): number[] {
  const out: number[] = [];
  for (const b of it) {
    out.push(...Array.from(b.ys.dataSync()));
    tf.dispose([b.xs, b.ys]);
  }
  return out;
}

describe('batches', () => {
  const ds = syntheticDataset(10);

  for (const [batchSize, dropRemainder, sizes] of [
    [4, false, [4, 4, 2]],
    [4, true, [4, 4]],
    [5, false, [5, 5]],
    [16, false, [10]],
  ] as const) {
    it(`batchSize=${batchSize} dropRemainder=${dropRemainder} → sizes ${sizes.join(',')}`, () => {
      expect(batchCount(ds.count, batchSize, dropRemainder)).toBe(sizes.length);
      const got: number[] = [];
      for (const b of batches(ds, batchSize, { dropRemainder })) {
        expect(b.xs.shape).toEqual([b.size, 3, 4, 2]);
        expect(b.xs.dtype).toBe('float32');
        expect(b.ys.shape).toEqual([b.size, 5]);
        got.push(b.size);
        tf.dispose([b.xs, b.ys]);
      }
      expect(got).toEqual(sizes);
    });
  }

  it('converts bytes to p/255 at the right NHWC positions, with one-hot labels', () => {
    const b = makeBatch(ds, [3, 0]);
    const xs = b.xs.arraySync();
    // Example 3, y=2, x=1, c=1: (150 + 20 + 3 + 1) / 255.
    expect(xs[0][2][1][1]).toBeCloseTo(174 / 255, 7);
    expect(xs[1][0][0][0]).toBe(0);
    expect(b.ys.arraySync()).toEqual([
      [0, 0, 0, 1, 0],
      [1, 0, 0, 0, 0],
    ]);
    tf.dispose([b.xs, b.ys]);
  });

  it('gives int32 labels and per-channel normalisation when asked', () => {
    const b = makeBatch(ds, [1], {
      labels: 'int',
      normalize: { mean: [0.5, 0.25], std: [0.5, 2] },
    });
    expect(b.ys.dtype).toBe('int32');
    expect(Array.from(b.ys.dataSync())).toEqual([1]);
    const xs = b.xs.arraySync();
    expect(xs[0][0][0][0]).toBeCloseTo((50 / 255 - 0.5) / 0.5, 6);
    expect(xs[0][0][0][1]).toBeCloseTo((51 / 255 - 0.25) / 2, 6);
    tf.dispose([b.xs, b.ys]);
  });

  it('visits every example once, in a seeded order that repeats for the same seed', () => {
    const order = (seed: number) =>
      labelOrder(
        batches(syntheticDataset(40, 2, 2, 1, 40), 8, { shuffle: true, seed, labels: 'int' }),
      );
    const a = order(1);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(order(1)).toEqual(a);
    expect(order(2)).not.toEqual(a);
    expect(order(mixSeeds(1, 0))).not.toEqual(order(mixSeeds(1, 1)));
  });

  it('keeps dataset order without shuffle', () => {
    const ds40 = syntheticDataset(12, 2, 2, 1, 12);
    expect(labelOrder(batches(ds40, 5, { labels: 'int' }))).toEqual(
      Array.from({ length: 12 }, (_, i) => i),
    );
  });

  it('does not change the visiting order when augmentation is switched on', () => {
    const big = syntheticDataset(20, 6, 6, 3, 20);
    const plain = labelOrder(batches(big, 6, { shuffle: true, seed: 9, labels: 'int' }));
    const aug = labelOrder(
      batches(big, 6, { shuffle: true, seed: 9, labels: 'int', augment: flipCrop() }),
    );
    expect(aug).toEqual(plain);
  });

  it('leaks no tensors: each batch owns exactly xs and ys, and stopping early creates nothing more', () => {
    const before = tf.memory().numTensors;
    for (const b of batches(ds, 3, { shuffle: true, seed: 4, augment: flipCrop({ padding: 1 }) })) {
      expect(tf.memory().numTensors).toBe(before + 2);
      tf.dispose([b.xs, b.ys]);
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const b of batches(ds, 3)) {
      tf.dispose([b.xs, b.ys]);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad arguments, naming them', () => {
    expect(() => batches(ds, 0).next()).toThrow('batchSize must be a positive integer, got 0');
    expect(() => makeBatch(ds, [10])).toThrow('makeBatch("synthetic"): index 10 is outside 0..9');
    expect(() => makeBatch(ds, [0], { normalize: { mean: [0.5], std: [1] } })).toThrow(
      'normalize: mean and std need one value per channel (2), got mean [0.5], std [1]',
    );
    expect(() => makeBatch(ds, [0], { normalize: { mean: [0, 0], std: [1, 0] } })).toThrow(
      'every std must be > 0, got [1,0]',
    );
    expect(() => makeBatch(ds, [0], { augment: flipCrop() })).toThrow(
      'format.augment needs an rng',
    );
    const broken = { ...ds, labels: ds.labels.subarray(0, 9) };
    expect(() => batches(broken, 2).next()).toThrow(
      'dataset "synthetic": labels has 9 entries, expected count = 10',
    );
  });
});
