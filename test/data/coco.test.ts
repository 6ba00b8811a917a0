import { encode } from 'fast-png';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodePngMask,
  decodePngPixels,
  parseCocoAnnotations,
  sceneBoxes,
} from '../../src/index.js';
import { loadCocoFolder } from '../../src/node.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doconv-coco-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A 4×3 image whose pixel (y, x) is 10·y + x (+ 100 in G, + 200 in B when RGB). */
function pixels(channels: 1 | 3, h = 3, w = 4): Uint8Array {
  const out = new Uint8Array(h * w * channels);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < channels; c++)
        out[(y * w + x) * channels + c] = 10 * y + x + (c === 0 ? 0 : 50 * c);
  return out;
}

function writePng(file: string, data: Uint8Array, channels: number, h = 3, w = 4) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encode({ width: w, height: h, data, channels, depth: 8 }));
}

const coco = {
  images: [
    { id: 7, file_name: 'a.png', width: 4, height: 3 },
    { id: 9, file_name: 'b.png', width: 4, height: 3 },
  ],
  categories: [
    { id: 5, name: 'five' },
    { id: 2, name: 'two' },
  ],
  annotations: [
    { image_id: 9, category_id: 5, bbox: [1, 0.5, 2, 1.5] },
    { image_id: 7, category_id: 2, bbox: [0, 0, 4, 3] },
    { image_id: 9, category_id: 2, bbox: [0, 0, 1, 1], iscrowd: 1 },
  ],
};

describe('COCO JSON + PNG masks', () => {
  it('reads boxes ([x, y, w, h] → [x0, y0, x1, y1]), categories sorted by id, crowd skipped', () => {
    const a = parseCocoAnnotations(coco);
    expect(a.classNames).toEqual(['two', 'five']);
    expect(a.boxes.get(7)).toEqual([{ box: [0, 0, 4, 3], classIndex: 0 }]);
    expect(a.boxes.get(9)).toEqual([{ box: [1, 0.5, 3, 2], classIndex: 1 }]);
  });

  it('loads a folder: gray and RGB images decoded by fast-png, masks as class indices', () => {
    writePng(path.join(dir, 'images', 'a.png'), pixels(3), 3);
    writePng(path.join(dir, 'images', 'b.png'), pixels(1), 1);
    writePng(
      path.join(dir, 'masks', 'a.png'),
      Uint8Array.from([0, 1, 2, 255, 0, 0, 0, 0, 1, 1, 1, 1]),
      1,
    );
    writePng(path.join(dir, 'masks', 'b.png'), new Uint8Array(12), 1);
    fs.writeFileSync(path.join(dir, 'train.json'), JSON.stringify(coco));
    const set = loadCocoFolder({
      annotations: path.join(dir, 'train.json'),
      imageDir: path.join(dir, 'images'),
      maskDir: path.join(dir, 'masks'),
    });
    expect([set.count, set.height, set.width, set.channels, set.numClasses]).toEqual([
      2, 3, 4, 1, 3,
    ]);
    // RGB (v, v+50, v+100) → luma ⌊(299v + 587(v+50) + 114(v+100) + 500)/1000⌋
    const luma = (v: number) =>
      Math.floor((299 * v + 587 * (v + 50) + 114 * (v + 100) + 500) / 1000);
    expect(Array.from(set.images.subarray(0, 12))).toEqual(Array.from(pixels(1)).map(luma));
    expect(Array.from(set.images.subarray(12))).toEqual(Array.from(pixels(1)));
    expect(Array.from(set.masks!.subarray(0, 12))).toEqual([0, 1, 2, 255, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(sceneBoxes(set, 1)).toEqual([{ box: [1, 0.5, 3, 2], classIndex: 1 }]);
    const rgb = loadCocoFolder({
      annotations: path.join(dir, 'train.json'),
      imageDir: path.join(dir, 'images'),
      channels: 3,
    });
    expect(Array.from(rgb.images.subarray(0, 36))).toEqual(Array.from(pixels(3)));
    expect(rgb.masks).toBeNull();
  });

  it('errors name the file, the entry and the value', () => {
    expect(() =>
      parseCocoAnnotations(
        { ...coco, annotations: [{ image_id: 1, category_id: 5, bbox: [0, 0, 1, 1] }] },
        'x.json',
      ),
    ).toThrow(/x.json: annotations\[0\].image_id 1 is not in "images"/);
    expect(() =>
      parseCocoAnnotations({
        ...coco,
        annotations: [{ image_id: 7, category_id: 3, bbox: [0, 0, 1, 1] }],
      }),
    ).toThrow(/category_id 3 is not in "categories"/);
    expect(() =>
      parseCocoAnnotations({
        ...coco,
        annotations: [{ image_id: 7, category_id: 5, bbox: [0, 0, 1] }],
      }),
    ).toThrow(/bbox must be \[x, y, width, height\] numbers, got \[0,0,1\]/);
    expect(() => parseCocoAnnotations({ images: [] })).toThrow(/"annotations" must be an array/);
    expect(() => decodePngPixels(Uint8Array.from([1, 2, 3]), 1, 'bad.png')).toThrow(
      /bad.png: not a readable PNG/,
    );
    writePng(path.join(dir, 'rgbmask.png'), pixels(3), 3);
    expect(() =>
      decodePngMask(fs.readFileSync(path.join(dir, 'rgbmask.png')), 'rgbmask.png'),
    ).toThrow(/rgbmask.png: a label mask must be a 1-channel PNG .*got 3 channel/);
    writePng(
      path.join(dir, 'bad', 'a.png'),
      Uint8Array.from({ length: 12 }, () => 7),
      1,
    );
    writePng(path.join(dir, 'bad', 'b.png'), new Uint8Array(12), 1);
    expect(() =>
      loadCocoFolder({
        annotations: path.join(dir, 'train.json'),
        imageDir: path.join(dir, 'images'),
        maskDir: path.join(dir, 'bad'),
      }),
    ).toThrow(/mask of a.png: pixel 0 has class 7, not below numClasses = 3/);
    writePng(path.join(dir, 'small', 'a.png'), new Uint8Array(6), 1, 2, 3);
    writePng(path.join(dir, 'small', 'b.png'), new Uint8Array(12), 1);
    expect(() =>
      loadCocoFolder({
        annotations: path.join(dir, 'train.json'),
        imageDir: path.join(dir, 'small'),
      }),
    ).toThrow(/b.png: is 4×3, but a.png is 3×2/);
    expect(() =>
      loadCocoFolder({ annotations: path.join(dir, 'nope.json'), imageDir: dir }),
    ).toThrow(/cannot read annotations file .*nope.json: no such file/);
  });
});
