import * as tf from '@tensorflow/tfjs';
import { blockDiagonalKernel, identityPointwiseKernel } from '../algebra/groupedKernels.js';
import { DOConvBase } from '../layers/DOConvBase.js';
import { findWeight } from '../layers/weightNames.js';

/** A standard tfjs-layers layer, as config plus weights in that layer's getWeights() order. */
export interface StandardLayer {
  className: 'Conv2D' | 'DepthwiseConv2D' | 'SeparableConv2D';
  config: tf.serialization.ConfigDict;
  weights: tf.Tensor[];
}

const DO_KEYS = ['dMul', 'dRegularizer', 'dConstraint', 'groups', 'composition'];
/** Keys of a standard conv config that depthwise layers spell with 'depthwise'. */
const KERNEL_TO_DEPTHWISE: Record<string, string> = {
  kernelInitializer: 'depthwiseInitializer',
  kernelRegularizer: 'depthwiseRegularizer',
  kernelConstraint: 'depthwiseConstraint',
};

/**
 * Fold one DO layer into the standard layer that computes the same function with the composed kernel:
 * - groups 1 → Conv2D;
 * - depthwise (DODepthwiseConv2D, or groups = inCh) → DepthwiseConv2D, or when dilated, SeparableConv2D
 *   with an identity pointwise kernel (tf.layers.depthwiseConv2d in tfjs 4.22 ignores dilationRate);
 * - 1 < groups < inCh → Conv2D with the block-diagonal kernel (g× the multiply-adds of a grouped conv:
 *   tfjs-layers has no grouped Conv2D).
 * Weights are new tensors owned by the caller.
 */
export function foldLayer(layer: DOConvBase): StandardLayer {
  const config = layer.getConfig();
  for (const key of DO_KEYS) delete config[key];
  const groups = layer.convGroups;
  const dilated = layer.dilationRate[0] > 1 || layer.dilationRate[1] > 1;
  let className: StandardLayer['className'] = 'Conv2D';
  let standardConfig = config;
  const weights = tf.tidy(() => {
    const kernel = layer.composedKernel();
    const bias = layer.useBias ? [biasOf(layer)] : [];
    const [M, N, cPerGroup, filters] = kernel.shape;
    const inChannels = cPerGroup * groups;
    standardConfig.filters = filters;
    if (groups === 1) return [kernel, ...bias];
    if (cPerGroup > 1) return [blockDiagonalKernel(kernel, groups), ...bias];
    const multiplier = filters / inChannels;
    const depthwise = tf.reshape(kernel, [M, N, inChannels, multiplier]);
    standardConfig = { ...renameKeys(config, KERNEL_TO_DEPTHWISE), depthMultiplier: multiplier };
    if (!dilated) {
      className = 'DepthwiseConv2D';
      delete standardConfig.filters;
      return [depthwise, ...bias];
    }
    className = 'SeparableConv2D';
    return [depthwise, identityPointwiseKernel(filters), ...bias];
  });
  return { className, config: standardConfig, weights };
}

function biasOf(layer: DOConvBase): tf.Tensor {
  const bias = findWeight(layer, 'bias');
  if (!bias) throw new Error(`${layer.name}: useBias is set but no bias weight exists`);
  return tf.clone(bias.read());
}

function renameKeys(
  config: tf.serialization.ConfigDict,
  names: Record<string, string>,
): tf.serialization.ConfigDict {
  const out: tf.serialization.ConfigDict = {};
  for (const [key, value] of Object.entries(config)) out[names[key] ?? key] = value;
  return out;
}
