import * as tf from '@tensorflow/tfjs';

/** The inference-time parameters of a BatchNormalization over the last (channel) axis. */
export interface BatchNormParams {
  gamma: tf.Tensor1D | null;
  beta: tf.Tensor1D | null;
  movingMean: tf.Tensor1D;
  movingVariance: tf.Tensor1D;
  epsilon: number;
}

/**
 * Merge BN(conv(x, K) + b) into one conv: with s = γ / √(σ² + ε),
 *   K' = K · s (per output channel),   b' = β + (b − μ) · s.
 *
 * `kernel` is [M, N, C_in/g, F] (conv layout: outputs on the last axis) or, with
 * `layout: 'depthwise'`, [M, N, C, multiplier] whose output channel is c·multiplier + q.
 */
export function fuseBatchNorm(
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  bn: BatchNormParams,
  layout: 'conv' | 'depthwise' = 'conv',
): { kernel: tf.Tensor4D; bias: tf.Tensor1D } {
  const outputs = layout === 'conv' ? kernel.shape[3] : kernel.shape[2] * kernel.shape[3];
  if (bn.movingMean.shape[0] !== outputs) {
    throw new Error(
      `fuseBatchNorm: BatchNormalization has ${bn.movingMean.shape[0]} channels but the kernel ` +
        `${JSON.stringify(kernel.shape)} (${layout}) has ${outputs} outputs`,
    );
  }
  return tf.tidy(() => {
    const gamma = bn.gamma ?? tf.ones([outputs]);
    const beta = bn.beta ?? tf.zeros([outputs]);
    const scale = tf.div(gamma, tf.sqrt(tf.add(bn.movingVariance, bn.epsilon))) as tf.Tensor1D;
    const scaleForKernel = layout === 'conv' ? scale : tf.reshape(scale, kernel.shape.slice(2));
    const fusedKernel = tf.mul(kernel, scaleForKernel) as tf.Tensor4D;
    const shifted = bias ? tf.sub(bias, bn.movingMean) : tf.neg(bn.movingMean);
    const fusedBias = tf.add(beta, tf.mul(shifted, scale)) as tf.Tensor1D;
    return { kernel: fusedKernel, bias: fusedBias };
  });
}
