/** Shared pieces of the trainer tests: a tiny model with every kind of weight, temp folders, weight dumps. */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { convFactory } from '../../src/models/index.js';
import {
  type EpochMetrics,
  type ModelBuilder,
  trainModel,
  type TrainOptions,
} from '../../src/train/index.js';

/**
 * conv 3×3 stride 2 (DO-Conv under 'doconv', no bias) → BatchNorm → ReLU → conv 3×3 (with bias) →
 * flatten → dense logits: W, D, bias, BN gamma/beta and moving statistics, and a dense kernel.
 */
export const tinyModel: ModelBuilder = (opts) => tinyNet(opts, true);

/** tinyModel without the BatchNorm (the first conv gets a bias): sharding cannot change its maths. */
export const tinyModelWithoutBatchNorm: ModelBuilder = (opts) => tinyNet(opts, false);

function tinyNet(
  { conv, inputShape, numClasses, seed }: Parameters<ModelBuilder>[0],
  batchNorm: boolean,
): tf.LayersModel {
  const f = convFactory(conv);
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  const input = tf.input({ shape: inputShape });
  let y = f
    .conv2d({
      filters: 4,
      kernelSize: 3,
      strides: 2,
      useBias: !batchNorm,
      kernelInitializer: init(1),
      name: 'c1',
    })
    .apply(input) as tf.SymbolicTensor;
  if (batchNorm) y = tf.layers.batchNormalization({ name: 'bn1' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU().apply(y) as tf.SymbolicTensor;
  y = f
    .conv2d({ filters: 4, kernelSize: 3, strides: 2, kernelInitializer: init(2), name: 'c2' })
    .apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .dense({ units: numClasses, kernelInitializer: init(3), name: 'logits' })
    .apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

/** A fresh empty folder under the OS temp dir. */
export async function tempDir(tag: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `doconv-${tag}-`));
}

/** The parsed JSON of `file` (a run's summary.json, state.json …), untyped as JSON.parse gives it. */
export async function readJson(file: string): Promise<ReturnType<typeof JSON.parse>> {
  return JSON.parse(await fs.readFile(file, 'utf8'));
}

/** Every weight (trainable or not) of `model`, as plain arrays in layer order. */
export function weightValues(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** Metrics without the wall-clock fields, which differ between identical runs. */
export function withoutTimes(
  history: readonly EpochMetrics[],
): Array<Omit<EpochMetrics, 'seconds' | 'evalSeconds' | 'imagesPerSecond'>> {
  return history.map(({ seconds: _s, evalSeconds: _e, imagesPerSecond: _i, ...rest }) => rest);
}

/** Names of the entries in `dir` that look like temp or set-aside checkpoint folders. */
export async function leftovers(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => n.includes('.tmp') || n.includes('.old-'));
}

/**
 * For a test file that trains on wasm: sets the backend before its tests and gives them a temp
 * folder, removed after them. Call at the top level; the returned function gives the folder.
 */
export function wasmWithTempRoot(tag: string): () => string {
  let root = '';
  beforeAll(async () => {
    await tf.setBackend('wasm');
    root = await tempDir(tag);
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });
  return () => root;
}

/**
 * `trainModel(base + opts)` with its models disposed, returning the result and every weight's
 * values. Returns a function bound to `base`.
 */
export function trainerWith(base: TrainOptions) {
  return async (opts: TrainOptions) => {
    const r = await trainModel({ ...base, ...opts });
    const weights = weightValues(r.model);
    r.model.dispose();
    r.folded?.dispose();
    return { ...r, weights };
  };
}
