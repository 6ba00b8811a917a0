/**
 * A saved model ready to predict: loaded from a run folder, a model folder or a model.json, with
 * what its metadata says (task, class names, input normalisation), and a decoded image turned into
 * its input (channels converted, bilinear-resized, scaled as in training). Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Normalization } from '../data/batches.js';
import type { DecodedImage } from '../data/decodeImage.js';
import { convertChannels, resizeBilinear } from '../data/resizeImage.js';
import { compileInference } from '../engine/native/inferencePlan.js';
import { DATASET_STATS } from './data.js';
import { detectOutputKind, type OutputKind } from './losses.js';
import { CHECKPOINT_DIR, FOLDED_DIR } from './runFolder.js';
import { loadSavedModel, modelMetadata } from './savedModels.js';
import { OptionError } from '../util/optionError.js';

/** The three kinds of prediction. */
export const PREDICT_TASKS = ['classification', 'segmentation', 'detection'] as const;
export type PredictTask = (typeof PREDICT_TASKS)[number];

/** A loaded model and how to feed and read it; `dispose()` frees the model. */
export interface Predictor {
  model: tf.LayersModel;
  /** The model.json it was loaded from. */
  file: string;
  task: PredictTask;
  /** [height, width, channels] of its input. */
  inputShape: [number, number, 1 | 3];
  /** The name of each class index, when the metadata records them. */
  classNames: string[] | null;
  /** Subtracted/divided after /255; null: pixels/255 only. */
  normalization: Normalization | null;
  /** Classification: does the model end in softmax, or give logits? */
  outputKind: OutputKind;
  /**
   * How the model runs: 'native plan' (a classifier compiled by compileInference: the whole net
   * in one oneDNN call), else 'model.predict' with why the plan is not used.
   */
  inference: string;
  /** The model's output for x [n, ...inputShape] (a new tensor): the native plan or model.predict. */
  predict(x: tf.Tensor): tf.Tensor;
  dispose(): void;
}

/** Options of `loadPredictor`. */
export interface LoadPredictorOptions {
  /** The task, for a model whose metadata does not say (an exported TF.js model of your own). */
  task?: PredictTask;
  /** Class names, overriding (or standing in for) the metadata's. */
  classNames?: string[];
  /**
   * Run a classifier as a native inference plan (compileInference) when the native addon is built
   * and the model compiles (default true); false: always model.predict.
   */
  nativePlan?: boolean;
}

/**
 * Loads the model at `source`: a run folder (its folded/ model, else its checkpoint/), a folder
 * holding model.json, or a model.json.
 */
