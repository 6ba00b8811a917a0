/**
 * Gradient of Relu where the backend has doconv's one-pass kernel (the native engine on wasm):
 * dx = dy · step(x) in one pass, the same products as tfjs-core's Step, Cast and Multiply (three
 * ops, two full-size passes and a temporary). Elsewhere tfjs-core's gradient runs.
 */
import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from '../fusedGradientOps.js';
import type { GradientReplacement } from './gradientReplacement.js';

export const reluGrad: GradientReplacement = {
  kernelName: tf.Relu,
  replace: (original) => ({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const d = dy as tf.Tensor;
      if (
        tf.getKernel(RELU_GRAD, tf.getBackend()) == null ||
        x.dtype !== 'float32' ||
        d.dtype !== 'float32'
      ) {
        return original.gradFunc(dy, saved, attrs);
      }
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: d, x }, {}) as tf.Tensor };
    },
  }),
};
