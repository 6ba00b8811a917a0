import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  centerNetLossTerms,
  detectionTargets,
  pixelCrossEntropy,
  type SceneSet,
} from '../../src/index.js';
import { gaussianRadius } from '../../src/data/sceneBatches.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pixelCrossEntropy (hand-computed)', () => {
  it('mean of −log softmax over labelled pixels; 255 is ignored', () => {
    const logits = tf.tensor4d([0, Math.log(3), 2, 0, 5, -5], [1, 1, 3, 2]);
    const labels = tf.tensor3d([1, 0, 255], [1, 1, 3], 'int32');
    // −ln(3/4) and −ln(e²/(e²+1)); the third pixel does not count
    const expected = (-Math.log(0.75) - Math.log(Math.exp(2) / (Math.exp(2) + 1))) / 2;
    expect(pixelCrossEntropy(labels, logits).dataSync()[0]).toBeCloseTo(expected, 6);
    const allIgnored = tf.tensor3d([255, 255, 255], [1, 1, 3], 'int32');
    expect(pixelCrossEntropy(allIgnored, logits).dataSync()[0]).toBe(0);
    expect(() => pixelCrossEntropy(tf.zeros([1, 2, 2], 'int32'), logits)).toThrow(
      /labels \[1,2,2\] must be logits \[1,1,3,2\]/,
    );
    tf.dispose([logits, labels, allIgnored]);
  });
});

describe('centerNetLoss (hand-computed)', () => {
  it('focal loss at a centre and a Gaussian neighbour, L1 of size and offset only at the centre', () => {
    // 1 class, a 1×2 map. Cell 0: centre (gt 1), logit 0 → p = ½; cell 1: gt ½, logit 0.
    const heads = tf.tensor4d(
      [0, 1, 2, 0, 0, /* cell 1, ignored L1: */ 0, 99, 99, 99, 99],
      [1, 1, 2, 5],
    );
    const targets = tf.tensor4d(
      [1, 2, 2, 0.5, 0.25, 1, /* cell 1 */ 0.5, 7, 7, 7, 7, 0],
      [1, 1, 2, 6],
    );
    const t = centerNetLossTerms(targets, heads);
    const pos = Math.log(0.5) * 0.25; // log p · (1 − p)²
    const neg = Math.log(0.5) * 0.25 * 0.5 ** 4; // log(1 − p) · p² · (1 − gt)⁴
    expect(t.heatmap.dataSync()[0]).toBeCloseTo(-(pos + neg), 6);
    expect(t.size.dataSync()[0]).toBeCloseTo(1, 6); // |1 − 2| + |2 − 2|
    expect(t.offset.dataSync()[0]).toBeCloseTo(0.75, 6); // |0 − 0.5| + |0 − 0.25|
    expect(t.total.dataSync()[0]).toBeCloseTo(-(pos + neg) + 0.1 * 1 + 0.75, 6);
    tf.dispose([heads, targets, t.total, t.heatmap, t.size, t.offset]);
  });

  it('no objects: the divisor is 1 and only the background term is left', () => {
    const heads = tf.tensor4d([0, 0, 0, 0, 0], [1, 1, 1, 5]);
    const targets = tf.zeros([1, 1, 1, 6]);
    const t = centerNetLossTerms(targets, heads);
    expect(t.total.dataSync()[0]).toBeCloseTo(-Math.log(0.5) * 0.25, 6);
    expect(() => centerNetLossTerms(tf.zeros([1, 1, 1, 5]), heads)).toThrow(/one more channel/);
    tf.dispose([heads, targets, t.total, t.heatmap, t.size, t.offset]);
  });
});

describe('CenterNet targets (hand-computed)', () => {
  it('gaussianRadius follows CenterNet (min overlap 0.7): 2×2 → 0.547, 8×8 → 2.187', () => {
    expect(gaussianRadius(2, 2)).toBeCloseTo((-5.6 + Math.sqrt(44.8)) / 2, 10);
    expect(gaussianRadius(8, 8)).toBeCloseTo((-22.4 + Math.sqrt(716.8)) / 2, 10);
  });

  it('a 32×32 box in a 32×32 scene, stride 4: peak 1 at (4, 4), r = 2, σ = 5/6, size 8, offset 0, mask 1', () => {
    const set: SceneSet = {
      name: 'one box',
      images: new Uint8Array(32 * 32),
      count: 1,
      height: 32,
      width: 32,
      channels: 1,
      numClasses: 3,
      masks: null,
      boxes: {
        offsets: Uint32Array.from([0, 1]),
        coords: Float32Array.from([0, 0, 32, 32]),
        classes: Uint8Array.from([1]),
      },
    };
    const { data, shape } = detectionTargets(set, [0], 4);
    expect(shape).toEqual([1, 8, 8, 7]);
    const at = (y: number, x: number, c: number) => data[(y * 8 + x) * 7 + c];
    const sigma2 = (5 / 6) ** 2;
    expect(at(4, 4, 1)).toBe(1);
    expect(at(4, 5, 1)).toBeCloseTo(Math.exp(-1 / (2 * sigma2)), 6);
    expect(at(6, 6, 1)).toBeCloseTo(Math.exp(-8 / (2 * sigma2)), 6);
    expect(at(7, 4, 1)).toBe(0); // dy = 3 > r = 2
    expect(at(4, 4, 0)).toBe(0); // other class
    expect([at(4, 4, 2), at(4, 4, 3), at(4, 4, 4), at(4, 4, 5), at(4, 4, 6)]).toEqual([
      8, 8, 0, 0, 1,
    ]);
    expect(data.filter((v, i) => i % 7 === 6 && v !== 0)).toHaveLength(1);
  });
});
