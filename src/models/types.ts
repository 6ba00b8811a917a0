import type * as tf from '@tensorflow/tfjs';
import type { ConvFactory } from './convFactory.js';

/** What every zoo builder receives. */
export interface ZooBuilderOptions {
  /** Where every conv comes from: `convFactory('conv')` or `convFactory('doconv')`. */
  conv: ConvFactory;
  /** One example's shape [height, width, channels], e.g. [28, 28, 1] (MNIST) or [32, 32, 3] (CIFAR). */
  inputShape: [number, number, number];
  /** Width of the output layer. */
  numClasses: number;
  /** Seeds every random initializer: the same seed gives identical initial weights. Unseeded when absent. */
  seed?: number;
}

/** A zoo builder: a small function from options to a fresh, built tf.LayersModel. */
export type ZooBuilder = (options: ZooBuilderOptions) => tf.LayersModel;

/**
 * What a model's output means: 'softmax' (probabilities; train with categoricalCrossentropy) or
 * 'logits' (unnormalised scores; train with tf.losses.softmaxCrossEntropy / log-softmax + NLL).
 */
export type ZooOutput = 'softmax' | 'logits';
