/**
 * The losses the trainer minimises, one per task (the task values pick theirs, trainingTask.ts):
 *
 * - classification: `crossEntropy` for both kinds of classifier head in the zoo: the TF sample ends
 *   in softmax (probabilities), the PyTorch and Gluon samples end in raw scores (logits;
 *   F.cross_entropy and SoftmaxCrossEntropyLoss apply the softmax themselves).
 * - segmentation: `pixelCrossEntropy`, mean over the labelled pixels of −log softmax(logits)[label];
 *   pixels labelled 255 (ignore) or any value ≥ K count for nothing.
 * - detection: `centerNetLoss` (Zhou et al. 2019), the penalty-reduced pixel-wise focal loss on the
 *   heatmap (α = 2, β = 4) + 0.1 · L1 of the box size + 1 · L1 of the centre offset, the L1 terms
 *   only at object centres, everything divided by the number of objects (at least 1).
 *
 * Browser-safe (tfjs only).
 */
import * as tf from '@tensorflow/tfjs';
import { engineRoutes } from '../util/engineRoutes.js';
import { formatValue } from '../util/formatValue.js';
import { SOFTMAX_CROSS_ENTROPY } from '../util/softmaxCrossEntropyOp.js';

/** What the model's output holds. */
export type OutputKind = 'probabilities' | 'logits';

/** 'probabilities' when the last layer applies softmax, else 'logits'. */
export function detectOutputKind(model: tf.LayersModel): OutputKind {
  if (model.outputs.length !== 1) {
    throw new Error(
      `${model.name}: the trainer needs a model with one output, got ${model.outputs.length}`,
    );
  }
  const layer = model.outputs[0].sourceLayer;
  const config = layer.getConfig();
  const isSoftmax = layer.getClassName() === 'Softmax' || config.activation === 'softmax';
  return isSoftmax ? 'probabilities' : 'logits';
}

/**
 * Mean cross-entropy of one-hot `ys` against `outputs`. For probabilities it clips to [ε, 1−ε] like
 * Keras's categorical_crossentropy; for logits it is the numerically stable log-softmax form.
 */
export function crossEntropy(ys: tf.Tensor, outputs: tf.Tensor, kind: OutputKind): tf.Scalar {
  return tf.tidy(() => {
    if (kind === 'logits') {
      return oneOpCrossEntropy(outputs)
        ? (tf.mean(oneOpRowCrossEntropy(ys, outputs)) as tf.Scalar)
        : (tf.losses.softmaxCrossEntropy(ys, outputs) as tf.Scalar);
    }
    const eps = 1e-7;
    const p = tf.clipByValue(outputs, eps, 1 - eps);
    return tf.mean(tf.neg(tf.sum(tf.mul(ys, tf.log(p)), -1))) as tf.Scalar;
  });
}

/** Whether the backend runs softmax cross-entropy as one op (the native engine) for `logits`. */
function oneOpCrossEntropy(logits: tf.Tensor): boolean {
  return logits.dtype === 'float32' && logits.rank >= 1 && engineRoutes().softmaxCrossEntropy;
}

/**
 * −Σ labels · log softmax(logits) over the last axis, one value a row: one op (forward and
 * gradient) on the native engine, TF.js's ops elsewhere. The same function either way (the op's
 * sums run in double: ~1e-7 apart).
 */
export function rowCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return oneOpCrossEntropy(logits)
    ? oneOpRowCrossEntropy(labels, logits)
    : tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1));
}

/** The native engine's op (oneOpCrossEntropy says where it runs): per-row losses. */
function oneOpRowCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const inputs = {
    labels: labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32'),
    logits,
  };
  const [loss] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, inputs) as tf.Tensor[];
  return loss;
}

/** How many rows of `outputs` have their argmax at the one-hot label (as an int32 scalar). */
export function correctCount(ys: tf.Tensor, outputs: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () =>
      tf.sum(tf.cast(tf.equal(tf.argMax(outputs, -1), tf.argMax(ys, -1)), 'int32')) as tf.Scalar,
  );
}

