import * as tf from '@tensorflow/tfjs';

/**
 * The kernels the OFFICIAL DO-Conv layers compute. They agree with the DO-Conv definition
 * (composeKernel) for groups = 1 and for depthwise layers, except where noted; elsewhere their W
 * reshape ties D to other input channels. Importers use these to reproduce an official model exactly.
 * Contractions as batched matMuls: tf.einsum has no kernel on wasm and no gradient in TF.js.
 */

/**
 * Official Keras DOConv2D: W [dMul, C/g, F] viewed as [dMul, C, F/g];
 * K' [m, i, q] = Σ_s D̂[m, s, i] · W'[s, i, q], viewed as [M, N, C/g, F].
 * Departs from the definition for 1 < groups < C.
 */
export function officialKerasKernel(
  weight: tf.Tensor3D,
  dHat: tf.Tensor3D | null,
  kernelSize: [number, number],
  groups: number,
): tf.Tensor4D {
  const [M, N] = kernelSize;
  const [dMul, cPerGroup, filters] = weight.shape;
  return tf.tidy(() => {
    if (!dHat) return tf.reshape(weight, [M, N, cPerGroup, filters]);
    const inChannels = cPerGroup * groups;
    const w = tf.reshape(weight, [dMul, inChannels, filters / groups]);
    // out[m,i,o] = Σ_s D̂[m,s,i]·w[s,i,o]: a matMul per input channel i.
    const perChannel = tf.matMul(tf.transpose(dHat, [2, 0, 1]), tf.transpose(w, [1, 0, 2]));
    return tf.reshape(tf.transpose(perChannel, [1, 0, 2]), [M, N, cPerGroup, filters]);
  });
}

/**
 * Official PyTorch DOConv2d, in its own layouts: W [F, C/g, dMul] viewed as [F/g, C, dMul], D̂ [C, M·N, dMul];
 * DoW[o', i, m] = Σ_s D̂[i, m, s] · W'[o', i, s], viewed as [F, C/g, M, N]. Returned in TF layout
 * [M, N, C/g, F]. Departs from the definition for 1 < groups < C and for depthwise with multiplier > 1.
 */
export function officialPytorchKernel(
  weight: tf.Tensor3D,
  dHat: tf.Tensor3D | null,
  kernelSize: [number, number],
  groups: number,
): tf.Tensor4D {
  const [M, N] = kernelSize;
  const [filters, cPerGroup, dMul] = weight.shape;
  return tf.tidy(() => {
    const dow = dHat
      ? tf.reshape(
          // out[o,i,m] = Σ_s D̂[i,m,s]·W'[o,i,s]: a matMul per input channel i.
          tf.transpose(
            tf.matMul(
              dHat,
              tf.transpose(
                tf.reshape(weight, [filters / groups, cPerGroup * groups, dMul]),
                [1, 2, 0],
              ),
            ),
            [2, 0, 1],
          ),
          [filters, cPerGroup, M, N],
        )
      : tf.reshape(weight, [filters, cPerGroup, M, N]);
    return tf.transpose(dow, [2, 3, 1, 0]) as tf.Tensor4D;
  });
}

/**
 * W such that the DO-Conv definition with D = 0 computes `kernel` [M, N, C/g, F]: the first M·N rows of
 * W hold the kernel, the rest are zero (requires dMul ≥ M·N, which DO layers enforce).
 */
export function weightForKernelAtZeroD(kernel: tf.Tensor4D, dMul: number): tf.Tensor3D {
  const [M, N, cPerGroup, filters] = kernel.shape;
  return tf.tidy(
    () =>
      tf.pad(tf.reshape(kernel, [M * N, cPerGroup, filters]), [
        [0, dMul - M * N],
        [0, 0],
        [0, 0],
      ]) as tf.Tensor3D,
  );
}
