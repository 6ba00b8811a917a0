import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { generateScenes, type Dataset, type SceneSet } from '../../src/index.js';
import { type EngineRecord, trainModel, type TaskEpochMetrics } from '../../src/node.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'doconv-task-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** Ten square "digits", one per class. */
function squares(): Dataset {
  const images = new Uint8Array(10 * 784);
  for (let n = 0; n < 10; n++)
    for (let y = 4 + n; y < 20; y++)
      for (let x = 6; x < 22 - n; x++) images[n * 784 + y * 28 + x] = 255;
  return {
    name: 'squares',
    images,
    labels: Uint8Array.from({ length: 10 }, (_, i) => i),
    count: 10,
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
  };
}

function scenes(count: number, seed: number): SceneSet {
  return generateScenes(squares(), {
    count,
    seed,
    size: 32,
    minScale: 10,
    maxScale: 16,
    maxDigits: 2,
  });
}

const train = scenes(16, 1);
const test = scenes(8, 2);
const recipe = { train, test, batchSize: 8, evalBatchSize: 8, seed: 3, progress: 'none' as const };
const stripTimes = (h: TaskEpochMetrics[]) =>
  h.map(({ imagesPerSecond: _i, seconds: _s, evalSeconds: _e, ...rest }) => rest);

describe('trainModel, segmentation and detection: segmentation and detection runs with checkpoints, resume and fold', () => {
  it('deeplab-mini conv: 2 epochs straight = 1 epoch, interrupted, resumed; metrics.jsonl, folded model, summary', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const straight = await trainModel({
      ...recipe,
      model: 'deeplab-mini',
      conv: 'conv',
      epochs: 2,
      out: path.join(root, 'a'),
    });
    // Interrupted after epoch 1 (the schedule is that of 2 epochs), then resumed.
    const stop = new AbortController();
    await expect(
      trainModel({
        ...recipe,
        model: 'deeplab-mini',
        conv: 'conv',
        epochs: 2,
        out: path.join(root, 'b'),
        signal: stop.signal,
        onEpochEnd: () => stop.abort(),
      }),
    ).rejects.toThrow(/abort/i);
    const resumed = await trainModel({
      ...recipe,
      model: 'deeplab-mini',
      conv: 'conv',
      epochs: 2,
      out: path.join(root, 'b'),
      resume: true,
    });
    expect(JSON.stringify(stripTimes(resumed.history), null, 1)).toBe(
      JSON.stringify(stripTimes(straight.history), null, 1),
    );
    const wa = straight.model.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = resumed.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wb).toEqual(wa);
    const lines = fs
      .readFileSync(path.join(root, 'b', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1, 2]);
    const summary = JSON.parse(fs.readFileSync(path.join(root, 'a', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ task: 'segmentation', conv: 'conv', epochs: 2, testImages: 8 });
    expect(summary.test.segmentation.meanIoU).toBeGreaterThan(0);
    expect(summary.maxAbsOutputDiff).toBeLessThan(1e-3);
    expect(summary.foldedTest.segmentation.pixelAccuracy).toBeCloseTo(
      summary.test.segmentation.pixelAccuracy,
      2,
    );
    expect(fs.existsSync(path.join(root, 'a', 'folded', 'model.json'))).toBe(true);
    for (const r of [straight, resumed]) {
      r.model.dispose();
      r.folded?.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('centernet-mini doconv: one epoch; AP@0.5 and AP@[.5:.95] recorded; the folded model scores the same', async () => {
    const r = await trainModel({
      ...recipe,
      model: 'centernet-mini',
      conv: 'doconv',
      epochs: 1,
      out: path.join(root, 'c'),
    });
    expect(r.summary.task).toBe('detection');
    // Detection's default recipe warms the rate up over the first epoch (2 steps of 8 scenes here):
    // the first step runs at half of lr (results/README.md#detection-warm-up).
    expect(r.summary.config.schedule).toEqual({ kind: 'cosine', warmupEpochs: 1 });
    expect(r.history[0].lr).toBeCloseTo(r.summary.config.optimizer.learningRate / 2, 12);
    expect(r.history[0].testAP50).toBeGreaterThanOrEqual(0);
    expect(r.summary.test.detection!.perClassAP).toHaveLength(10);
    expect(r.summary.maxAbsOutputDiff).toBeLessThan(1e-3);
    expect(r.summary.foldedTest!.detection!.ap).toBeCloseTo(r.summary.test.detection!.ap, 3);
    r.model.dispose();
    r.folded?.dispose();
  });

  it('refuses a classifier, a changed recipe on resume, and an occupied folder without --overwrite', async () => {
    await expect(trainModel({ ...recipe, model: 'resnet-20' })).rejects.toThrow(
      /^train, test: not used by resnet-20 \(a classification model\)$/,
    );
    await expect(
      trainModel({
        ...recipe,
        model: 'deeplab-mini',
        conv: 'conv',
        epochs: 1,
        out: path.join(root, 'a'),
      }),
    ).rejects.toThrow(/already holds a run .*overwrite: true/);
    await expect(
      trainModel({
        ...recipe,
        model: 'deeplab-mini',
        conv: 'conv',
        epochs: 2,
        batchSize: 4,
        out: path.join(root, 'a'),
        resume: true,
      }),
    ).rejects.toThrow(/settings differ \(batchSize: checkpoint 8, now 4\)/);
    await expect(
      trainModel({
        ...recipe,
        model: 'centernet-mini',
        epochs: 1,
        optimizer: 'sgd',
        lr: 10,
        weightDecay: 1e30,
      }),
    ).rejects.toThrow(/training diverged: .* at epoch 1, step \d+ .*the step was not applied/);
    await expect(trainModel({ ...recipe, model: 'deeplab-mini', epochs: 0 })).rejects.toThrow(
      /epochs must be a positive integer, got 0/,
    );
  });
});

describe('trainModel, segmentation and detection: memory', () => {
  it('a run that fails after folding disposes the folded model too', async () => {
    const warmUp = await trainModel({ ...recipe, model: 'deeplab-mini', epochs: 1 });
    warmUp.model.dispose();
    warmUp.folded?.dispose();
    const before = tf.memory().numTensors;
    const out = path.join(root, 'folded-in-the-way');
    // A file where folded/ goes: the run fails saving the folded model.
    const blockFolded = () => fs.writeFileSync(path.join(out, 'folded'), 'in the way');
    await expect(
      trainModel({ ...recipe, model: 'deeplab-mini', epochs: 1, out, onEpochEnd: blockFolded }),
    ).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('trainModel, segmentation and detection: the engine record and the resume rule', () => {
  it('summary.json and state.json record the engine; another engine is refused, allowed with allowEngineChange; an old checkpoint resumes', async () => {
    const out = path.join(root, 'engine');
    const stateFile = path.join(out, 'checkpoint', 'state.json');
    const editState = (edit: (state: { engine?: EngineRecord }) => void) => {
      const file = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
      edit(file.state);
      fs.writeFileSync(stateFile, JSON.stringify(file));
    };
    const notes: string[] = [];
    const run = async (
      epochs: number,
      more: { resume?: boolean; allowEngineChange?: boolean } = {},
    ) => {
      const r = await trainModel({
        ...recipe,
        model: 'deeplab-mini',
        conv: 'conv',
        fold: false,
        epochs,
        out,
        log: (m) => void notes.push(m),
        ...more,
      });
      r.model.dispose();
      return r;
    };
    // These tests run on wasm's portable engine.
    const here: EngineRecord = { backend: 'wasm', engine: 'wasm', oneDnn: null, threads: null };
    expect((await run(1)).summary.engine).toEqual(here);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).state.engine).toEqual(here);

    editState((state) => delete state.engine);
    await run(2, { resume: true });
    editState((state) => {
      state.engine = { backend: 'wasm', engine: 'native', oneDnn: '2.6.3', threads: 7 };
    });
    await expect(run(3, { resume: true })).rejects.toThrow(
      `cannot resume ${path.join(out, 'checkpoint')}: it was trained on engine native (7 oneDNN threads), this process runs wasm; resume on the same engine`,
    );
    const continued = await run(3, { resume: true, allowEngineChange: true });
    expect(continued.history.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(notes.filter((n) => n.startsWith('engine changed'))).toEqual([
      `engine changed: ${path.join(out, 'checkpoint')} was trained on native (7 oneDNN threads), continuing on wasm (allowEngineChange); the run will differ from an uninterrupted one`,
    ]);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).state.engine).toEqual(here);
  });
});

describe('one trainer, the task from the model: what does not fit is refused before any work', () => {
  it('a task that contradicts the model; options of another task; scene sets given by half', async () => {
    await expect(trainModel({ model: 'resnet-20', task: 'segmentation' })).rejects.toThrow(
      'task segmentation does not match model resnet-20, a classification model',
    );
    await expect(
      trainModel({ model: 'deeplab-mini', augment: true, normalize: 'dataset', holdout: 5 }),
    ).rejects.toThrow(
      'holdout, augment, normalize: not used by deeplab-mini (a segmentation model: it trains on scene sets; trainLimit/testLimit set the generated scene counts)',
    );
    await expect(trainModel({ model: 'tf-mnist-sample', topK: 5 })).rejects.toThrow(
      'topK: not used by tf-mnist-sample (a classification model)',
    );
    await expect(trainModel({ task: 'detection', train })).rejects.toThrow(
      'give both train and test scene sets, or neither',
    );
    await expect(
      trainModel({ task: 'detection', optimizer: 'adam', momentum: 0.9 }),
    ).rejects.toThrow('momentum: not used by optimizer adam');
  });

  it('repeated seeds are refused for a scene comparison as for a classifier (one compare)', async () => {
    const { compareConvs } = await import('../../src/node.js');
    await expect(compareConvs({ model: 'deeplab-mini', seeds: [1, 1] })).rejects.toThrow(
      'seeds must not repeat (each run has a folder of its own), got [1,1]',
    );
  });

  it('task alone trains its default zoo net', async () => {
    const r = await trainModel({ ...recipe, task: 'detection', epochs: 1, fold: false });
    expect(r.summary.model).toBe('centernet-mini');
    expect(r.summary.config).toMatchObject({ task: 'detection', trainLimit: 16, testLimit: 8 });
    r.model.dispose();
  });
});