/** Mean cross-entropy of int32 labels [B, H, W] against logits [B, H, W, K], ignoring labels ≥ K. */
export function pixelCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  const k = logits.shape[logits.rank - 1];
  if (labels.rank !== logits.rank - 1 || labels.shape.some((d, i) => d !== logits.shape[i])) {
    throw new Error(
      `pixelCrossEntropy: labels ${formatValue(labels.shape)} must be logits ${formatValue(logits.shape)} without the class axis`,
    );
  }
  return tf.tidy(() => {
    const valid = tf.cast(tf.less(labels, tf.scalar(k, 'int32')), 'float32');
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), k); // labels ≥ K give an all-zero row
    const nll = rowCrossEntropy(oneHot, logits);
    return tf.div(tf.sum(tf.mul(nll, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/** The three CenterNet terms and their weighted sum. */
export interface CenterNetLossTerms {
  total: tf.Scalar;
  heatmap: tf.Scalar;
  size: tf.Scalar;
  offset: tf.Scalar;
}

/** Weights of the size and offset terms (CenterNet's defaults). */
export const CENTERNET_LOSS_WEIGHTS = { size: 0.1, offset: 1 } as const;

/**
 * CenterNet's loss of heads [B, h, w, K + 4] (heatmap logits, size, offset) against targets
 * [B, h, w, K + 5] (heatmap, size, offset, centre mask).
 */
export function centerNetLossTerms(targets: tf.Tensor, heads: tf.Tensor): CenterNetLossTerms {
  const k = heads.shape[3]! - 4;
  if (
    heads.rank !== 4 ||
    targets.rank !== 4 ||
    targets.shape[3] !== k + 5 ||
    k < 1 ||
    targets.shape.slice(0, 3).some((d, i) => d !== heads.shape[i])
  ) {
    throw new Error(
      `centerNetLoss: targets ${formatValue(targets.shape)} must be heads ${formatValue(heads.shape)} with one more channel (classes + 5)`,
    );
  }
  return tf.tidy(() => {
    const [gt, gtSize, gtOffset, mask] = tf.split(targets, [k, 2, 2, 1], 3);
    const [logits, size, offset] = tf.split(heads, [k, 2, 2], 3);
    const numPos = tf.maximum(tf.sum(mask), 1);
    // log σ(z) = −softplus(−z) and log(1 − σ(z)) = −softplus(z), stable for large |z|. (Not
    // tf.logSigmoid: its custom gradient loses a saved tensor when called inside a tidy under a tape.)
    const logP = tf.neg(tf.softplus(tf.neg(logits)));
    const log1mP = tf.neg(tf.softplus(logits));
    const p = tf.sigmoid(logits);
    const pos = tf.cast(tf.equal(gt, 1), 'float32');
    const neg = tf.sub(1, pos);
    const posLoss = tf.mul(tf.mul(logP, tf.square(tf.sub(1, p))), pos);
    const negWeight = tf.pow(tf.sub(1, gt), 4);
    const negLoss = tf.mul(tf.mul(tf.mul(log1mP, tf.square(p)), negWeight), neg);
    const heatmap = tf.div(tf.neg(tf.add(tf.sum(posLoss), tf.sum(negLoss))), numPos) as tf.Scalar;
    const l1 = (a: tf.Tensor, b: tf.Tensor) =>
      tf.div(tf.sum(tf.mul(tf.abs(tf.sub(a, b)), mask)), numPos) as tf.Scalar;
    const sizeLoss = l1(size, gtSize);
    const offsetLoss = l1(offset, gtOffset);
    const total = tf.addN([
      heatmap,
      tf.mul(sizeLoss, CENTERNET_LOSS_WEIGHTS.size),
      tf.mul(offsetLoss, CENTERNET_LOSS_WEIGHTS.offset),
    ]) as tf.Scalar;
    return { total, heatmap, size: sizeLoss, offset: offsetLoss };
  });
}

/** The weighted CenterNet loss (what the trainer minimises). */
export function centerNetLoss(targets: tf.Tensor, heads: tf.Tensor): tf.Scalar {
  return tf.tidy(() => centerNetLossTerms(targets, heads).total);
}
