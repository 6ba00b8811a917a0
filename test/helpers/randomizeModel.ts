import * as tf from '@tensorflow/tfjs';

/**
 * Random weights everywhere: D included (a fold test at D = 0 proves nothing) and BatchNorm
 * statistics (moving variance positive, away from the identity).
 */
export function randomizeModel(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const weights = layer.weights.map((w) => {
      const name = w.originalName.split('/').pop();
      const shape = w.shape as number[];
      if (name === 'moving_variance') return tf.randomUniform(shape, 0.3, 2, 'float32', s++);
      if (name === 'gamma') return tf.randomUniform(shape, 0.5, 1.5, 'float32', s++);
      return tf.mul(tf.randomNormal(shape, 0, 1, 'float32', s++), name === 'D' ? 0.3 : 0.5);
    });
    if (weights.length > 0) layer.setWeights(weights);
    tf.dispose(weights);
  }
}
