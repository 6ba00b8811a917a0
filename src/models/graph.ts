import * as tf from '@tensorflow/tfjs';

/** Shorthand for building functional graphs: apply a layer to one symbolic tensor (or a list). */
export function apply(
  layer: tf.layers.Layer,
  x: tf.SymbolicTensor | tf.SymbolicTensor[],
): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/**
 * BatchNormalization with PyTorch/Gluon's defaults (momentum 0.9, epsilon 1e-5) rather than Keras's
 * (0.99, 1e-3): the CIFAR ResNets and MobileNets follow those codebases. foldModel uses this epsilon.
 */
export function batchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });
}

/** A ReLU layer; `maxValue` 6 gives ReLU6 (MobileNet-v2). */
export function relu(name: string, maxValue?: number): tf.layers.Layer {
  return tf.layers.reLU({ name, maxValue });
}
