/**
 * Evaluation: the one loop that scores a model on a data set's batches, alone or beside a second
 * model (the folded one) whose outputs it compares (scoreBatches); a classifier's scorer (loss,
 * accuracy) and its evaluation and DO-Conv vs folded comparison on logits. The segmentation and
 * detection scorers are in sceneEvaluation.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { batches, type Normalization } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { correctCount, crossEntropy, detectOutputKind, type OutputKind } from './losses.js';

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Images per forward pass. Default 256 (evaluation only needs activations, no gradients). */
  batchSize?: number;
  /** Pixel normalisation the model was trained with (undefined: pixels/255). */
  normalize?: Normalization;
  /** What the output holds; detected from the last layer when omitted. */
  outputKind?: OutputKind;
}

/** Mean loss and accuracy (a fraction 0..1) over a dataset. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/**
 * Adds one batch of a model's outputs to a running score (called inside tidy). `first` is the index
 * of the batch's first example in the data set (a detector's scorer looks up the boxes).
 */
export interface Scorer<R> {
  add(ys: tf.Tensor, out: tf.Tensor, size: number, first: number): void;
  result(): R;
}

/** What {@link scoreBatches} reports. */
export interface ScoredBatches<R> {
  /** The model's score (null without a scorer). */
  own: R | null;
  /** The compared model's score (null without one). */
  other: R | null;
  /** max |view(model)(x) − view(other)(x)| over every output value (0 without a compared model). */
  maxAbsDiff: number;
}

/** A second model run on the same batches: its scorer, and the views whose outputs are compared. */
export interface ComparedModel<R> {
  model: tf.LayersModel;
  scorer: Scorer<R> | null;
  /**
   * The model whose outputs are compared (e.g. logitsModel: a softmax head's probabilities would hide
   * differences); default the model itself. A view other than the model is disposed here.
   */
  view?: (model: tf.LayersModel) => tf.LayersModel;
}

/**
 * The one evaluation loop, whatever the task: runs `model` in inference mode (BatchNorm uses its
 * moving statistics) over `stream`, adding its outputs to `scorer`; with `compare`, also that model
 * on the same batches, and the largest difference between their outputs. Disposes the batches.
 */
export function scoreBatches<R>(
  model: tf.LayersModel,
  stream: Iterable<{ xs: tf.Tensor; ys: tf.Tensor; size: number }>,
  scorer: Scorer<R> | null,
  compare?: ComparedModel<R>,
): ScoredBatches<R> {
  const view = compare?.view ?? ((m: tf.LayersModel) => m);
  const views = compare ? [view(model), view(compare.model)] : [];
  let maxAbsDiff = 0;
  let first = 0;
  try {
    for (const { xs, ys, size } of stream) {
      try {
        tf.tidy(() => {
          const run = (m: tf.LayersModel) => m.apply(xs, { training: false }) as tf.Tensor;
          const out = scorer !== null || views[0] === model ? run(model) : null;
          if (scorer !== null) scorer.add(ys, out!, size, first);
          if (compare === undefined) return;
          const other =
            compare.scorer !== null || views[1] === compare.model ? run(compare.model) : null;
          if (compare.scorer !== null) compare.scorer.add(ys, other!, size, first);
          const a = views[0] === model ? out! : run(views[0]);
          const b = views[1] === compare.model ? other! : run(views[1]);
          maxAbsDiff = Math.max(maxAbsDiff, tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
        });
      } finally {
        tf.dispose([xs, ys]);
      }
      first += size;
    }
  } finally {
    if (compare !== undefined) {
      if (views[0] !== model) views[0].dispose();
      if (views[1] !== compare.model) views[1].dispose();
    }
  }
  return {
    own: scorer?.result() ?? null,
    other: compare?.scorer?.result() ?? null,
    maxAbsDiff,
  };
}

/** A classifier's mean loss and accuracy over `count` examples. */
export function accuracyScorer(kind: OutputKind, count: number): Scorer<Evaluation> {
  let lossSum = 0;
  let correct = 0;
  return {
    add(ys, out, size) {
      lossSum += crossEntropy(ys, out, kind).dataSync()[0] * size;
      correct += correctCount(ys, out).dataSync()[0];
    },
    result: () => ({ loss: lossSum / count, accuracy: correct / count, count }),
  };
}

/** Runs `model` in inference mode (BatchNorm uses its moving statistics) over all of `ds`. */
export function evaluate(
  model: tf.LayersModel,
  ds: Dataset,
  opts: EvaluateOptions = {},
): Evaluation {
  const kind = opts.outputKind ?? detectOutputKind(model);
  const stream = batches(ds, opts.batchSize ?? 256, { normalize: opts.normalize });
  return scoreBatches(model, stream, accuracyScorer(kind, ds.count)).own!;
}

/**
 * A model computing `model`'s logits: the same model when it already outputs logits; when its last
 * layer applies softmax, a copy (sharing no variables) with that activation set to linear.
 * Comparing logits rather than probabilities keeps saturated softmax outputs from hiding differences.
 */
export function logitsModel(model: tf.LayersModel): tf.LayersModel {
  if (detectOutputKind(model) === 'logits') return model;
  const layer = model.outputs[0].sourceLayer;
  if (layer.getClassName() === 'Softmax') {
    // A separate Softmax layer: its input is the logits.
    return tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
  }
  const config = JSON.parse(JSON.stringify(model.getConfig())) as {
    layers: Array<{ config: { name: string; activation?: string } }>;
  };
  const entry = config.layers.find((e) => e.config.name === layer.name);
  if (!entry)
    throw new Error(
      `logitsModel: output layer ${JSON.stringify(layer.name)} is missing from the config`,
    );
  entry.config.activation = 'linear';
  const dict = config as unknown as tf.serialization.ConfigDict;
  const copy = (
    model instanceof tf.Sequential
      ? tf.Sequential.fromConfig(tf.Sequential, dict)
      : tf.LayersModel.fromConfig(tf.LayersModel, dict)
  ) as tf.LayersModel;
  copy.setWeights(model.getWeights());
  return copy;
}

/**
 * max |a(x) − b(x)| over every logit of every image of `ds`: how far a folded model is from the
 * model it was folded from.
 */
export function maxAbsLogitDifference(
  a: tf.LayersModel,
  b: tf.LayersModel,
  ds: Dataset,
  opts: Pick<EvaluateOptions, 'batchSize' | 'normalize'> = {},
): number {
  const stream = batches(ds, opts.batchSize ?? 256, { normalize: opts.normalize });
  return scoreBatches(a, stream, null, { model: b, scorer: null, view: logitsModel }).maxAbsDiff;
}

/** `evaluate(folded)` and `maxAbsLogitDifference(model, folded)`. */
export interface FoldedEvaluation extends Evaluation {
  maxAbsLogitDiff: number;
}

/**
 * `evaluate(folded, ds)` and `maxAbsLogitDifference(model, folded, ds)` in one pass over `ds`: a
 * logits head's output serves both, so a zoo ResNet's test set runs through each model once.
 */
export function evaluateFolded(
  model: tf.LayersModel,
  folded: tf.LayersModel,
  ds: Dataset,
  opts: EvaluateOptions = {},
): FoldedEvaluation {
  const kind = opts.outputKind ?? detectOutputKind(folded);
  const stream = batches(ds, opts.batchSize ?? 256, { normalize: opts.normalize });
  const scorer = accuracyScorer(kind, ds.count);
  const r = scoreBatches(model, stream, null, { model: folded, scorer, view: logitsModel });
  return { ...r.other!, maxAbsLogitDiff: r.maxAbsDiff };
}
