/**
 * Gradient of Mean on wasm: dx = broadcast(dy / n), one Tile of the (small) dy. tfjs-core's
 * gradient computes dy · ones(x.shape) / n: it builds the ones in JavaScript and uploads them
 * (slow on CNN activations; figures in results/README.md#engine-notes), then two full-size passes; tf.moments runs it twice per
 * BatchNorm layer. Same values bit for bit (dy·1/n = dy/n). Other backends keep tfjs-core's gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { ENGINE_BACKENDS } from '../../util/dilatedConvGradients.js';
import type { GradientReplacement } from './gradientReplacement.js';

export const meanGrad: GradientReplacement = {
  kernelName: tf.Mean,
  replace: (original) => ({
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      if (!ENGINE_BACKENDS.includes(tf.getBackend())) return original.gradFunc(dy, saved, attrs);
      const [x] = saved;
      const axes = tf.util.parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape);
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const n = axes.reduce((p, a) => p * x.shape[a], 1);
      return {
        x: () => tf.broadcastTo(tf.reshape(tf.div(dy as tf.Tensor, n), expanded), x.shape),
      };
    },
  }),
};
