/**
 * Test-set evaluation (loss, accuracy) and the DO-Conv vs folded comparison on logits.
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

/** Runs `model` in inference mode (BatchNorm uses its moving statistics) over all of `ds`. */
export function evaluate(
  model: tf.LayersModel,
  ds: Dataset,
  opts: EvaluateOptions = {},
): Evaluation {
  const kind = opts.outputKind ?? detectOutputKind(model);
  let lossSum = 0;
  let correct = 0;
  for (const { xs, ys, size } of batches(ds, opts.batchSize ?? 256, {
    normalize: opts.normalize,
  })) {
    const [loss, right] = tf.tidy(() =>
      lossAndCorrect(ys, model.apply(xs, { training: false }) as tf.Tensor, kind),
    );
    tf.dispose([xs, ys]);
    lossSum += loss * size;
    correct += right;
  }
  return { loss: lossSum / ds.count, accuracy: correct / ds.count, count: ds.count };
}

/** Mean loss and number of correct rows of one batch's outputs (call inside tidy). */
function lossAndCorrect(ys: tf.Tensor, out: tf.Tensor, kind: OutputKind): [number, number] {
  return [crossEntropy(ys, out, kind).dataSync()[0], correctCount(ys, out).dataSync()[0]];
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
  return compareOnLogits(a, b, ds, opts, false).maxAbsLogitDiff;
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
  return compareOnLogits(model, folded, ds, opts, true);
}

function compareOnLogits(
  a: tf.LayersModel,
  b: tf.LayersModel,
  ds: Dataset,
  opts: EvaluateOptions,
  evaluateB: boolean,
): FoldedEvaluation {
  const kind = opts.outputKind ?? detectOutputKind(b);
  const la = logitsModel(a);
  const lb = logitsModel(b);
  let max = 0;
  let lossSum = 0;
  let correct = 0;
  try {
    for (const { xs, ys, size } of batches(ds, opts.batchSize ?? 256, {
      normalize: opts.normalize,
    })) {
      const [d, loss, right] = tf.tidy(() => {
        const ya = la.apply(xs, { training: false }) as tf.Tensor;
        const out = evaluateB || lb === b ? (b.apply(xs, { training: false }) as tf.Tensor) : null;
        const yb = lb === b ? out! : (lb.apply(xs, { training: false }) as tf.Tensor);
        const diff = tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0];
        return [diff, ...(evaluateB ? lossAndCorrect(ys, out!, kind) : [0, 0])];
      });
      tf.dispose([xs, ys]);
      max = Math.max(max, d);
      lossSum += loss * size;
      correct += right;
    }
  } finally {
    if (la !== a) la.dispose();
    if (lb !== b) lb.dispose();
  }
  return {
    loss: lossSum / ds.count,
    accuracy: correct / ds.count,
    count: ds.count,
    maxAbsLogitDiff: max,
  };
}
