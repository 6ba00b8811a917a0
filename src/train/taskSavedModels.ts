/**
 * `doconv eval` for a saved segmentation or detection model: its metadata (written by
 * trainTaskModel) says the task and which mnist-scenes test set it was scored on. Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { loadMnistScenes, MNIST_SCENES_SEED } from '../data/mnistScenes.js';
import { loadSavedModel, modelMetadata } from './savedModels.js';
import { evaluateTask, type TaskEvaluation } from './taskEvaluate.js';

/** What trainTaskModel records in a saved model's userDefinedMetadata.doconv. */
export interface TaskModelMetadata {
  model: string;
  task: 'segmentation' | 'detection';
  conv: string;
  dataset: string;
  sceneSeed: number;
  testCount: number;
  topK: number;
  folded: boolean;
}

/** The task a saved model was trained for, from its metadata (null: a classifier or unknown). */
export function savedModelTask(model: tf.LayersModel): TaskModelMetadata | null {
  const meta = modelMetadata(model) as Partial<TaskModelMetadata>;
  return meta.task === 'segmentation' || meta.task === 'detection'
    ? (meta as TaskModelMetadata)
    : null;
}

/** The task recorded in a saved model.json (a file, or a folder holding one), without loading weights. */
export async function readSavedModelTask(modelPath: string): Promise<TaskModelMetadata | null> {
  let file = modelPath;
  try {
    if ((await fs.stat(modelPath)).isDirectory()) file = path.join(modelPath, 'model.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as {
      userDefinedMetadata?: { doconv?: Partial<TaskModelMetadata> };
    };
    const meta = json.userDefinedMetadata?.doconv;
    return meta?.task === 'segmentation' || meta?.task === 'detection'
      ? (meta as TaskModelMetadata)
      : null;
  } catch {
    return null; // not readable here: loadSavedModel reports it
  }
}

/** Options of {@link evaluateSavedTaskModel}. */
export interface EvaluateSavedTaskOptions {
  split?: 'train' | 'test';
  /** Scenes to score (default: the test count the run used). */
  limit?: number;
  batchSize?: number;
}

/** Scores a saved task model on the mnist-scenes split it was trained with (same scene seed). */
export async function evaluateSavedTaskModel(
  modelPath: string,
  opts: EvaluateSavedTaskOptions = {},
): Promise<TaskEvaluation & { model: string; split: string; parameters: number }> {
  const model = await loadSavedModel(modelPath);
  try {
    const meta = savedModelTask(model);
    if (meta === null) {
      throw new Error(
        `${modelPath}: not a segmentation or detection model trained by doconv (no task in its metadata)`,
      );
    }
    const split = opts.split ?? 'test';
    const scenes = await loadMnistScenes({
      split,
      count: opts.limit ?? meta.testCount,
      seed: meta.sceneSeed ?? MNIST_SCENES_SEED,
    });
    const r = evaluateTask(model, scenes, meta.task, {
      batchSize: opts.batchSize,
      topK: meta.topK,
    });
    return { ...r, model: meta.model, split, parameters: model.countParams() };
  } finally {
    model.dispose();
  }
}
