/**
 * Semantic segmentation with DO-Conv in a few minutes: train the zoo's DeepLab-style segmenter
 * briefly on generated MNIST scenes, fold it into plain TF.js layers, and draw one test scene's
 * prediction as a mask overlay (PNG, and an SVG with labels and a legend).
 *
 *   npm run example:segmentation            # writes runs/example-segmentation/prediction.{png,svg}
 */
import { encode } from 'fast-png';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadMnistScenes, predictMask, trainModel, useBestBackend } from '../src/node.js';

const OUT = path.join('runs', 'example-segmentation');
const SCALE = 4; // each 64×64 panel drawn at 256×256

await useBestBackend();
// A short run: about a minute on two free cores (the results use 3000 scenes × 4 epochs).
const { model, folded, summary } = await trainModel({
  model: 'deeplab-mini',
  conv: 'doconv',
  trainLimit: 1536,
  testLimit: 200,
  epochs: 2,
  lr: 0.005,
  seed: 1,
  progress: 'lines',
});
console.log(
  `mIoU ${(summary.test.score * 100).toFixed(1)} % (DO-Conv), ${((summary.foldedTest?.score ?? 0) * 100).toFixed(1)} % (folded); max |Δ logits| ${summary.maxAbsOutputDiff?.toExponential(2)}`,
);

// One test scene through the folded model: plain Conv2D/BN-free layers, what you would deploy.
const scenes = await loadMnistScenes({ split: 'test', count: 8 });
const index = 3;
const { height: H, width: W } = scenes;
const image = scenes.images.subarray(index * H * W, (index + 1) * H * W);
const { mask } = predictMask(folded!, { data: image, height: H, width: W, channels: 1 });
const truth = scenes.masks!.subarray(index * H * W, (index + 1) * H * W);
model.dispose();
folded!.dispose();

// Class k (digit k − 1) → a colour from a 10-colour qualitative palette (Tableau 10).
const PALETTE = [
  [78, 121, 167],
  [242, 142, 43],
  [225, 87, 89],
  [118, 183, 178],
  [89, 161, 79],
  [237, 201, 72],
  [176, 122, 161],
  [255, 157, 167],
  [156, 117, 95],
  [23, 190, 207], // (Tableau's grey would vanish against the ink)
];

/** The gray scene with `labels` blended in (background stays gray). */
function overlay(labels: Uint8Array | null): Uint8Array {
  const rgb = new Uint8Array(H * W * 3);
  for (let p = 0; p < H * W; p++) {
    const g = image[p];
    const c = labels && labels[p] > 0 && labels[p] <= 10 ? PALETTE[labels[p] - 1] : null;
    for (let k = 0; k < 3; k++) rgb[p * 3 + k] = c ? Math.round(0.35 * g + 0.65 * c[k]) : g;
  }
  return rgb;
}

/** Panels side by side, each scaled up by SCALE (nearest neighbour). */
function panels(list: Uint8Array[]): { data: Uint8Array; width: number; height: number } {
  const width = list.length * W * SCALE + (list.length - 1) * 8;
  const height = H * SCALE;
  const data = new Uint8Array(width * height * 3).fill(255);
  list.forEach((rgb, i) => {
    const x0 = i * (W * SCALE + 8);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < W * SCALE; x++) {
        const src = (Math.floor(y / SCALE) * W + Math.floor(x / SCALE)) * 3;
        data.set(rgb.subarray(src, src + 3), (y * width + x0 + x) * 3);
      }
    }
  });
  return { data, width, height };
}

const png = panels([overlay(null), overlay(truth), overlay(mask)]);
fs.mkdirSync(OUT, { recursive: true });
const pngBytes = encode({ ...png, channels: 3, depth: 8 });
fs.writeFileSync(path.join(OUT, 'prediction.png'), pngBytes);

const legend = PALETTE.map(
  (c, d) =>
    `<rect x="${12 + d * 70}" y="${png.height + 52}" width="14" height="14" fill="rgb(${c.join(',')})"/>` +
    `<text x="${30 + d * 70}" y="${png.height + 64}">digit ${d}</text>`,
).join('');
const titles = ['scene', 'ground truth', 'prediction (folded model)']
  .map(
    (t, i) =>
      `<text x="${i * (W * SCALE + 8) + (W * SCALE) / 2}" y="22" text-anchor="middle">${t}</text>`,
  )
  .join('');
const svg =
  `<svg xmlns="http://www.w3.org/2000/svg" width="${png.width}" height="${png.height + 80}" font-family="sans-serif" font-size="13">` +
  `<rect width="100%" height="100%" fill="white"/>${titles}` +
  `<image x="0" y="32" width="${png.width}" height="${png.height}" href="data:image/png;base64,${Buffer.from(pngBytes).toString('base64')}"/>` +
  `${legend}</svg>\n`;
fs.writeFileSync(path.join(OUT, 'prediction.svg'), svg);
const classes = (m: Uint8Array) => [...new Set(m)].filter((c) => c > 0).map((c) => c - 1);
console.log(
  `scene ${index}: digits ${JSON.stringify(classes(truth))}, predicted ${JSON.stringify(classes(mask))}; wrote ${path.join(OUT, 'prediction.png')} and .svg`,
);
