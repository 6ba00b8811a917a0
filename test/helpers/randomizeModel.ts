import * as tf from '@tensorflow/tfjs';

/**
 * Random weights everywhere: D included (a fold test at D = 0 proves nothing) and BatchNorm
 * statistics (moving variance positive, away from the identity). `std` scales the normal draws:
 * the default's large weights grow activations layer by layer, which deep nets (ResNet-56,
 * MobileNet-v2) turn into overflow or float32 noise; 0.05 / 0.1 keeps them in range.
 */
export function randomizeModel(
  model: tf.LayersModel,
  seed: number,
  std: { weights: number; d: number } = { weights: 0.5, d: 0.3 },
): void {
  let s = seed;
  for (const layer of model.layers) {
    const weights = layer.weights.map((w) => {
      const name = w.originalName.split('/').pop();
      const shape = w.shape as number[];
      if (name === 'moving_variance') return tf.randomUniform(shape, 0.3, 2, 'float32', s++);
      if (name === 'gamma') return tf.randomUniform(shape, 0.5, 1.5, 'float32', s++);
      return tf.mul(
        tf.randomNormal(shape, 0, 1, 'float32', s++),
        name === 'D' ? std.d : std.weights,
      );
    });
    if (weights.length > 0) layer.setWeights(weights);
    tf.dispose(weights);
  }
}
