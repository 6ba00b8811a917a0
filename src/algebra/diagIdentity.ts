import * as tf from '@tensorflow/tfjs';
import { diagIdentityValues } from '../util/diagIdentityValues.js';

/**
 * D_diag of DO-Conv: the constant that makes D̂ = D + D_diag the identity transform when D = 0.
 *
 * Shape [kernelArea, dMul, inChannels]: the kernelArea×kernelArea identity tiled ⌊dMul/kernelArea⌋
 * times along the dMul axis, zero-padded when dMul % kernelArea ≠ 0, the same for every input channel.
 * It is a constant, never a weight (the official Keras layer builds it the same way).
 */
export function diagIdentity(kernelArea: number, dMul: number, inChannels: number): tf.Tensor3D {
  assertPositiveInt('kernelArea', kernelArea);
  assertPositiveInt('dMul', dMul);
  assertPositiveInt('inChannels', inChannels);
  return tf.tensor3d(diagIdentityValues(kernelArea, dMul, inChannels), [
    kernelArea,
    dMul,
    inChannels,
  ]);
}

export function assertPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}
