/**
 * Labelled scenes for dense tasks (semantic segmentation, object detection), and a seeded,
 * deterministic generator of them from a digit dataset (MNIST → `mnist-scenes`). Browser-safe.
 *
 * A scene is a size×size grayscale canvas holding 1..maxDigits digits at random positions and
 * scales; per pixel a class (0 = background, 1 + d for digit d) and per digit a tight box and its
 * class. COCO, Cityscapes and VOC cannot be downloaded where doconv is developed, so this is the
 * benchmark: what a segmenter or detector has to do (classes, several objects, scale, overlap) at a
 * size a 2-core machine trains in minutes.
 *
 * Same seed and digit source → the same bytes on every machine: the generator uses integer
 * arithmetic only (mulberry32 draws, ⌊u·n/2³²⌋ ranges, nearest-neighbour scaling by integer
 * division, max compositing); a test pins the SHA-256 of a generated set.
 */
import type { Dataset } from './dataset.js';
import { createUint32Rng, uint32Below } from './prng.js';
import { formatValue } from '../util/formatValue.js';

/** Boxes of a scene set: per scene a run of boxes, [x0, y0, x1, y1) in pixels (x1, y1 exclusive). */
export interface SceneBoxes {
  /** count + 1 entries: scene i's boxes are offsets[i] .. offsets[i + 1] − 1. */
  offsets: Uint32Array;
  /** 4 numbers per box: x0, y0, x1, y1 (pixels, half-open). */
  coords: Float32Array;
  /** One class per box, 0 .. numClasses − 2 (mask value − 1). */
  classes: Uint8Array;
}

/**
 * Images with a class per pixel and/or boxes: the input of the segmentation and detection
 * trainers. Pixels are bytes, NHWC, like `Dataset`.
 */
export interface SceneSet {
  /** What it is, e.g. 'mnist-scenes/train'; used in error messages. */
  name: string;
  /** count × height × width × channels bytes. */
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Pixel classes including background (class 0): 11 for digit scenes. Boxes use 0 .. numClasses − 2. */
  numClasses: number;
  /** count × height × width class indices (0 = background), or null when the set has no masks. */
  masks: Uint8Array | null;
  /** Boxes, or null when the set has none. */
  boxes: SceneBoxes | null;
  /** Names of the object classes (without background), index = box class, when known. */
  classNames?: readonly string[];
}

/** Options of {@link generateScenes}. */
export interface SceneOptions {
  /** How many scenes. */
  count: number;
  /** Canvas side in pixels. Default 64. */
  size?: number;
  /** Digits per scene, drawn uniformly from minDigits..maxDigits. Default 1..4. */
  minDigits?: number;
  maxDigits?: number;
  /** Digit side after scaling (28 px source), drawn uniformly from minScale..maxScale. Default 16..36. */
  minScale?: number;
  maxScale?: number;
  /**
   * Overlap bound, in percent: two digits' ink boxes may share at most this much of the smaller
   * box's area. A placement breaking it is redrawn (up to 30 tries; then the scene has fewer digits).
   * Default 20.
   */
  maxOverlapPercent?: number;
  /** A pixel belongs to a digit (mask and box) when the scaled digit's byte is ≥ this. Default 128. */
  inkThreshold?: number;
  /** Seeds the whole set. */
  seed: number;
  /** Name of the result (default `${source.name}-scenes`). */
  name?: string;
}

const PLACEMENT_TRIES = 30;

/** A scene's side in pixels when `size` is not given. */
export const DEFAULT_SCENE_SIZE = 64;

/** Mask value that marks a pixel the loss and metrics skip (VOC's "void"). */
export const IGNORE_LABEL = 255;

function checkInt(what: string, v: number, lo: number, hi = Infinity): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new Error(
      `generateScenes: ${what} must be an integer in ${lo}..${hi === Infinity ? '∞' : hi}, got ${formatValue(v)}`,
    );
  }
}

/**
 * Scenes from the digits of `source` (e.g. MNIST train for the train scenes, MNIST test for the test
 * scenes: no digit image crosses the split). `source` must be single-channel; its labels are the
 * digit classes.
 */
