/**
 * Non-finite values in a training step: detected at the step they appear, before the update, so the
 * weights, the optimizer state and the BatchNorm statistics stay as they were before that step.
 */
import * as tf from '@tensorflow/tfjs';

/** A step whose loss or gradient is NaN or ±Infinity; nothing was applied. */
export class NonFiniteError extends Error {
  constructor(
    /** e.g. "the loss is NaN" or "the gradient of 'conv1/kernel' has NaN or Infinity values" */
    readonly what: string,
  ) {
    super(what);
    this.name = 'NonFiniteError';
  }
}

/**
 * One scalar that is finite exactly when `loss` and every gradient are (bar a sum overflowing past
 * float32's 3.4e38, which is a divergence too): loss + Σ_g Σ g. One reduction per gradient and one
 * value to read, so the check costs a pass over the parameters, not over the activations.
 */
export function finiteProbe(loss: tf.Scalar, grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.addN([loss, ...grads.map((g) => tf.sum(g))]) as tf.Scalar);
}

/** Which of loss/gradients is non-finite, for the error (runs only once a probe failed). */
export function describeNonFinite(
  loss: number,
  grads: readonly { name: string; values: ArrayLike<number> }[],
): string {
  if (!Number.isFinite(loss)) return `the loss is ${loss}`;
  for (const g of grads) {
    for (let i = 0; i < g.values.length; i++) {
      if (!Number.isFinite(g.values[i])) {
        return `the gradient of '${g.name}' has a non-finite value (${g.values[i]} at index ${i})`;
      }
    }
  }
  return 'the sum of the gradients overflows float32';
}

/** True when every value is finite (host arrays: the parallel trainer's gradients). */
export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
