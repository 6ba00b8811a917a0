/**
 * Fitting a decoded image to a model's input: channel conversion and bilinear resizing. Browser-safe.
 *
 * Resizing is bilinear with half-pixel centres, no antialiasing — what `tf.image.resizeBilinear(x,
 * size, false, true)` computes, and what Keras' `image_dataset_from_directory` uses by default
 * (tf.image.resize, 'bilinear') — then rounded to the nearest byte. An image already at the size is
 * copied unchanged. Written as a loop over bytes rather than through tf ops so that a folder of
 * thousands of images creates no tensors and decodes the same on every backend.
 *
 * Channels: gray → RGB repeats the value (PIL's convert('RGB')); RGB → gray is ITU-R 601-2 luma,
 * L = R·299/1000 + G·587/1000 + B·114/1000 (PIL's convert('L')), rounded.
 */
import type { DecodedImage } from './decodeImage.js';

/** `img` with `channels` channels (a copy only when they differ). */
export function convertChannels(img: DecodedImage, channels: 1 | 3): DecodedImage {
  if (img.channels === channels) return img;
  const pixels = img.width * img.height;
  const data = new Uint8Array(pixels * channels);
  if (channels === 3) {
    for (let p = 0; p < pixels; p++) data.fill(img.data[p], p * 3, p * 3 + 3);
  } else {
    for (let p = 0; p < pixels; p++) {
      const [r, g, b] = [img.data[p * 3], img.data[p * 3 + 1], img.data[p * 3 + 2]];
      data[p] = Math.round((r * 299 + g * 587 + b * 114) / 1000);
    }
  }
  return { ...img, data, channels };
}

/**
 * `img` resized to height × width (bilinear, half-pixel centres), written into `out` at `offset`
 * (a new array without `out`). Output pixel (y, x) samples the source at
 * ((y + ½)·H/height − ½, (x + ½)·W/width − ½), clamped to the image.
 */
export function resizeBilinear(
  img: DecodedImage,
  height: number,
  width: number,
  out: Uint8Array = new Uint8Array(height * width * img.channels),
  offset = 0,
): Uint8Array {
  const { data, channels: c } = img;
  if (img.height === height && img.width === width) {
    out.set(data.subarray(0, height * width * c), offset);
    return out;
  }
  const ys = samplePoints(img.height, height);
  const xs = samplePoints(img.width, width);
  for (let y = 0; y < height; y++) {
    const { lo: y0, hi: y1, t: ty } = ys[y];
    for (let x = 0; x < width; x++) {
      const { lo: x0, hi: x1, t: tx } = xs[x];
      for (let k = 0; k < c; k++) {
        const top = data[(y0 * img.width + x0) * c + k];
        const topRight = data[(y0 * img.width + x1) * c + k];
        const bottom = data[(y1 * img.width + x0) * c + k];
        const bottomRight = data[(y1 * img.width + x1) * c + k];
        const upper = top + (topRight - top) * tx;
        const lower = bottom + (bottomRight - bottom) * tx;
        out[offset + (y * width + x) * c + k] = Math.round(upper + (lower - upper) * ty);
      }
    }
  }
  return out;
}

/** For each output index: the two source indices it lies between and the weight of the second. */
function samplePoints(from: number, to: number): { lo: number; hi: number; t: number }[] {
  const scale = from / to;
  return Array.from({ length: to }, (_, i) => {
    const at = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), from - 1);
    const lo = Math.floor(at);
    return { lo, hi: Math.min(lo + 1, from - 1), t: at - lo };
  });
}
