/**
 * Whether the active TF.js backend has a kernel for `kernelName`: how the algebra and the engine's
 * gradients choose doconv's own fused ops (registered only by the native engine) over their
 * op-built equivalents.
 */
import * as tf from '@tensorflow/tfjs';

export function backendHasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) != null;
}
