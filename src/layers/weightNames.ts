import type * as tf from '@tensorflow/tfjs';

/**
 * The short name of a layer weight, as the layer names it: 'do_conv2d_1/D' → 'D',
 * 'block/conv/kernel' → 'kernel'. tfjs prefixes `originalName` with the layer (and scope) names.
 */
export function shortWeightName(weight: tf.LayerVariable): string {
  const name = weight.originalName;
  return name.slice(name.lastIndexOf('/') + 1);
}

/** The layer's weight whose short name is `shortName` (e.g. 'kernel', 'moving_mean'), or null. */
export function findWeight(layer: tf.layers.Layer, shortName: string): tf.LayerVariable | null {
  return layer.weights.find((w) => shortWeightName(w) === shortName) ?? null;
}
