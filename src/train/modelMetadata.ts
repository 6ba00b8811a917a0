/**
 * What a model saved by doconv records about itself (userDefinedMetadata.doconv in its model.json),
 * so `evaluateSavedModel` and `foldSavedModel` know its inputs and how to score it: one typed
 * record, written by the trainer (for every task) and by importPytorchCheckpoint.
 */
import type * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Normalization } from '../data/batches.js';
import type { DenseTask } from '../data/sceneBatches.js';
import type { OutputKind } from './losses.js';

/** userDefinedMetadata.doconv of a saved model. */
export interface DoconvModelMetadata {
  model: string;
  /** A scene model's task; absent for a classifier. */
  task?: DenseTask;
  conv: string;
  dataset: string;
  /** Scene models: the seed of the generated scenes they were scored on. */
  sceneSeed?: number;
  /** Scene models: how many test scenes they were scored on. */
  testLimit?: number;
  /** Detection models: detections kept per image when scoring. */
  topK?: number;
  normalize: string;
  outputKind: OutputKind;
  folded: boolean;
  /** The class of each output, index = label, when the data set names them (an image folder's folders). */
  classNames?: string[];
  /**
   * The per-channel mean/std the inputs were normalised with after /255 (null: pixels/255 only).
   * Absent in models saved before it was recorded.
   */
  normalization?: Normalization | null;
}

/** Records `meta` in `model` (saved with it). */
export function setModelMetadata(model: tf.LayersModel, meta: DoconvModelMetadata): void {
  model.setUserDefinedMetadata({ doconv: meta as unknown as object });
}

/** The doconv metadata a trained model was saved with, if any. */
export function modelMetadata(model: tf.LayersModel): Partial<DoconvModelMetadata> {
  const meta = model.getUserDefinedMetadata() as { doconv?: object } | undefined;
  return fromRecord(meta?.doconv);
}

/**
 * The doconv metadata of the model.json at `modelPath` (a file, or a folder holding one), read
 * without loading weights; {} when it has none or cannot be read here (loading reports that).
 */
export async function readModelMetadata(modelPath: string): Promise<Partial<DoconvModelMetadata>> {
  try {
    const isFolder = (await fs.stat(modelPath)).isDirectory();
    const file = isFolder ? path.join(modelPath, 'model.json') : modelPath;
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as {
      userDefinedMetadata?: { doconv?: object };
    };
    return fromRecord(json.userDefinedMetadata?.doconv);
  } catch {
    return {};
  }
}

/** A record as saved, with the names of models saved before `testLimit` was so called. */
function fromRecord(record: object | undefined): Partial<DoconvModelMetadata> {
  if (record === undefined || record === null) return {};
  const { testCount, ...rest } = record as Partial<DoconvModelMetadata> & { testCount?: number };
  return testCount !== undefined && rest.testLimit === undefined
    ? { ...rest, testLimit: testCount }
    : rest;
}
