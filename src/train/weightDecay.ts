/**
 * L2 weight decay as a term added to the gradient: g ← g + λ·w (PyTorch's `weight_decay`, i.e. the
 * gradient of λ/2·‖w‖²), before the optimizer sees it. With Adam this is L2 regularisation, not AdamW.
 *
 * Which weights decay: every kernel — Conv2D/Dense `kernel`, depthwise and pointwise kernels, a DO
 * layer's W (`kernel` / `depthwise_kernel`) — and, by default, a DO layer's D. Biases and BatchNorm's
 * gamma/beta never decay (moving statistics are not trainable at all).
 * Why D decays by default: the official implementations do — the TF/Keras DOConv2D gives D the kernel's
 * regularizer, and PyTorch's SGD weight_decay applies to every parameter. Decaying D pulls the layer
 * towards D = 0, i.e. towards W composed with the identity: the plain conv it over-parameterises.
 * `decayD: false` exempts D (then only W decays; the folded kernel is still regularised through W).
 */
import * as tf from '@tensorflow/tfjs';
import { shortWeightName } from '../layers/weightNames.js';

/** Short weight names (after the last '/') that count as kernels. */
export const KERNEL_WEIGHT_NAMES: ReadonlySet<string> = new Set([
  'kernel',
  'depthwise_kernel',
  'pointwise_kernel',
  'embeddings',
]);
/** The DO layers' over-parameterisation weight. */
export const D_WEIGHT_NAME = 'D';

/** Options of `decayMask`. */
export interface DecayOptions {
  /** Decay the DO layers' D as well as W. Default true (as the official TF and PyTorch code). */
  decayD?: boolean;
}

/** Whether each of `model.trainableWeights` decays, in that order. */
export function decayMask(model: tf.LayersModel, opts: DecayOptions = {}): boolean[] {
  const decayD = opts.decayD ?? true;
  return model.trainableWeights.map((w) => {
    const name = shortWeightName(w);
    return KERNEL_WEIGHT_NAMES.has(name) || (decayD && name === D_WEIGHT_NAME);
  });
}

/**
 * Returns g + λ·w for the masked entries and g itself for the others (new tensors only where changed;
 * the caller disposes the originals it no longer needs).
 */
export function addWeightDecay(
  grads: readonly tf.Tensor[],
  weights: readonly tf.Tensor[],
  mask: readonly boolean[],
  lambda: number,
): tf.Tensor[] {
  if (lambda === 0) return [...grads];
  return grads.map((g, i) => (mask[i] ? tf.tidy(() => tf.add(g, tf.mul(weights[i], lambda))) : g));
}
