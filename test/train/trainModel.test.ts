/**
 * The trainer end to end on the wasm backend with a tiny model and a few hundred MNIST images:
 * repeatability, resume equivalence, output files, folding, and the out-folder guards.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { addon, skipReason } from '../engine/nativeSetup.js';
import { disableNativeEngine, enableNativeEngine } from '../../src/engine/native/enableNative.js';
import {
  type EngineRecord,
  type EpochMetrics,
  loadCheckpoint,
  loadSavedModel,
  readMetrics,
  type TrainOptions,
  type TrainSummary,
} from '../../src/train/index.js';
import {
  leftovers,
  readJson,
  tinyModel,
  trainerWith,
  wasmWithTempRoot,
  withoutTimes,
} from './helpers.js';

const root = wasmWithTempRoot('train');

const base: TrainOptions = {
  model: tinyModel,
  conv: 'doconv',
  dataset: 'mnist',
  trainLimit: 192,
  testLimit: 128,
  epochs: 2,
  batchSize: 32,
  evalBatchSize: 64,
  seed: 3,
};

const train = trainerWith(base);

/** Trains `opts` and stops it after epoch 1 (as a Ctrl-C would), its checkpoint kept. */
async function interruptAfterEpoch1(opts: TrainOptions): Promise<void> {
  const abort = new AbortController();
  const stop = (m: EpochMetrics) => void (m.epoch === 1 && abort.abort());
  await expect(train({ ...opts, signal: abort.signal, onEpochEnd: stop })).rejects.toThrow(
    /aborted/,
  );
}

describe('repeatability', () => {
  it('the same seed twice gives identical metrics and weights; another seed does not', async () => {
    const a = await train({ fold: false });
    const b = await train({ fold: false });
    expect(withoutTimes(b.history)).toEqual(withoutTimes(a.history));
    expect(b.weights).toEqual(a.weights);
    const c = await train({ fold: false, seed: 4 });
    expect(c.weights).not.toEqual(a.weights);
  });
});

