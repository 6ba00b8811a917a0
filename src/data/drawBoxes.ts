/**
 * Box outlines drawn onto an RGB image, for `doconv predict --annotate`. Browser-safe.
 *
 * Hand-written (a loop over the four edges): an image library (sharp, jimp, canvas) would bring
 * megabytes, a native build or a DOM to draw a few rectangles. No text: the box colour stands for
 * its class, and the JSON beside the image lists class, score and box.
 */
import type { DecodedImage } from './decodeImage.js';

/** One box to draw: x0, y0, x1, y1 in the image's pixels, and its colour. */
export interface BoxOutline {
  box: readonly [number, number, number, number];
  rgb: readonly [number, number, number];
}

/** Ten colours far apart (matplotlib's tab10); class i takes colour i mod 10. */
export const BOX_COLOURS: readonly (readonly [number, number, number])[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

/**
 * A copy of `img` as RGB with each box's outline drawn `thickness` pixels wide (inside the box),
 * clipped to the image. Boxes are drawn in order, so later ones cover earlier ones.
 */
export function drawBoxes(
  img: DecodedImage,
  boxes: readonly BoxOutline[],
  thickness = 1,
): DecodedImage {
  const { width, height } = img;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++)
      data[p * 3 + c] = img.data[p * img.channels + (img.channels === 1 ? 0 : c)];
  }
  const paint = (x: number, y: number, rgb: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    data.set(rgb, (y * width + x) * 3);
  };
  for (const { box, rgb } of boxes) {
    const [x0, y0, x1, y1] = box.map(Math.round);
    for (let t = 0; t < thickness; t++) {
      for (let x = x0; x <= x1; x++) {
        paint(x, y0 + t, rgb);
        paint(x, y1 - t, rgb);
      }
      for (let y = y0; y <= y1; y++) {
        paint(x0 + t, y, rgb);
        paint(x1 - t, y, rgb);
      }
    }
  }
  return { data, width, height, channels: 3 };
}
