/** Measurements on a Dataset: accuracy, and the largest output difference between two models. */
import * as tf from '@tensorflow/tfjs';
import { batches, type Dataset, type ZooOutput } from '../../src/index.js';
import { yieldToBrowser } from './dom.js';

const EVAL_BATCH = 250;

/** Class probabilities of `model` on `xs` (softmax applied to logits models). */
export function probabilities(
  model: tf.LayersModel,
  output: ZooOutput,
  xs: tf.Tensor,
): tf.Tensor2D {
  return tf.tidy(() => {
    const y = model.predict(xs) as tf.Tensor2D;
    return output === 'logits' ? tf.softmax(y) : y;
  });
}

/** Fraction of `ds` that `model` classifies correctly. */
export async function accuracy(model: tf.LayersModel, ds: Dataset): Promise<number> {
  let correct = 0;
  for (const { xs, ys } of batches(ds, EVAL_BATCH, { labels: 'int' })) {
    const hits = tf.tidy(() => tf.equal(tf.argMax(model.predict(xs) as tf.Tensor, -1), ys).sum());
    correct += (await hits.data())[0];
    tf.dispose([xs, ys, hits]);
    await yieldToBrowser();
  }
  return correct / ds.count;
}

/** max |a(x) − b(x)| over every output of every example of `ds`. */
export async function maxAbsDifference(
  a: tf.LayersModel,
  b: tf.LayersModel,
  ds: Dataset,
): Promise<number> {
  let max = 0;
  for (const { xs, ys } of batches(ds, EVAL_BATCH)) {
    const d = tf.tidy(() =>
      tf
        .sub(a.predict(xs) as tf.Tensor, b.predict(xs) as tf.Tensor)
        .abs()
        .max(),
    );
    max = Math.max(max, (await d.data())[0]);
    tf.dispose([xs, ys, d]);
    await yieldToBrowser();
  }
  return max;
}
