import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkSceneSet,
  generateScenes,
  sceneBoxes,
  sliceScenes,
  type Dataset,
  type SceneSet,
} from '../../src/index.js';
import { loadMnistScenes } from '../../src/node.js';

/** 20 blob-shaped "digits" of 28×28: an ellipse of ink (values 128..255) at a label-dependent place. */
function blobDigits(count = 20): Dataset {
  const images = new Uint8Array(count * 28 * 28);
  for (let n = 0; n < count; n++) {
    const cy = 10 + (n % 7);
    const cx = 9 + (n % 9);
    const ry = 5 + (n % 4);
    const rx = 4 + (n % 5);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const d = ((y - cy) * (y - cy)) / (ry * ry) + ((x - cx) * (x - cx)) / (rx * rx);
        if (d <= 1) images[(n * 28 + y) * 28 + x] = 128 + ((n * 37 + y * 5 + x * 3) % 128);
        else if (d <= 1.5) images[(n * 28 + y) * 28 + x] = 40; // faint rim, below the ink threshold
      }
    }
  }
  const labels = Uint8Array.from({ length: count }, (_, n) => n % 10);
  return {
    name: 'blobs',
    images,
    labels,
    count,
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
  };
}

function sha256(set: SceneSet): string {
  const h = createHash('sha256');
  h.update(set.images);
  h.update(set.masks!);
  h.update(new Uint8Array(set.boxes!.offsets.buffer));
  h.update(new Uint8Array(set.boxes!.coords.buffer));
  h.update(set.boxes!.classes);
  return h.digest('hex');
}

describe('generateScenes', () => {
  it('gives the same bytes on every machine: SHA-256 of a seeded set (integer arithmetic only)', () => {
    const set = generateScenes(blobDigits(), { count: 40, seed: 7 });
    // Pinned once; any change to the generator's arithmetic or draw order changes it.
    expect(sha256(set)).toBe(PINNED_HASH);
    expect(sha256(generateScenes(blobDigits(), { count: 40, seed: 7 }))).toBe(sha256(set));
    expect(sha256(generateScenes(blobDigits(), { count: 40, seed: 8 }))).not.toBe(sha256(set));
  });

  it('scales by nearest neighbour and places ink, mask and box together (a 2×2 digit → 4×4)', () => {
    const source: Dataset = {
      name: 'checker',
      images: Uint8Array.from([255, 0, 0, 200]),
      labels: Uint8Array.from([3]),
      count: 1,
      height: 2,
      width: 2,
      channels: 1,
      numClasses: 10,
    };
    const set = generateScenes(source, {
      count: 5,
      size: 8,
      minDigits: 1,
      maxDigits: 1,
      minScale: 4,
      maxScale: 4,
      seed: 1,
    });
    checkSceneSet(set);
    for (let s = 0; s < 5; s++) {
      const [{ box, classIndex }] = sceneBoxes(set, s);
      expect(classIndex).toBe(3);
      const [x0, y0, x1, y1] = box;
      expect([x1 - x0, y1 - y0]).toEqual([4, 4]); // ink fills the scaled digit's corners
      const image = set.images.subarray(s * 64, (s + 1) * 64);
      const mask = set.masks!.subarray(s * 64, (s + 1) * 64);
      // [[255 255 0 0] [255 255 0 0] [0 0 200 200] [0 0 200 200]] at (x0, y0)
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const dy = y - y0;
          const dx = x - x0;
          const inside = dy >= 0 && dy < 4 && dx >= 0 && dx < 4;
          const v = !inside ? 0 : dy < 2 && dx < 2 ? 255 : dy >= 2 && dx >= 2 ? 200 : 0;
          expect(image[y * 8 + x], `scene ${s} (${x}, ${y})`).toBe(v);
          expect(mask[y * 8 + x]).toBe(v >= 128 ? 4 : 0);
        }
      }
    }
  });

  it('keeps 1..4 digits, boxes inside the canvas, overlap ≤ 20 % of the smaller box, labels = box classes', () => {
    const set = generateScenes(blobDigits(), { count: 200, seed: 3 });
    checkSceneSet(set);
    const counts = new Set<number>();
    for (let s = 0; s < set.count; s++) {
      const boxes = sceneBoxes(set, s);
      counts.add(boxes.length);
      const classesInMask = new Set(set.masks!.subarray(s * 4096, (s + 1) * 4096));
      classesInMask.delete(0);
      for (const c of classesInMask) expect(boxes.some((b) => b.classIndex + 1 === c)).toBe(true);
      for (const { box } of boxes) {
        expect(box[0] >= 0 && box[1] >= 0 && box[2] <= 64 && box[3] <= 64).toBe(true);
      }
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i].box, boxes[j].box];
          const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
          const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
          const area = (r: readonly number[]) => (r[2] - r[0]) * (r[3] - r[1]);
          if (w > 0 && h > 0) expect(w * h).toBeLessThanOrEqual(0.2 * Math.min(area(a), area(b)));
        }
      }
    }
    expect([...counts].sort()).toEqual([1, 2, 3, 4]);
  });

  it('slices keep each scene with its own boxes', () => {
    const set = generateScenes(blobDigits(), { count: 10, seed: 5 });
    const part = sliceScenes(set, 3, 7);
    expect(part.count).toBe(4);
    for (let s = 0; s < 4; s++) expect(sceneBoxes(part, s)).toEqual(sceneBoxes(set, s + 3));
    expect(part.images).toEqual(set.images.slice(3 * 4096, 7 * 4096));
  });

  it('bad options fail naming the option and the value', () => {
    const d = blobDigits(2);
    expect(() => generateScenes(d, { count: -1, seed: 1 })).toThrow(/count must be an integer.*-1/);
    expect(() => generateScenes(d, { count: 1, seed: 1, maxScale: 80 })).toThrow(/maxScale .*80/);
    expect(() => generateScenes(d, { count: 1, seed: 1.5 })).toThrow(/seed .*1\.5/);
    expect(() => generateScenes({ ...d, channels: 3 }, { count: 1, seed: 1 })).toThrow(
      /1 channel, got 3/,
    );
  });
});

describe('mnist-scenes', () => {
  it('train and test splits are deterministic, different, and 64×64 with 11 classes', async () => {
    const [a, b, t] = await Promise.all([
      loadMnistScenes({ split: 'train', count: 3 }),
      loadMnistScenes({ split: 'train', count: 3 }),
      loadMnistScenes({ split: 'test', count: 3 }),
    ]);
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(t.images);
    expect([a.height, a.width, a.channels, a.numClasses, a.name]).toEqual([
      64,
      64,
      1,
      11,
      'mnist-scenes/train',
    ]);
    expect(t.name).toBe('mnist-scenes/test');
  });
});

const PINNED_HASH = '9f64f66431dfd8faccd7e0a01f04f718c431853f9d0176534867b2618cfb4c51';
