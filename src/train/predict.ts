/**
 * Predictions on image files: the library call behind `doconv predict`. Node-only.
 *
 *   classification  the top-k classes with their probabilities (softmax of logits)
 *   segmentation    a class index per pixel at the model's input size, optionally written as an
 *                   8-bit PNG whose gray value is the class index (a "label PNG")
 *   detection       boxes in the original image's pixels, optionally drawn on it (PNG)
 *
 * Images are read as the image-folder loader reads them (decodeImage, then the model's channel
 * count and input size, bilinear); a file that cannot be read is skipped, named and counted.
 */
import * as tf from '@tensorflow/tfjs';
import { encode as encodePng } from 'fast-png';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type DecodedImage, readImage } from '../data/decodeImage.js';
import { BOX_COLOURS, drawBoxes } from '../data/drawBoxes.js';
import { IMAGE_EXTENSIONS } from '../data/imageFolderLayout.js';
import type { SkippedImage } from '../data/imageFolder.js';
import { detectObjects, predictMask } from '../models/taskInference.js';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import {
  fitToInput,
  inputTensor,
  loadPredictor,
  type LoadPredictorOptions,
  type Predictor,
  type PredictTask,
} from './predictor.js';
import { checkNumber, POSITIVE_INT } from './numberRules.js';

/** One class and its probability. */
export interface ClassScore {
  classIndex: number;
  /** From the model's metadata; null when it records none. */
  className: string | null;
  probability: number;
}

/** One detected object, its box in the original image's pixels. */
export interface DetectedObject {
  classIndex: number;
  className: string | null;
  score: number;
  /** x0, y0, x1, y1. */
  box: [number, number, number, number];
}

/** What one image gave. */
export interface ImagePrediction {
  file: string;
  /** The image as read: [height, width, channels]. */
  imageShape: [number, number, number];
  /** Classification: the best `topK`, best first. */
  top?: ClassScore[];
  /** Segmentation: the class of each pixel, row-major at the model's input size. */
  mask?: { height: number; width: number; data: Uint8Array; counts: Record<string, number> };
  /** Segmentation with `maskDir`: where the label PNG went. */
  maskFile?: string;
  /** Detection: objects scoring at least minScore, best first. */
  objects?: DetectedObject[];
  /** Detection with `annotateDir`: where the image with its boxes went. */
  annotatedFile?: string;
}

/** Options of `predictImage` and `predictFiles`. */
export interface PredictOptions {
  /** Classification: how many classes to report. Default 5 (at most the class count). */
  topK?: number;
  /** Detection: keep objects scoring at least this. Default 0.3. */
  minScore?: number;
  /** Detection: the most objects per image. Default 20. */
  maxObjects?: number;
}

/** What `predictFiles` reports. */
export interface PredictReport {
  model: string;
  task: PredictTask;
  inputShape: [number, number, number];
  classNames: string[] | null;
  /** How the model ran: 'native plan', or 'model.predict (why not the plan)' (Predictor.inference). */
  inference: string;
  predictions: ImagePrediction[];
  /** Files that could not be read, with the reason. */
  skipped: SkippedImage[];
}

/** Predicts on one decoded image (any size and channel count). */
export function predictImage(
  p: Predictor,
  img: DecodedImage,
  file: string,
  opts: PredictOptions = {},
): ImagePrediction {
  const input = fitToInput(p, img);
  const base: ImagePrediction = { file, imageShape: [img.height, img.width, img.channels] };
  const name = (i: number) => p.classNames?.[i] ?? null;
  if (p.task === 'classification') return { ...base, top: topClasses(p, input, opts, name) };
  if (p.task === 'segmentation') {
    const { mask, height, width } = predictMask(p.model, input);
    const counts: Record<string, number> = {};
    for (const v of mask) counts[name(v) ?? String(v)] = (counts[name(v) ?? String(v)] ?? 0) + 1;
    return { ...base, mask: { height, width, data: mask, counts } };
  }
  const found = detectObjects(p.model, input, {
    minScore: opts.minScore ?? 0.3,
    topK: opts.maxObjects ?? 20,
  });
  // Boxes come in input pixels; the image was resized by (width/inputW, height/inputH).
  const sx = img.width / p.inputShape[1];
  const sy = img.height / p.inputShape[0];
  return {
    ...base,
    objects: found.map((d) => ({
      classIndex: d.classIndex,
      className: name(d.classIndex),
      score: d.score,
      box: [d.box[0] * sx, d.box[1] * sy, d.box[2] * sx, d.box[3] * sy],
    })),
  };
}

