/**
 * Evaluating and folding models saved in TF.js format, whatever their task: the library calls
 * behind `doconv eval` and `doconv fold`. What a saved model is (its task, data set, normalisation,
 * scenes) comes from its metadata (modelMetadata.ts). Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Normalization } from '../data/batches.js';
import {
  type DatasetName,
  DATASET_NAMES,
  loadDataset,
  type LoadDatasetOptions,
} from '../data/loadDataset.js';
import { loadMnistScenes, MNIST_SCENES_SEED } from '../data/mnistScenes.js';
import { OptionError } from '../util/optionError.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { loadModel } from '../io/loadModel.js';
import { checkOutputPath } from '../io/outputPaths.js';
import { foldModel } from '../fold/foldModel.js';
import { checkNotEmpty, NORMALIZE_KINDS, normalizationFor, type NormalizeKind } from './data.js';
import { checkNumber, POSITIVE_INT, showValue } from './numberRules.js';
import { evaluate, type Evaluation, maxAbsLogitDifference } from './evaluate.js';
import { detectOutputKind } from './losses.js';
import { type DoconvModelMetadata, modelMetadata, readModelMetadata } from './modelMetadata.js';
import { evaluateTask, type TaskEvaluation } from './sceneEvaluation.js';

const NON_NEGATIVE_INT = { integer: true, min: 0 };

export { modelMetadata } from './modelMetadata.js';

/** Loads a LayersModel from a model.json, or from a folder holding one (e.g. a run's checkpoint/ or folded/). */
export async function loadSavedModel(modelPath: string): Promise<tf.LayersModel> {
  let file = modelPath;
  try {
    if ((await fs.stat(modelPath)).isDirectory()) file = path.join(modelPath, 'model.json');
  } catch {
    throw new Error(`model ${JSON.stringify(modelPath)}: no such file or folder`);
  }
  await checkModelJson(modelPath, file);
  return loadModel(fileSystem(file));
}

/**
 * Refuses a file that is not a model.json before parsing it, saying what it is instead: an ONNX
 * export or a safetensors checkpoint would otherwise fail as "not valid JSON: Unexpected token".
 */
async function checkModelJson(modelPath: string, file: string): Promise<void> {
  const head = Buffer.alloc(16);
  let read = 0;
  try {
    const handle = await fs.open(file, 'r');
    try {
      ({ bytesRead: read } = await handle.read(head, 0, head.length, 0));
    } finally {
      await handle.close();
    }
  } catch {
    return; // unreadable here: the loader names the file and the reason
  }
  const text = head.subarray(0, read).toString('latin1').trimStart();
  if (text.startsWith('{')) return;
  const what = /\.onnx$/i.test(file)
    ? 'an ONNX file (doconv exports ONNX for deployment; it reads TF.js models)'
    : /\.safetensors$/i.test(file)
      ? 'a safetensors checkpoint (importPytorchCheckpoint makes a model folder of it)'
      : 'not a model.json (it does not start with "{")';
  throw new Error(
    `model ${JSON.stringify(modelPath)} is ${what}; give a TF.js model.json, or a folder holding one`,
  );
}

/** Throws naming `what` when `dir` exists and is not a folder (saving into it would fail half-way). */
export async function checkFolderPath(what: string, dir: string): Promise<void> {
  const stat = await fs.stat(dir).catch(() => null);
  if (stat !== null && !stat.isDirectory()) {
    throw new Error(`${what} ${JSON.stringify(dir)} is a file, not a folder`);
  }
}

/**
 * The normalisation a model's metadata records (mean/std values, written since image folders), when
 * no other kind is asked for; undefined when it records none.
 */
function recordedNormalization(
  meta: Partial<DoconvModelMetadata>,
  asked: NormalizeKind | undefined,
): Normalization | undefined {
  if (asked !== undefined && asked !== meta.normalize) return undefined;
  return meta.normalization ?? undefined;
}