export function generateScenes(source: Dataset, opts: SceneOptions): SceneSet {
  const size = opts.size ?? DEFAULT_SCENE_SIZE;
  const minDigits = opts.minDigits ?? 1;
  const maxDigits = opts.maxDigits ?? 4;
  const minScale = opts.minScale ?? 16;
  const maxScale = opts.maxScale ?? 36;
  const overlap = opts.maxOverlapPercent ?? 20;
  const threshold = opts.inkThreshold ?? 128;
  checkInt('count', opts.count, 0);
  checkInt('size', size, 8, 4096);
  checkInt('minDigits', minDigits, 1);
  checkInt('maxDigits', maxDigits, minDigits);
  checkInt('minScale', minScale, 4);
  checkInt('maxScale', maxScale, minScale, size);
  checkInt('maxOverlapPercent', overlap, 0, 100);
  checkInt('inkThreshold', threshold, 1, 255);
  checkInt('seed', opts.seed, -(2 ** 31), 2 ** 32 - 1);
  if (source.channels !== 1) {
    throw new Error(
      `generateScenes: source ${formatValue(source.name)} must have 1 channel, got ${source.channels}`,
    );
  }
  if (source.count < 1)
    throw new Error(`generateScenes: source ${formatValue(source.name)} is empty`);
  if (source.numClasses > 254) {
    throw new Error(
      `generateScenes: source ${formatValue(source.name)} has ${source.numClasses} classes; at most 254 fit a byte mask`,
    );
  }
  const rng = createUint32Rng(opts.seed);
  const below = (n: number) => uint32Below(rng(), n);
  const area = size * size;
  const images = new Uint8Array(opts.count * area);
  const masks = new Uint8Array(opts.count * area);
  const offsets = new Uint32Array(opts.count + 1);
  const coords: number[] = [];
  const classes: number[] = [];
  const sh = source.height;
  const sw = source.width;
  const scaled = new Uint8Array(maxScale * maxScale);

  for (let s = 0; s < opts.count; s++) {
    const image = images.subarray(s * area, (s + 1) * area);
    const mask = masks.subarray(s * area, (s + 1) * area);
    const placed: number[][] = [];
    const digits = minDigits + below(maxDigits - minDigits + 1);
    for (let d = 0; d < digits; d++) {
      const index = below(source.count);
      const label = source.labels[index];
      const side = minScale + below(maxScale - minScale + 1);
      // Nearest-neighbour scaling by integer division: source row ⌊y·sh/side⌋.
      const pixels = source.images.subarray(index * sh * sw, (index + 1) * sh * sw);
      let [ix0, iy0, ix1, iy1] = [side, side, 0, 0];
      for (let y = 0; y < side; y++) {
        const row = Math.floor((y * sh) / side) * sw;
        for (let x = 0; x < side; x++) {
          const v = pixels[row + Math.floor((x * sw) / side)];
          scaled[y * side + x] = v;
          if (v >= threshold) {
            if (x < ix0) ix0 = x;
            if (y < iy0) iy0 = y;
            if (x + 1 > ix1) ix1 = x + 1;
            if (y + 1 > iy1) iy1 = y + 1;
          }
        }
      }
      // Every try draws both coordinates, so the stream does not depend on where a try fails.
      let box: number[] | null = null;
      let ox = 0;
      let oy = 0;
      for (let t = 0; t < PLACEMENT_TRIES && ix1 > ix0; t++) {
        ox = below(size - side + 1);
        oy = below(size - side + 1);
        const candidate = [ox + ix0, oy + iy0, ox + ix1, oy + iy1];
        if (placed.every((b) => overlapWithin(b, candidate, overlap))) {
          box = candidate;
          break;
        }
      }
      if (box === null) continue; // no ink (a blank digit) or no room: the scene keeps fewer digits
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const v = scaled[y * side + x];
          const at = (oy + y) * size + ox + x;
          // Max compositing; the label follows the brightest ink (a later digit wins ties).
          if (v >= threshold && v >= image[at]) mask[at] = label + 1;
          if (v > image[at]) image[at] = v;
        }
      }
      placed.push(box);
      coords.push(...box);
      classes.push(label);
    }
    offsets[s + 1] = classes.length;
  }
  return {
    name: opts.name ?? `${source.name}-scenes`,
    images,
    count: opts.count,
    height: size,
    width: size,
    channels: 1,
    numClasses: source.numClasses + 1,
    masks,
    boxes: { offsets, coords: Float32Array.from(coords), classes: Uint8Array.from(classes) },
    classNames: source.classNames ?? Array.from({ length: source.numClasses }, (_, i) => `${i}`),
  };
}

