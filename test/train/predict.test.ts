/**
 * predictFiles on saved zoo models: a classifier's probabilities against the training data path
 * (loadImageFolder at the model's size → makeBatch with the recorded normalisation → softmax), a
 * detector's boxes against detectObjects on the resized image (scaled back to the image's pixels)
 * with the annotated PNG checked pixel by pixel, a segmenter's label PNG against predictMask, and
 * bad inputs named and counted.
 */
import * as tf from '@tensorflow/tfjs';
import { decode as decodePng } from 'fast-png';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { makeBatch } from '../../src/data/batches.js';
import { readImage } from '../../src/data/decodeImage.js';
import { loadImageFolder } from '../../src/data/imageFolder.js';
import { resizeBilinear } from '../../src/data/resizeImage.js';
import { fileSystem } from '../../src/io/fileSystemIO.js';
import { foldModel } from '../../src/fold/foldModel.js';
import { buildModel } from '../../src/models/index.js';
import { detectObjects, predictMask } from '../../src/models/taskInference.js';
import { predictFiles } from '../../src/train/predict.js';
import { mnistDigits, tintedRgb, writeDigitFolder, writePng } from '../data/imageFiles.js';
import { wasmWithTempRoot } from './helpers.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { addon, skipReason } from '../engine/nativeSetup.js';

const root = wasmWithTempRoot('predict');

/** Saves a fresh zoo model with `meta` as its doconv metadata into root()/name. */
async function savedZooModel(
  name: string,
  zoo: string,
  inputShape: [number, number, number],
  numClasses: number,
  meta: object,
): Promise<string> {
  const model = buildModel(zoo, { conv: 'doconv', inputShape, numClasses, seed: 3 });
  model.setUserDefinedMetadata({ doconv: meta });
  const dir = path.join(root(), name);
  await model.save(fileSystem(dir));
  model.dispose();
  return dir;
}