/** An image folder read for `model`: at its input size and channels, labelled by its class names. */
function imageFolderOptionsFor(model: tf.LayersModel): LoadDatasetOptions['image'] {
  const [, height, width, channels] = model.inputs[0].shape;
  const { classNames } = modelMetadata(model);
  return {
    ...(height && width ? { size: [height, width] as [number, number] } : {}),
    ...(channels === 1 || channels === 3 ? { channels } : {}),
    ...(classNames !== undefined ? { classNames } : {}),
  };
}

/** Options of `evaluateSavedModel`. */
export interface EvaluateSavedOptions {
  /** Dataset (classifiers); default the one recorded in the model's metadata, else 'mnist'. */
  dataset?: DatasetName;
  /** Folder with the dataset files (classifiers). */
  dataDir?: string;
  /** 'test' (default) or 'train'. */
  split?: 'train' | 'test';
  /** Evaluate on the first N images only (scene models: default the test count the run used). */
  limit?: number;
  batchSize?: number;
  /** Pixel normalisation (classifiers); default the one recorded in the model's metadata, else 'none'. */
  normalize?: NormalizeKind;
}

/** What `evaluateSavedModel` reports for a classifier. */
export interface SavedClassifierEvaluation extends Evaluation {
  model: string;
  dataset: DatasetName;
  split: 'train' | 'test';
  normalize: NormalizeKind;
  parameters: number;
}

/** What `evaluateSavedModel` reports for a segmentation or detection model (`task` tells). */
export interface SavedSceneEvaluation extends TaskEvaluation {
  model: string;
  split: 'train' | 'test';
  parameters: number;
}

/** What `evaluateSavedModel` reports: a scene model's has a `task`. */
export type SavedModelEvaluation = SavedClassifierEvaluation | SavedSceneEvaluation;

/**
 * Evaluates the model at `modelPath` on a data set split: a classifier on its image data set, a
 * segmentation or detection model on the mnist-scenes it was scored on (its metadata says which).
 */
export async function evaluateSavedModel(
  modelPath: string,
  opts: EvaluateSavedOptions = {},
): Promise<SavedModelEvaluation> {
  // Checked before loading, so a bad option fails fast.
  if (opts.limit !== undefined) checkNumber('limit', opts.limit, POSITIVE_INT);
  if (opts.batchSize !== undefined) checkNumber('batchSize', opts.batchSize, POSITIVE_INT);
  const split = opts.split ?? 'test';
  if (split !== 'train' && split !== 'test') {
    throw new Error(`split must be 'train' or 'test', got ${showValue(split)}`);
  }
  const meta = await readModelMetadata(modelPath);
  if (meta.task === 'segmentation' || meta.task === 'detection') {
    const given = (['dataset', 'dataDir', 'normalize'] as const).filter(
      (k) => opts[k] !== undefined,
    );
    if (given.length > 0) {
      throw new OptionError(
        given,
        (n) =>
          `${given.map((k) => n(k)).join(', ')}: not used by ${modelPath}, a ${meta.task} model (${meta.model ?? 'unknown'}); it is scored on the mnist-scenes it was trained with`,
      );
    }
  }
  const model = await loadSavedModel(modelPath);
  try {
    const own = modelMetadata(model);
    if (own.task === 'segmentation' || own.task === 'detection') {
      const scenes = await loadMnistScenes({
        split,
        count: opts.limit ?? own.testLimit,
        seed: own.sceneSeed ?? MNIST_SCENES_SEED,
      });
      const r = evaluateTask(model, scenes, own.task, {
        batchSize: opts.batchSize,
        topK: own.topK,
      });
      return { ...r, model: own.model ?? modelPath, split, parameters: model.countParams() };
    }
    const dataset = opts.dataset ?? (own.dataset as DatasetName | undefined) ?? 'mnist';
    if (!DATASET_NAMES.includes(dataset)) {
      throw new Error(`unknown dataset ${showValue(dataset)}; known: ${DATASET_NAMES.join(', ')}`);
    }
    const normalize = opts.normalize ?? (own.normalize as NormalizeKind | undefined) ?? 'none';
    if (!NORMALIZE_KINDS.includes(normalize)) {
      throw new Error(
        `normalize must be one of ${NORMALIZE_KINDS.join(', ')}, got ${showValue(normalize)}`,
      );
    }
    const ds = await loadDataset(dataset, {
      split,
      dir: opts.dataDir,
      limit: opts.limit,
      image: imageFolderOptionsFor(model),
    });
    checkNotEmpty(ds, split, opts.dataDir);
    const ev = evaluate(model, ds, {
      batchSize: opts.batchSize,
      normalize:
        recordedNormalization(own, opts.normalize) ?? normalizationFor(normalize, dataset, ds),
    });
    return { ...ev, model: modelPath, dataset, split, normalize, parameters: model.countParams() };
  } finally {
    model.dispose();
  }
}