function topClasses(
  p: Predictor,
  input: DecodedImage,
  opts: PredictOptions,
  name: (i: number) => string | null,
): ClassScore[] {
  const { values, indices } = tf.tidy(() => {
    const out = p.predict(inputTensor(p, input)) as tf.Tensor2D;
    const probs = p.outputKind === 'logits' ? tf.softmax(out) : out;
    const k = Math.min(opts.topK ?? 5, probs.shape[1]);
    const top = tf.topk(probs, k);
    return { values: top.values.dataSync(), indices: top.indices.dataSync() };
  });
  return Array.from(indices, (classIndex, i) => ({
    classIndex,
    className: name(classIndex),
    probability: values[i],
  }));
}

/** Options of `predictFiles`. */
export interface PredictFilesOptions extends PredictOptions, LoadPredictorOptions {
  /** Segmentation: write each mask as DIR/<image name>.png (gray value = class index). */
  maskDir?: string;
  /** Detection: write each image with its boxes drawn as DIR/<image name>.png. */
  annotateDir?: string;
}

/**
 * Predicts on `inputs` (image files, and folders whose .png/.jpg/.jpeg files are read, sorted,
 * through subfolders) with the model at `source` (see loadPredictor).
 */
export async function predictFiles(
  source: string,
  inputs: readonly string[],
  opts: PredictFilesOptions = {},
): Promise<PredictReport> {
  if (opts.topK !== undefined) checkNumber('topK', opts.topK, POSITIVE_INT);
  if (opts.maxObjects !== undefined) checkNumber('maxObjects', opts.maxObjects, POSITIVE_INT);
  if (opts.minScore !== undefined) checkNumber('minScore', opts.minScore, { min: 0, max: 1 });
  const files = await imageFiles(inputs);
  const p = await loadPredictor(source, opts);
  try {
    const predictions: ImagePrediction[] = [];
    const skipped: SkippedImage[] = [];
    for (const file of files) {
      let img: DecodedImage;
      try {
        img = await readImage(file);
      } catch (e) {
        skipped.push({ file, reason: (e as Error).message });
        continue;
      }
      const r = predictImage(p, img, file, opts);
      if (r.mask && opts.maskDir !== undefined) {
        r.maskFile = await writePng(opts.maskDir, file, {
          data: r.mask.data,
          height: r.mask.height,
          width: r.mask.width,
          channels: 1,
        });
      }
      if (r.objects && opts.annotateDir !== undefined) {
        const outlines = r.objects.map((o) => ({
          box: o.box,
          rgb: BOX_COLOURS[o.classIndex % BOX_COLOURS.length],
        }));
        const thickness = Math.max(1, Math.round(Math.min(img.width, img.height) / 100));
        r.annotatedFile = await writePng(
          opts.annotateDir,
          file,
          drawBoxes(img, outlines, thickness),
        );
      }
      predictions.push(r);
    }
    return {
      model: p.file,
      task: p.task,
      inputShape: p.inputShape,
      classNames: p.classNames,
      inference: p.inference,
      predictions,
      skipped,
    };
  } finally {
    p.dispose();
  }
}

/** The files `inputs` name: files as given, folders' image files sorted (subfolders included). */
async function imageFiles(inputs: readonly string[]): Promise<string[]> {
  if (inputs.length === 0) throw new Error('predict: give at least one image file or folder');
  const out: string[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => null);
    if (stat === null) throw new Error(`image ${JSON.stringify(input)}: no such file or folder`);
    if (!stat.isDirectory()) {
      out.push(input);
      continue;
    }
    const found = (await filesUnder(input))
      .filter((f) => IMAGE_EXTENSIONS.some((x) => f.toLowerCase().endsWith(x)))
      .sort();
    if (found.length === 0) {
      throw new Error(`image folder ${JSON.stringify(input)} holds no .png/.jpg/.jpeg files`);
    }
    out.push(...found);
  }
  return out;
}

/**
 * Every file under `dir`, through subfolders (hidden entries skipped). Not fs.readdir's
 * `recursive`: with `withFileTypes` Node 20 lists the wrong folders.
 */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(full)));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

/** Writes `img` as DIR/<base name of file>.png; returns the path. */
async function writePng(dir: string, file: string, img: DecodedImage): Promise<string> {
  const name = `${path.basename(file, path.extname(file))}.png`;
  const png = encodePng({
    width: img.width,
    height: img.height,
    data: img.data,
    channels: img.channels,
    depth: 8,
  });
  await replaceFilesAtomically(dir, [{ name, data: png }]);
  return path.join(dir, name);
}
