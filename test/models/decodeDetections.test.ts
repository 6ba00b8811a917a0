import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeDetections,
  detectionLists,
  detectionScores,
  detectionTargets,
  generateScenes,
  sceneBoxes,
  type Dataset,
} from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** heads [1, 4, 4, K + 4] from per-cell values: heatmap logits default −10. */
function heads(
  k: number,
  cells: { y: number; x: number; c: number; logit: number; size?: number[]; offset?: number[] }[],
) {
  const data = new Float32Array(16 * (k + 4));
  for (let i = 0; i < 16; i++) for (let c = 0; c < k; c++) data[i * (k + 4) + c] = -10;
  for (const cell of cells) {
    const at = (cell.y * 4 + cell.x) * (k + 4);
    data[at + cell.c] = cell.logit;
    if (cell.size) data.set(cell.size, at + k);
    if (cell.offset) data.set(cell.offset, at + k + 2);
  }
  return tf.tensor4d(data, [1, 4, 4, k + 4]);
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('decodeDetections: 3×3 max-pool peaks + top-k, tensor ops only (hand-computed)', () => {
  it('keeps a peak per class, drops its weaker same-class neighbour, and places the box', () => {
    const h = heads(2, [
      { y: 1, x: 2, c: 1, logit: 2, size: [2, 3], offset: [0.5, 0.25] },
      { y: 1, x: 3, c: 0, logit: 1 }, // neighbour of another class: its own peak
      { y: 2, x: 2, c: 1, logit: 1 }, // weaker neighbour of the same class: suppressed
    ]);
    const before = tf.memory().numTensors;
    const decoded = decodeDetections(h, { topK: 3, stride: 4 });
    expect(tf.memory().numTensors).toBe(before + 3); // boxes, scores, classes; nothing leaked
    const [list] = detectionLists(decoded, 0.5);
    expect(list).toHaveLength(2);
    expect(list[0].classIndex).toBe(1);
    expect(list[0].score).toBeCloseTo(sigmoid(2), 6);
    // centre ((2 + 0.5)·4, (1 + 0.25)·4) = (10, 5), size (2·4, 3·4) = (8, 12)
    list[0].box.forEach((v, i) => expect(v).toBeCloseTo([6, -1, 14, 11][i], 5));
    expect(list[1]).toMatchObject({ classIndex: 0, box: [12, 4, 12, 4] });
    expect(list[1].score).toBeCloseTo(sigmoid(1), 6);
    tf.dispose([h, decoded.boxes, decoded.scores, decoded.classes]);
  });

  it('ties: equal neighbouring peaks are both kept, in index order; no detection above the threshold → []', () => {
    const h = heads(1, [
      { y: 0, x: 1, c: 0, logit: 3 },
      { y: 0, x: 0, c: 0, logit: 3 },
    ]);
    const decoded = decodeDetections(h, { topK: 2 });
    const [list] = detectionLists(decoded, 0.5);
    expect(list.map((d) => d.box[0])).toEqual([0, 4]); // cell (0,0) before (0,1)
    expect(detectionLists(decoded, 0.99)).toEqual([[]]);
    tf.dispose([h, decoded.boxes, decoded.scores, decoded.classes]);
  });

  it('targets encoded as heads decode back to the ground truth: AP@[.5:.95] = 1', () => {
    const digits: Dataset = {
      name: 'squares',
      images: Uint8Array.from({ length: 10 * 28 * 28 }, (_, i) => {
        const [y, x] = [Math.floor((i % 784) / 28), i % 28];
        return y >= 4 && y < 24 && x >= 6 && x < 22 ? 255 : 0;
      }),
      labels: Uint8Array.from({ length: 10 }, (_, i) => i),
      count: 10,
      height: 28,
      width: 28,
      channels: 1,
      numClasses: 10,
    };
    const set = generateScenes(digits, { count: 6, seed: 2 });
    const indices = [0, 1, 2, 3, 4, 5];
    const t = detectionTargets(set, indices, 4);
    const k = 10;
    // heads: heatmap logit +20 at centres, −20 elsewhere; size and offset from the targets.
    const data = new Float32Array((t.data.length / (k + 5)) * (k + 4));
    for (let cell = 0; cell < data.length / (k + 4); cell++) {
      for (let c = 0; c < k; c++)
        data[cell * (k + 4) + c] = t.data[cell * (k + 5) + c] === 1 ? 20 : -20;
      for (let j = 0; j < 4; j++) data[cell * (k + 4) + k + j] = t.data[cell * (k + 5) + k + j];
    }
    const h = tf.tensor4d(data, [6, 16, 16, k + 4]);
    const decoded = decodeDetections(h, { topK: 10 });
    const found = detectionLists(decoded, 0.5);
    const truths = indices.map((i) => sceneBoxes(set, i));
    expect(found.map((l) => l.length)).toEqual(truths.map((l) => l.length));
    const s = detectionScores(found, truths, k);
    expect(s.ap).toBeCloseTo(1, 6);
    tf.dispose([h, decoded.boxes, decoded.scores, decoded.classes]);
  });
});
