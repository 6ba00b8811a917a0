import type { Dataset } from '../../src/index.js';

/** A tiny dataset whose pixel (n, y, x, c) = (n·50 + y·10 + x·3 + c) mod 256 and label n mod classes. */
export function syntheticDataset(count: number, h = 3, w = 4, c = 2, numClasses = 5): Dataset {
  const images = new Uint8Array(count * h * w * c);
  for (let n = 0; n < count; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++)
          images[((n * h + y) * w + x) * c + k] = (n * 50 + y * 10 + x * 3 + k) % 256;
  const labels = Uint8Array.from({ length: count }, (_, n) => n % numClasses);
  return { name: 'synthetic', images, labels, count, height: h, width: w, channels: c, numClasses };
}
