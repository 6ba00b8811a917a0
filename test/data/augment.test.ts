import { describe, expect, it } from 'vitest';
import { createRng, randomFlipCrop, type Rng } from '../../src/data/index.js';
import { syntheticDataset } from './synthetic.js';

/** An Rng replaying fixed values, to pin flip/dy/dx. */
function fixed(values: number[]): Rng {
  let i = 0;
  return () => values[i++ % values.length];
}

const ds = syntheticDataset(3, 5, 6, 2);
const shape = { count: 3, height: 5, width: 6, channels: 2 };
const px = (a: Uint8Array, n: number, y: number, x: number, c: number) =>
  a[((n * 5 + y) * 6 + x) * 2 + c];

describe('randomFlipCrop', () => {
  it('keeps the shape and is deterministic per seed', () => {
    const a = randomFlipCrop(ds.images, shape, createRng(11));
    expect(a.length).toBe(ds.images.length);
    expect(Array.from(randomFlipCrop(ds.images, shape, createRng(11)))).toEqual(Array.from(a));
    expect(Array.from(randomFlipCrop(ds.images, shape, createRng(12)))).not.toEqual(Array.from(a));
  });

  it('is the identity with no flip and zero shift', () => {
    // rng 0.9 → no flip; with padding 4, floor(0.5·9) − 4 = 0 shift.
    const out = randomFlipCrop(ds.images, shape, fixed([0.9, 0.5, 0.5]));
    expect(Array.from(out)).toEqual(Array.from(ds.images));
  });

  it('mirrors left-right when the flip is drawn', () => {
    const out = randomFlipCrop(ds.images, shape, fixed([0.1, 0.5, 0.5]));
    for (let n = 0; n < 3; n++)
      for (let y = 0; y < 5; y++)
        for (let x = 0; x < 6; x++)
          for (let c = 0; c < 2; c++)
            expect(px(out, n, y, x, c)).toBe(px(ds.images, n, y, 5 - x, c));
  });

  it('shifts by the crop offset and fills the uncovered border with zeros', () => {
    // dy = floor(0.0·9) − 4 = −4, dx = floor(0.99·9) − 4 = +4: out[y][x] = in[y−4][x+4].
    const out = randomFlipCrop(ds.images, shape, fixed([0.9, 0.0, 0.99]));
    for (let y = 0; y < 5; y++)
      for (let x = 0; x < 6; x++) {
        const sy = y - 4;
        const sx = x + 4;
        const inside = sy >= 0 && sy < 5 && sx < 6;
        expect(px(out, 0, y, x, 1)).toBe(inside ? px(ds.images, 0, sy, sx, 1) : 0);
      }
  });

  it('can switch the flip off without changing the crops drawn', () => {
    const withFlip = randomFlipCrop(ds.images, shape, fixed([0.1, 0.3, 0.7]), { flip: false });
    const noFlip = randomFlipCrop(ds.images, shape, fixed([0.9, 0.3, 0.7]));
    expect(Array.from(withFlip)).toEqual(Array.from(noFlip));
  });

  it('rejects a bad padding and a shape mismatch', () => {
    expect(() => randomFlipCrop(ds.images, shape, createRng(1), { padding: -1 })).toThrow(
      'randomFlipCrop: padding must be a non-negative integer, got -1',
    );
    expect(() => randomFlipCrop(ds.images, { ...shape, count: 4 }, createRng(1))).toThrow(
      `randomFlipCrop: images has 180 bytes, expected 4×5×6×2 = 240`,
    );
  });
});
