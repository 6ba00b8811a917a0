/** A gradient doconv swaps in for `kernelName`, built around tfjs-core's original (its fallback). */
import type * as tf from '@tensorflow/tfjs';

export interface GradientReplacement {
  /** the kernel whose gradient is replaced */
  kernelName: string;
  /** our GradConfig; it runs `original` wherever it does not apply (other backends, odd shapes) */
  replace: (original: tf.GradConfig) => tf.GradConfig;
}