/** Whether boxes a and b share at most `percent` % of the smaller one's area (integers only). */
function overlapWithin(a: number[], b: number[], percent: number): boolean {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return true;
  const smaller = Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
  return w * h * 100 <= percent * smaller;
}

/** Throws unless `set` is internally consistent (array lengths, class ranges, boxes inside the image). */
export function checkSceneSet(set: SceneSet): void {
  const where = `scene set ${formatValue(set.name)}`;
  const area = set.height * set.width;
  if (set.images.length !== set.count * area * set.channels) {
    throw new Error(
      `${where}: images has ${set.images.length} bytes, expected ${set.count}×${set.height}×${set.width}×${set.channels}`,
    );
  }
  if (set.masks) {
    if (set.masks.length !== set.count * area) {
      throw new Error(
        `${where}: masks has ${set.masks.length} bytes, expected ${set.count}×${set.height}×${set.width}`,
      );
    }
    const bad = set.masks.findIndex((m) => m >= set.numClasses && m !== IGNORE_LABEL);
    if (bad >= 0) {
      throw new Error(
        `${where}: mask value ${set.masks[bad]} at byte ${bad} is not below numClasses = ${set.numClasses} nor ${IGNORE_LABEL} (ignore)`,
      );
    }
  }
  if (set.boxes) {
    const { offsets, coords, classes } = set.boxes;
    if (offsets.length !== set.count + 1 || offsets[set.count] !== classes.length) {
      throw new Error(
        `${where}: boxes.offsets must have count + 1 = ${set.count + 1} entries ending at ${classes.length}, got ${offsets.length} ending at ${offsets[offsets.length - 1]}`,
      );
    }
    if (coords.length !== classes.length * 4) {
      throw new Error(
        `${where}: boxes.coords has ${coords.length} numbers, expected 4 × ${classes.length}`,
      );
    }
    const badClass = classes.findIndex((c) => c >= set.numClasses - 1);
    if (badClass >= 0) {
      throw new Error(
        `${where}: box ${badClass} has class ${classes[badClass]}, not below numClasses − 1 = ${set.numClasses - 1}`,
      );
    }
  }
}

/** Scenes [start, end) as a new SceneSet (copies). */
export function sliceScenes(set: SceneSet, start: number, end = set.count): SceneSet {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end < start ||
    end > set.count
  ) {
    throw new Error(
      `sliceScenes(${formatValue(set.name)}): need 0 ≤ start ≤ end ≤ ${set.count}, got start=${start}, end=${end}`,
    );
  }
  const area = set.height * set.width;
  let boxes: SceneBoxes | null = null;
  if (set.boxes) {
    const { offsets, coords, classes } = set.boxes;
    const [b0, b1] = [offsets[start], offsets[end]];
    boxes = {
      offsets: offsets.slice(start, end + 1).map((o) => o - b0),
      coords: coords.slice(b0 * 4, b1 * 4),
      classes: classes.slice(b0, b1),
    };
  }
  return {
    ...set,
    name: start === 0 && end === set.count ? set.name : `${set.name}[${start}:${end}]`,
    images: set.images.slice(start * area * set.channels, end * area * set.channels),
    count: end - start,
    masks: set.masks ? set.masks.slice(start * area, end * area) : null,
    boxes,
  };
}

/** The boxes of scene `index` as [{box: [x0, y0, x1, y1], classIndex}]. */
export function sceneBoxes(
  set: SceneSet,
  index: number,
): { box: [number, number, number, number]; classIndex: number }[] {
  if (!set.boxes) return [];
  const { offsets, coords, classes } = set.boxes;
  const out = [];
  for (let b = offsets[index]; b < offsets[index + 1]; b++) {
    out.push({
      box: [coords[b * 4], coords[b * 4 + 1], coords[b * 4 + 2], coords[b * 4 + 3]] as [
        number,
        number,
        number,
        number,
      ],
      classIndex: classes[b],
    });
  }
  return out;
}
