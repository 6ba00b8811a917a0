/**
 * Losses of the dense tasks, on the targets of data/sceneBatches.ts.
 *
 * - `pixelCrossEntropy`: mean over the labelled pixels of −log softmax(logits)[label]; pixels labelled
 *   255 (ignore) or any value ≥ K count for nothing.
 * - `centerNetLoss` (Zhou et al. 2019): the penalty-reduced pixel-wise focal loss on the heatmap
 *   (α = 2, β = 4) + 0.1 · L1 of the box size + 1 · L1 of the centre offset, the L1 terms only at
 *   object centres, everything divided by the number of objects (at least 1).
 */
import * as tf from '@tensorflow/tfjs';
import { formatValue } from '../util/formatValue.js';

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
    const nll = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1));
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
