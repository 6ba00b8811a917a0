/**
 * Seeded image augmentation on byte images, before float conversion. Browser-safe.
 *
 * Working on the Uint8 batch in plain JS keeps augmentation deterministic on every backend and creates
 * no tensors; for a CIFAR batch of 128 it is ~400k byte copies.
 */
import type { ImageShape } from './dataset.js';
import { randomInt, type Rng } from './prng.js';

/** Transforms a batch of NHWC byte images (`shape.count` of them) into a new array of the same shape. */
export type Augmentation = (images: Uint8Array, shape: ImageShape, rng: Rng) => Uint8Array;

/** Options of `randomFlipCrop`. */
export interface FlipCropOptions {
  /** Zero padding on each side before the random crop back to the original size; 0 disables cropping. Default 4. */
  padding?: number;
  /** Mirror left-right with probability 1/2. Default true. */
  flip?: boolean;
}

/**
 * The standard CIFAR augmentation (He et al. 2016): pad each image with `padding` zero pixels on every
 * side, take a random crop of the original size, and mirror it left-right with probability 1/2.
 * Padding is black (byte 0) like torchvision's RandomCrop on unnormalised images, so after mean/std
 * normalisation the border is -mean/std, as in the reference pipelines.
 * Per image the generator is drawn 3 times (flip, dy, dx) whatever the options, so enabling one part
 * does not shift the random stream of the other.
 */
export function randomFlipCrop(
  images: Uint8Array,
  shape: ImageShape,
  rng: Rng,
  opts: FlipCropOptions = {},
): Uint8Array {
  const padding = opts.padding ?? 4;
  const flipEnabled = opts.flip ?? true;
  if (!Number.isInteger(padding) || padding < 0) {
    throw new Error(
      `randomFlipCrop: padding must be a non-negative integer, got ${JSON.stringify(padding)}`,
    );
  }
  const { count, height: h, width: w, channels: c } = shape;
  const per = h * w * c;
  if (images.length !== count * per) {
    throw new Error(
      `randomFlipCrop: images has ${images.length} bytes, expected ${count}×${h}×${w}×${c} = ${count * per}`,
    );
  }
  const out = new Uint8Array(images.length); // zeros: the padding
  for (let n = 0; n < count; n++) {
    const flip = rng() < 0.5 && flipEnabled;
    // Crop offset in the padded image is 0..2p; as a shift of the original that is -p..p.
    const dy = randomInt(rng, 2 * padding + 1) - padding;
    const dx = randomInt(rng, 2 * padding + 1) - padding;
    const base = n * per;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        // out[y][x] = crop[y][flip ? w-1-x : x], crop[y][x'] = in[y+dy][x'+dx]
        const sx = (flip ? w - 1 - x : x) + dx;
        if (sx < 0 || sx >= w) continue;
        const src = base + (sy * w + sx) * c;
        const dst = base + (y * w + x) * c;
        for (let k = 0; k < c; k++) out[dst + k] = images[src + k];
      }
    }
  }
  return out;
}

/** `randomFlipCrop` with fixed options, in the shape `batches` takes. */
export function flipCrop(opts: FlipCropOptions = {}): Augmentation {
  return (images, shape, rng) => randomFlipCrop(images, shape, rng, opts);
}
