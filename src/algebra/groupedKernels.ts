import * as tf from '@tensorflow/tfjs';

/**
 * A grouped kernel [M, N, C/g, F] as the equivalent dense kernel [M, N, C, F], zero outside the
 * diagonal blocks, so a standard Conv2D computes the grouped conv. It costs g× the multiply-adds
 * of a true grouped conv; tfjs-layers has no grouped Conv2D and no channel-slice layer to do better.
 */
export function blockDiagonalKernel(kernel: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [, , cPerGroup, filters] = kernel.shape;
  if (filters % groups !== 0) {
    throw new Error(`blockDiagonalKernel: filters ${filters} not divisible by groups ${groups}`);
  }
  if (groups === 1) return tf.clone(kernel);
  return tf.tidy(() => {
    const blocks = tf.split(kernel, groups, 3).map((block, g) =>
      tf.pad(block, [
        [0, 0],
        [0, 0],
        [g * cPerGroup, (groups - 1 - g) * cPerGroup],
        [0, 0],
      ]),
    );
    return tf.concat(blocks, 3) as tf.Tensor4D;
  });
}

/** The identity 1×1 kernel [1, 1, C, C]: a pointwise conv that changes nothing. */
export function identityPointwiseKernel(channels: number): tf.Tensor4D {
  return tf.tidy(() => tf.reshape(tf.eye(channels), [1, 1, channels, channels]) as tf.Tensor4D);
}