/** Options of `foldSavedModel`. */
export interface FoldSavedOptions {
  /** Merge BatchNorms into the convs before them. Default true. */
  fuseBatchNorm?: boolean;
  /** Check the folded model against the original on this many test images of the model's dataset (0: skip). Default 0. */
  verifyImages?: number;
  dataDir?: string;
}

/** What `foldSavedModel` reports. */
export interface FoldReport {
  input: string;
  output: string;
  parameters: { before: number; after: number };
  /** max |Δ| of logits on the verification images, when verifyImages > 0. */
  maxAbsLogitDiff: number | null;
}

/** Folds the model at `input` (DO layers → standard convs, BN fused) and saves it to folder `output`. */
export async function foldSavedModel(
  input: string,
  output: string,
  opts: FoldSavedOptions = {},
): Promise<FoldReport> {
  if (opts.verifyImages !== undefined) {
    checkNumber('verifyImages', opts.verifyImages, NON_NEGATIVE_INT);
  }
  await checkFolderPath('output', output);
  await checkOutputPath('output', output, [{ what: 'input', path: input }]);
  const model = await loadSavedModel(input);
  let folded: tf.LayersModel | undefined;
  try {
    folded = foldModel(model, { fuseBatchNorm: opts.fuseBatchNorm ?? true });
    const meta = modelMetadata(model);
    folded.setUserDefinedMetadata({ doconv: { ...meta, folded: true } });
    let maxDiff: number | null = null;
    const { task } = meta;
    if ((opts.verifyImages ?? 0) > 0 && (task === 'segmentation' || task === 'detection')) {
      // A segmentation or detection model: checked on the mnist-scenes it was tested on.
      const scenes = await loadMnistScenes({
        split: 'test',
        count: opts.verifyImages,
        seed: meta.sceneSeed,
      });
      maxDiff = evaluateTask(model, scenes, task, { compareWith: folded }).maxAbsOutputDiff!;
    } else if ((opts.verifyImages ?? 0) > 0) {
      const dataset = (meta.dataset as DatasetName | undefined) ?? 'mnist';
      const test = await loadDataset(dataset, {
        split: 'test',
        dir: opts.dataDir,
        limit: opts.verifyImages,
        image: imageFolderOptionsFor(model),
      });
      const normalize =
        recordedNormalization(meta, undefined) ??
        normalizationFor((meta.normalize as NormalizeKind | undefined) ?? 'none', dataset, test);
      detectOutputKind(model); // fails early on multi-output models
      maxDiff = maxAbsLogitDifference(model, folded, test, { normalize });
    }
    await folded.save(fileSystem(output));
    return {
      input,
      output,
      parameters: { before: model.countParams(), after: folded.countParams() },
      maxAbsLogitDiff: maxDiff,
    };
  } finally {
    model.dispose();
    folded?.dispose();
  }
}
