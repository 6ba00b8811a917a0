/**
 * Gradient of FusedBatchNorm on wasm with per-channel parameters, in 4 full-size passes instead
 * of tfjs-core's ~15. With r = rsqrt(var + ε), γ the scale (1 if absent), sums over N, H, W:
 *   dx = γr·dy            dβ = Σdy              dγ = r·Σ dy(x − μ)
 *   dμ = −γr·Σdy          dσ² = −½γr³·Σ dy(x − μ)
 * (the same formulas as tfjs-core's, with the per-channel factors pulled out of the sums).
 * The two sums are computed once, when the tape asks for this node's gradients: the tape evaluates
 * each input's gradient in its own tidy, so they cannot be shared lazily. They are C values each.
 * Other backends and non-per-channel parameters keep tfjs-core's gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { ENGINE_BACKENDS } from '../../util/dilatedConvGradients.js';
import { BATCH_NORM_GRAD_SUMS } from '../fusedGradientOps.js';
import type { GradientReplacement } from './gradientReplacement.js';

/** Σdy and Σdy·(x − μ) per channel: one native pass where the backend has it, else three ops. */
function gradientSums(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor, axes: number[]): tf.Tensor[] {
  if (
    tf.getKernel(BATCH_NORM_GRAD_SUMS, tf.getBackend()) != null &&
    [dy, x, mean].every((t) => t.dtype === 'float32')
  ) {
    return tf.engine().runKernel(BATCH_NORM_GRAD_SUMS, { dy, x, mean }, {}) as tf.Tensor[];
  }
  return [tf.sum(dy, axes), tf.tidy(() => tf.sum(tf.mul(dy, tf.sub(x, mean)), axes))];
}

export const fusedBatchNormGrad: GradientReplacement = {
  kernelName: tf.FusedBatchNorm,
  replace: (original) => ({
    kernelName: tf.FusedBatchNorm,
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dyIn, saved, attrs) => {
      const dy = dyIn as tf.Tensor;
      const [x, mean, variance, scale] = saved;
      const c = x.shape[x.shape.length - 1];
      const vector = (t: tf.Tensor | undefined) => t == null || (t.rank === 1 && t.shape[0] === c);
      if (
        !ENGINE_BACKENDS.includes(tf.getBackend()) ||
        x.rank !== 4 ||
        ![mean, variance, scale].every(vector)
      ) {
        return original.gradFunc(dy, saved, attrs);
      }
      const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
      const axes = [0, 1, 2];
      const r = tf.rsqrt(tf.add(variance, varianceEpsilon));
      const gr = scale == null ? r : tf.mul(scale, r);
      const [sumDy, sumDyXc] = gradientSums(dy, x, mean, axes);
      return {
        x: () => tf.mul(dy, gr),
        mean: () => tf.neg(tf.mul(gr, sumDy)),
        variance: () => tf.mul(tf.mul(gr, tf.mul(tf.square(r), -0.5)), sumDyXc),
        scale: () => tf.mul(sumDyXc, r),
        offset: () => tf.reshape(sumDy, mean.shape),
      };
    },
  }),
};