export async function loadPredictor(
  source: string,
  opts: LoadPredictorOptions = {},
): Promise<Predictor> {
  const file = await modelFileOf(source);
  const model = await loadSavedModel(file);
  try {
    const meta = modelMetadata(model) as ReturnType<typeof modelMetadata> & { task?: string };
    const [, h, w, c] = model.inputs[0].shape;
    if (
      model.inputs.length !== 1 ||
      model.inputs[0].shape.length !== 4 ||
      !h ||
      !w ||
      (c !== 1 && c !== 3)
    ) {
      throw new Error(
        `${file}: predict needs a model with one image input [batch, height, width, 1 or 3], got ${JSON.stringify(model.inputs.map((i) => i.shape))}`,
      );
    }
    const task = opts.task ?? taskOf(meta.task, model, file);
    const classNames = opts.classNames ?? meta.classNames ?? null;
    const run = runnerOf(model, task, opts.nativePlan ?? true);
    return {
      model,
      file,
      task,
      inputShape: [h, w, c],
      classNames,
      normalization: task === 'classification' ? normalizationOf(meta) : null,
      outputKind: task === 'classification' ? detectOutputKind(model) : 'logits',
      inference: run.inference,
      predict: run.predict,
      dispose: () => {
        run.dispose();
        model.dispose();
      },
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * How a classifier runs: compiled into a native inference plan (batch 1, as predict feeds it)
 * where it can be — the addon built, the engine not disabled (DOCONV_ENGINE=wasm), every layer
 * compiled — else model.predict. The other tasks run model.predict (their decoders read the output
 * through TF.js anyway).
 */
function runnerOf(
  model: tf.LayersModel,
  task: PredictTask,
  nativePlan: boolean,
): Pick<Predictor, 'inference' | 'predict' | 'dispose'> {
  const fallback = (why: string) => ({
    inference: `model.predict (${why})`,
    predict: (x: tf.Tensor) => model.predict(x) as tf.Tensor,
    dispose: () => {},
  });
  if (task !== 'classification') return fallback(`the native plan compiles classifiers only`);
  if (!nativePlan) return fallback('the native plan is off');
  if (process.env.DOCONV_ENGINE === 'wasm') return fallback('DOCONV_ENGINE=wasm');
  try {
    const plan = compileInference(model, { batchSize: 1 });
    return { inference: 'native plan', predict: (x) => plan.predict(x), dispose: plan.dispose };
  } catch (e) {
    return fallback((e as Error).message);
  }
}

/** The model.json `source` names. */
async function modelFileOf(source: string): Promise<string> {
  const stat = await fs.stat(source).catch(() => null);
  if (stat === null) throw new Error(`model ${JSON.stringify(source)}: no such file or folder`);
  if (stat.isFile()) return source;
  for (const candidate of [
    path.join(source, 'model.json'),
    path.join(source, FOLDED_DIR, 'model.json'),
    path.join(source, CHECKPOINT_DIR, 'model.json'),
  ]) {
    if (
      await fs.stat(candidate).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
  }
  throw new Error(
    `model ${JSON.stringify(source)}: no model.json in it, nor in its ${FOLDED_DIR}/ or ${CHECKPOINT_DIR}/ (give a run folder, a model folder or a model.json)`,
  );
}

/** The task the metadata records; without one, a 2-D output is a classifier. */
function taskOf(recorded: string | undefined, model: tf.LayersModel, file: string): PredictTask {
  if (recorded === 'segmentation' || recorded === 'detection') return recorded;
  const rank = model.outputs[0].shape.length;
  if (rank === 2) return 'classification';
  const shape = JSON.stringify(model.outputs[0].shape);
  throw new OptionError(
    'task',
    (n) =>
      `${file}: its metadata names no task and its output is ${shape}, not a classifier's [batch, classes]; say which task it is (${n('task')}: segmentation or detection)`,
  );
}

/**
 * What the inputs were normalised with in training: the values recorded (image folders, runs since
 * they are recorded), else a bundled data set's statistics by name, else none (pixels/255).
 */
function normalizationOf(meta: ReturnType<typeof modelMetadata>): Normalization | null {
  if (meta.normalization !== undefined) return meta.normalization;
  if (meta.normalize === 'dataset' && meta.dataset !== undefined && meta.dataset in DATASET_STATS) {
    return DATASET_STATS[meta.dataset as keyof typeof DATASET_STATS];
  }
  return null;
}

/** `img` as the predictor's input bytes: its channel count, resized (bilinear) to its size. */
export function fitToInput(p: Predictor, img: DecodedImage): DecodedImage {
  const [height, width, channels] = p.inputShape;
  const converted = convertChannels(img, channels);
  return { data: resizeBilinear(converted, height, width), height, width, channels };
}

/** Input bytes (at the input size) as a float batch of one, scaled as in training. */
export function inputTensor(p: Predictor, img: DecodedImage): tf.Tensor4D {
  const [h, w, c] = p.inputShape;
  const norm = p.normalization;
  const x = new Float32Array(img.data.length);
  for (let i = 0; i < x.length; i++) {
    const v = img.data[i] / 255;
    x[i] = norm ? (v - norm.mean[i % c]) / norm.std[i % c] : v;
  }
  return tf.tensor4d(x, [1, h, w, c]);
}