describe('predictFiles', () => {
  let images: string;
  beforeAll(async () => {
    images = path.join(root(), 'digits');
    await writeDigitFolder(images, 12, { classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
  });

  it('classification: the top-k probabilities equal the training path on the same files', async () => {
    const normalization = { mean: [0.2, 0.3, 0.4], std: [0.5, 0.25, 0.3] };
    const classNames = ['a', 'b', 'c', 'd', 'e'];
    const dir = await savedZooModel('classifier', 'pt-mnist-sample', [20, 24, 3], 5, {
      classNames,
      normalization,
      outputKind: 'logits',
    });
    const before = tf.memory().numTensors;
    const report = await predictFiles(dir, [images], { topK: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(report).toMatchObject({ task: 'classification', inputShape: [20, 24, 3], classNames });
    // The reference: the files as training reads them (gray → RGB, resized), batched and normalised.
    const set = await loadImageFolder(images, {
      size: [20, 24],
      channels: 3,
      valFraction: 0,
      onWarning: () => {},
    });
    const model = await tf.loadLayersModel(fileSystem(path.join(dir, 'model.json')));
    const expected = tf.tidy(() => {
      const { xs, ys } = makeBatch(set, Array.from(set.files.keys()), { normalize: normalization });
      ys.dispose();
      return tf.softmax(model.predict(xs) as tf.Tensor2D).arraySync() as number[][];
    });
    model.dispose();
    expect(report.predictions.length).toBe(set.count);
    for (const p of report.predictions) {
      const row = expected[set.files.indexOf(p.file)];
      const order = [...row.keys()].sort((i, j) => row[j] - row[i]);
      expect(p.top!.map((c) => c.classIndex)).toEqual(order);
      expect(p.top!.map((c) => c.className)).toEqual(order.map((i) => classNames[i]));
      p.top!.forEach((c) => expect(c.probability).toBeCloseTo(row[c.classIndex], 5));
    }
  });

  it.skipIf(addon == null || !('createInferencePlan' in addon))(
    `classification: the native plan (a folded model) gives model.predict's probabilities${skipReason}`,
    async () => {
      const model = buildModel('resnet-20', {
        conv: 'doconv',
        inputShape: [16, 16, 3],
        numClasses: 4,
        seed: 5,
      });
      randomizeModel(model, 5, { weights: 0.05, d: 0.1 });
      const folded = foldModel(model, { fuseBatchNorm: true });
      folded.setUserDefinedMetadata({
        doconv: { outputKind: 'logits', classNames: ['a', 'b', 'c', 'd'] },
      });
      const dir = path.join(root(), 'folded-classifier');
      await folded.save(fileSystem(dir));
      model.dispose();
      folded.dispose();
      const before = tf.memory().numTensors;
      const planned = await predictFiles(dir, [images], { topK: 4 });
      const plain = await predictFiles(dir, [images], { topK: 4, nativePlan: false });
      expect(tf.memory().numTensors).toBe(before);
      expect(planned.inference).toBe('native plan');
      expect(plain.inference).toBe('model.predict (the native plan is off)');
      expect(planned.predictions.length).toBe(plain.predictions.length);
      planned.predictions.forEach((p, i) => {
        const want = plain.predictions[i].top!;
        expect(p.top!.map((c) => c.classIndex)).toEqual(want.map((c) => c.classIndex));
        p.top!.forEach((c, j) => expect(c.probability).toBeCloseTo(want[j].probability, 5));
      });
      // An unfolded DO-Conv model is refused by the plan, by name, and runs model.predict.
      const unfolded = await savedZooModel('unfolded', 'tf-mnist-sample', [28, 28, 1], 10, {});
      const report = await predictFiles(unfolded, [images], { topK: 1 });
      expect(report.inference).toMatch(/^model\.predict \(.*DOConv2D 'conv1'.*foldModel/);
    },
  );

  it('detection: boxes in the image pixels, drawn into an annotated PNG', async () => {
    const dir = await savedZooModel('detector', 'centernet-mini', [64, 64, 1], 10, {
      task: 'detection',
      classNames: Array.from({ length: 10 }, (_, i) => `digit ${i}`),
    });
    // A 96×128 scene: two digits on black.
    const [a, b] = await mnistDigits(2);
    const scene = new Uint8Array(96 * 128);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        scene[(10 + y) * 128 + 12 + x] = a.image.data[y * 28 + x];
        scene[(50 + y) * 128 + 80 + x] = b.image.data[y * 28 + x];
      }
    const file = path.join(root(), 'scene.png');
    await writePng(file, { data: scene, height: 96, width: 128, channels: 1 });
    const annotate = path.join(root(), 'annotated');
    const report = await predictFiles(dir, [file], {
      minScore: 0,
      maxObjects: 3,
      annotateDir: annotate,
    });
    const [p] = report.predictions;
    expect(p.objects!.length).toBe(3);
    // The reference: detectObjects on the image resized to 64×64, boxes scaled by 128/64 and 96/64.
    const model = await tf.loadLayersModel(fileSystem(path.join(dir, 'model.json')));
    const small = resizeBilinear(await readImage(file), 64, 64);
    const ref = detectObjects(
      model,
      { data: small, height: 64, width: 64, channels: 1 },
      { minScore: 0, topK: 3 },
    );
    model.dispose();
    p.objects!.forEach((o, i) => {
      expect(o.classIndex).toBe(ref[i].classIndex);
      expect(o.className).toBe(`digit ${ref[i].classIndex}`);
      expect(o.score).toBeCloseTo(ref[i].score, 5);
      const scale = [2, 1.5, 2, 1.5];
      o.box.forEach((v, k) => expect(v).toBeCloseTo(ref[i].box[k] * scale[k], 3));
    });
    // The annotated image: the scene in RGB, each box's top-left corner (inside the image) in its class colour.
    expect(p.annotatedFile).toBe(path.join(annotate, 'scene.png'));
    const png = decodePng(await fs.readFile(p.annotatedFile!));
    expect([png.width, png.height, png.channels]).toEqual([128, 96, 3]);
    // Box colours are not gray, the scene is: every coloured pixel lies on a box's outline (1 px
    // wide at this size), every other pixel is the scene's, and there are coloured pixels.
    const boxes = p.objects!.map((o) => o.box.map(Math.round));
    const onOutline = (x: number, y: number) =>
      boxes.some(
        ([x0, y0, x1, y1]) =>
          ((x === x0 || x === x1) && y >= y0 && y <= y1) ||
          ((y === y0 || y === y1) && x >= x0 && x <= x1),
      );
    let coloured = 0;
    for (let y = 0; y < 96; y++) {
      for (let x = 0; x < 128; x++) {
        const [r, g, bl] = png.data.slice((y * 128 + x) * 3, (y * 128 + x) * 3 + 3);
        if (r === g && g === bl && r === scene[y * 128 + x]) continue;
        expect(onOutline(x, y), `pixel ${x},${y}`).toBe(true);
        coloured++;
      }
    }
    expect(coloured).toBeGreaterThan(0);
  });

  it('segmentation: the label PNG holds predictMask of the resized image', async () => {
    const dir = await savedZooModel('segmenter', 'deeplab-mini', [32, 32, 1], 4, {
      task: 'segmentation',
    });
    const file = path.join(root(), 'digit.png');
    await writePng(file, tintedRgb((await mnistDigits(1))[0].image));
    const masks = path.join(root(), 'masks');
    const report = await predictFiles(dir, [file], { maskDir: masks });
    const [p] = report.predictions;
    expect(p.maskFile).toBe(path.join(masks, 'digit.png'));
    const model = await tf.loadLayersModel(fileSystem(path.join(dir, 'model.json')));
    const rgb = await readImage(file);
    // RGB → gray by luma, then 28 → 32 bilinear, as predict does.
    const gray = new Uint8Array(28 * 28);
    for (let i = 0; i < gray.length; i++) {
      gray[i] = Math.round(
        (rgb.data[i * 3] * 299 + rgb.data[i * 3 + 1] * 587 + rgb.data[i * 3 + 2] * 114) / 1000,
      );
    }
    const input = resizeBilinear({ data: gray, height: 28, width: 28, channels: 1 }, 32, 32);
    const ref = predictMask(model, { data: input, height: 32, width: 32, channels: 1 });
    model.dispose();
    const png = decodePng(await fs.readFile(p.maskFile!));
    expect([png.width, png.height, png.channels]).toEqual([32, 32, 1]);
    expect(Array.from(png.data)).toEqual(Array.from(ref.mask));
    expect(Object.values(p.mask!.counts).reduce((s, n) => s + n, 0)).toBe(32 * 32);
  });

  it('skips and counts unreadable files; names a model without a task and a missing path', async () => {
    const dir = await savedZooModel('plain', 'pt-mnist-sample', [28, 28, 1], 10, {});
    const bad = path.join(root(), 'bad');
    await writePng(path.join(bad, 'ok.png'), (await mnistDigits(1))[0].image);
    await fs.writeFile(path.join(bad, 'text.png'), 'hello');
    const report = await predictFiles(dir, [bad]);
    expect(report.predictions.map((p) => path.basename(p.file))).toEqual(['ok.png']);
    expect(report.classNames).toBeNull();
    expect(report.predictions[0].top![0].className).toBeNull();
    expect(report.skipped).toEqual([
      { file: path.join(bad, 'text.png'), reason: expect.stringMatching(/not a PNG or JPEG/) },
    ]);
    const seg = path.join(root(), 'no-task');
    const m = buildModel('deeplab-mini', {
      conv: 'conv',
      inputShape: [32, 32, 1],
      numClasses: 3,
      seed: 1,
    });
    await m.save(fileSystem(seg));
    m.dispose();
    await expect(predictFiles(seg, [bad])).rejects.toThrow(
      /its metadata names no task .* \(task: segmentation or detection\)/,
    );
    await expect(predictFiles(path.join(root(), 'nope'), [bad])).rejects.toThrow(
      /no such file or folder/,
    );
    await expect(predictFiles(dir, [path.join(root(), 'nope.png')])).rejects.toThrow(
      /image ".*nope.png": no such file or folder/,
    );
  });
});
