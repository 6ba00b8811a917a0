/**
 * Cross-entropy for both kinds of classifier head in the zoo: the TF sample ends in softmax
 * (probabilities), the PyTorch and Gluon samples end in raw scores (logits; F.cross_entropy and
 * SoftmaxCrossEntropyLoss apply the softmax themselves).
 */
import * as tf from '@tensorflow/tfjs';

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
    if (kind === 'logits') return tf.losses.softmaxCrossEntropy(ys, outputs) as tf.Scalar;
    const eps = 1e-7;
    const p = tf.clipByValue(outputs, eps, 1 - eps);
    return tf.mean(tf.neg(tf.sum(tf.mul(ys, tf.log(p)), -1))) as tf.Scalar;
  });
}

/** How many rows of `outputs` have their argmax at the one-hot label (as an int32 scalar). */
export function correctCount(ys: tf.Tensor, outputs: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () =>
      tf.sum(tf.cast(tf.equal(tf.argMax(outputs, -1), tf.argMax(ys, -1)), 'int32')) as tf.Scalar,
  );
}