describe('resume', () => {
  const recipes: Array<[string, TrainOptions]> = [
    [
      'SGD momentum, weight decay, cosine per step, flip/crop',
      {
        optimizer: 'sgd',
        lr: 0.05,
        momentum: 0.9,
        weightDecay: 5e-4,
        schedule: { kind: 'cosine' },
        scheduleUnit: 'step',
        augment: true,
      },
    ],
    [
      'Adam, step schedule per epoch',
      { optimizer: 'adam', lr: 0.003, schedule: { kind: 'step', milestones: [1] } },
    ],
  ];
  for (const [name, recipe] of recipes) {
    it(`${name}: 2 epochs straight = 1 epoch, interrupted, + resume`, async () => {
      const straight = await train({ ...recipe, out: path.join(root(), `straight-${name}`) });

      const out = path.join(root(), `resumed-${name}`);
      await interruptAfterEpoch1({ ...recipe, out });
      expect((await readMetrics(path.join(out, 'metrics.jsonl'))).length).toBe(1);
      const ckpt = await loadCheckpoint<{ history: unknown[] }>(path.join(out, 'checkpoint'));
      expect(ckpt.state.history.length).toBe(1);
      ckpt.model.dispose();
      ckpt.optimizer.dispose();

      const resumed = await train({ ...recipe, out, resume: true });
      expect(resumed.weights).toEqual(straight.weights);
      expect(withoutTimes(resumed.history)).toEqual(withoutTimes(straight.history));
      expect(withoutTimes(await readMetrics(path.join(out, 'metrics.jsonl')))).toEqual(
        withoutTimes(straight.history),
      );
      expect(await leftovers(out)).toEqual([]);
    });
  }

  // The native engine's kernels are deterministic for a thread count, so the same holds there.
  const onNative = addon == null ? it.skip : it;
  onNative(
    `on the native engine: 2 epochs straight = 1 + resume, and a rerun repeats${skipReason}`,
    async () => {
      expect(enableNativeEngine().on).toBe(true);
      try {
        const recipe: TrainOptions = { optimizer: 'adam', lr: 0.003 };
        const straight = await train({ ...recipe, out: path.join(root(), 'native-straight') });
        const again = await train({ ...recipe, out: path.join(root(), 'native-again') });
        expect(again.weights).toEqual(straight.weights);
        const out = path.join(root(), 'native-resumed');
        await interruptAfterEpoch1({ ...recipe, out });
        const resumed = await train({ ...recipe, out, resume: true });
        expect(resumed.weights).toEqual(straight.weights);
        expect(withoutTimes(resumed.history)).toEqual(withoutTimes(straight.history));
        expect(resumed.summary.engine).toEqual({
          backend: 'wasm',
          engine: 'native',
          oneDnn: addon!.oneDnnVersion(),
          threads: addon!.getThreads(),
        });
      } finally {
        disableNativeEngine();
      }
    },
  );

  it('on another engine or oneDNN thread count: refused naming both, allowed with allowEngineChange; an old checkpoint without the record resumes', async () => {
    const out = path.join(root(), 'engine-change');
    const stateFile = path.join(out, 'checkpoint', 'state.json');
    const editState = async (edit: (state: { engine?: EngineRecord }) => void) => {
      const file = await readJson(stateFile);
      edit(file.state);
      await fs.writeFile(stateFile, JSON.stringify(file));
    };
    const first = await train({ epochs: 1, out, fold: false });
    // These tests run on wasm's portable engine (the native one only where a test turns it on).
    const here: EngineRecord = { backend: 'wasm', engine: 'wasm', oneDnn: null, threads: null };
    expect(first.summary.engine).toEqual(here);
    expect(first.summary.backend).toBe('wasm');
    expect((await readJson(stateFile)).state.engine).toEqual(here);

    // Written before the record was kept: resumes as before.
    await editState((state) => delete state.engine);
    const notes: string[] = [];
    const log = (m: string) => void notes.push(m);
    await train({ epochs: 2, out, fold: false, resume: true, log });
    expect(notes.filter((n) => n.startsWith('engine changed'))).toEqual([]);

    await editState((state) => {
      state.engine = { backend: 'wasm', engine: 'native', oneDnn: '2.6.3', threads: 7 };
    });
    const tensors = tf.memory().numTensors;
    await expect(train({ epochs: 3, out, fold: false, resume: true, log })).rejects.toThrow(
      `cannot resume ${path.join(out, 'checkpoint')}: it was trained on engine native (7 oneDNN threads), this process runs wasm; ` +
        'resume on the same engine (DOCONV_ENGINE=wasm forces wasm; DOCONV_NATIVE_THREADS sets the native thread count), ' +
        'or pass allowEngineChange: true to continue on this one — the run will then differ from an uninterrupted one',
    );
    expect(tf.memory().numTensors).toBe(tensors); // the refused checkpoint is disposed
    const continued = await train({
      epochs: 3,
      out,
      fold: false,
      resume: true,
      allowEngineChange: true,
      log,
    });
    expect(continued.history.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(notes.filter((n) => n.startsWith('engine changed'))).toEqual([
      `engine changed: ${path.join(out, 'checkpoint')} was trained on native (7 oneDNN threads), continuing on wasm (allowEngineChange); the run will differ from an uninterrupted one`,
    ]);
    // From here on the checkpoint says what it now runs on.
    expect((await readJson(stateFile)).state.engine).toEqual(here);
    expect(continued.summary.engine).toEqual(here);
  });

  it('refuses to resume with different settings, naming them', async () => {
    const out = path.join(root(), 'mismatch');
    await train({ epochs: 1, out, fold: false });
    await expect(train({ epochs: 2, out, resume: true, batchSize: 16 })).rejects.toThrow(
      /cannot resume .*checkpoint: the run's settings differ \(batchSize: checkpoint 32, now 16\)/,
    );
  });
});

describe('output files', () => {
  let out: string;
  let summary: TrainSummary;
  beforeAll(async () => {
    out = path.join(root(), 'files');
    summary = (await train({ out, epochs: 2 })).summary;
  });

  it('metrics.jsonl: one line per epoch with the documented fields', async () => {
    const lines = (await fs.readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.length).toBe(2);
    lines.forEach((line, i) => {
      const m = JSON.parse(line);
      expect(Object.keys(m).sort()).toEqual(
        [
          'epoch',
          'evalSeconds',
          'imagesPerSecond',
          'lr',
          'seconds',
          'testAccuracy',
          'testLoss',
          'trainAccuracy',
          'trainLoss',
        ].sort(),
      );
      expect(m.epoch).toBe(i + 1);
      for (const k of ['trainAccuracy', 'testAccuracy']) {
        expect(m[k]).toBeGreaterThanOrEqual(0);
        expect(m[k]).toBeLessThanOrEqual(1);
      }
      for (const k of ['trainLoss', 'testLoss', 'imagesPerSecond', 'seconds', 'lr'])
        expect(m[k]).toBeGreaterThan(0);
    });
  });

  it('summary.json: accuracies as fractions, folded accuracy within 0.1 pp, tiny max |Δ logits|', async () => {
    const s: TrainSummary = await readJson(path.join(out, 'summary.json'));
    expect(s).toEqual(summary);
    expect(s.testAccuracy).toBeGreaterThan(0.1); // above chance for 10 classes after 2 epochs
    expect(s.testAccuracy).toBeLessThanOrEqual(1);
    expect(Math.abs(s.foldedTestAccuracy! - s.testAccuracy)).toBeLessThanOrEqual(0.001);
    // BatchNorm is fused into the folded conv, so the logits differ by float rounding only.
    expect(s.maxAbsLogitDiff).toBeLessThan(1e-4);
    expect(s.parameters.folded).toBeLessThan(s.parameters.trained);
    expect(s).toMatchObject({
      conv: 'doconv',
      dataset: 'mnist',
      seed: 3,
      epochs: 2,
      trainImages: 192,
      testImages: 128,
      outputKind: 'logits',
    });
    expect(s.config).toMatchObject({
      batchSize: 32,
      optimizer: { kind: 'adam', learningRate: 0.001 },
    });
  });

  it('checkpoint/ and folded/ hold TF.js models; the folded one has no DO layers', async () => {
    const folded = await loadSavedModel(path.join(out, 'folded'));
    expect(folded.layers.map((l) => l.getClassName())).not.toContain('DOConv2D');
    expect(folded.layers.map((l) => l.getClassName())).not.toContain('BatchNormalization');
    folded.dispose();
    expect((await fs.readdir(path.join(out, 'checkpoint'))).sort()).toEqual(
      ['model.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'weights.bin'].sort(),
    );
  });

  it('a second run into the same folder needs --resume or --overwrite', async () => {
    await expect(train({ out, epochs: 1 })).rejects.toThrow(
      `out ${JSON.stringify(out)} already holds a run (metrics.jsonl, checkpoint, folded, summary.json, curves.svg); resume it (resume: true) or replace it (overwrite: true)`,
    );
    const again = await train({ out, epochs: 1, overwrite: true, fold: false });
    expect(again.history.length).toBe(1);
    expect((await readMetrics(path.join(out, 'metrics.jsonl'))).length).toBe(1);
  });
});

describe('memory', () => {
  it('a run leaves no tensors behind once its models are disposed, also when it fails', async () => {
    await train({ epochs: 1, trainLimit: 64, testLimit: 32 }); // warm-up: one-time kernel tensors
    const before = tf.memory().numTensors;
    await train({ epochs: 1, trainLimit: 64, testLimit: 32 });
    expect(tf.memory().numTensors).toBe(before);
    const abort = new AbortController();
    abort.abort();
    await expect(
      train({ epochs: 1, trainLimit: 64, testLimit: 32, signal: abort.signal }),
    ).rejects.toThrow(/aborted/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a run that fails after folding disposes the folded model too', async () => {
    await train({ epochs: 1, trainLimit: 64, testLimit: 32 }); // warm-up
    const before = tf.memory().numTensors;
    const out = path.join(root(), 'folded-in-the-way');
    // A file where folded/ goes: the run fails saving the folded model.
    const blockFolded = () => fs.writeFile(path.join(out, 'folded'), 'in the way');
    await expect(
      train({ epochs: 1, trainLimit: 64, testLimit: 32, out, onEpochEnd: blockFolded }),
    ).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('divergence', () => {
  it('a non-finite loss or gradient stops the run with an error naming epoch, step and learning rate', async () => {
    await expect(
      // lr is capped at 10; a weight decay of 1e30 makes the gradients overflow float32.
      train({
        epochs: 1,
        trainLimit: 96,
        testLimit: 32,
        optimizer: 'sgd',
        lr: 10,
        weightDecay: 1e30,
      }),
    ).rejects.toThrow(
      /training diverged: the (loss is (NaN|-?Infinity)|gradient of '.+' has a non-finite value .*) at epoch 1, step \d+ \(learning rate 10\);.*not applied.*lower the learning rate/,
    );
  });
});

describe('zoo model with its softmax head', () => {
  it('tf-mnist-sample: folded accuracy equals DO-Conv accuracy; logits compared before softmax', async () => {
    const { summary } = await train({
      model: 'tf-mnist-sample',
      epochs: 1,
      trainLimit: 128,
      testLimit: 128,
    });
    expect(summary.outputKind).toBe('probabilities');
    expect(Math.abs(summary.foldedTestAccuracy! - summary.testAccuracy)).toBeLessThanOrEqual(0.001);
    expect(summary.maxAbsLogitDiff).toBeLessThan(1e-4);
  });
});
