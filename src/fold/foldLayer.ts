import * as tf from '@tensorflow/tfjs';
import { blockDiagonalKernel, identityPointwiseKernel } from '../algebra/groupedKernels.js';
import { DOConv1D } from '../layers/DOConv1D.js';
import { DOConvBase } from '../layers/DOConvBase.js';
import { DOSeparableConv2D } from '../layers/DOSeparableConv2D.js';
import { findWeight } from '../layers/weightNames.js';

/** A standard tfjs-layers layer, as config plus weights in that layer's getWeights() order. */
export interface StandardLayer {
  className: 'Conv2D' | 'DepthwiseConv2D' | 'SeparableConv2D' | 'Conv1D';
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
 *   tfjs-layers has no grouped Conv2D);
 * - DOConv1D → Conv1D; DOSeparableConv2D → SeparableConv2D (the composed depthwise kernel, the
 *   pointwise kernel as it is).
 * Weights are new tensors owned by the caller.
 */
export function foldLayer(layer: DOConvBase): StandardLayer {
  // A copy: tfjs' deserializers write into the dicts they are given (customObjects), and getConfig's
  // nested dicts are the layer's own.
  const config = JSON.parse(JSON.stringify(layer.getConfig())) as tf.serialization.ConfigDict;
  for (const key of DO_KEYS) delete config[key];
  if (layer instanceof DOConv1D) {
    return { className: 'Conv1D', config, weights: withBias(layer, [layer.composedKernel1d()]) };
  }
  if (layer instanceof DOSeparableConv2D) {
    const depthwise = tf.tidy(() => {
      const kernel = layer.composedKernel(); // [M, N, 1, C·mult]
      const [M, N, , filters] = kernel.shape;
      const mult = layer.depthMultiplier;
      return tf.reshape(kernel, [M, N, filters / mult, mult]);
    });
    const pointwise = tf.clone(layer.pointwiseKernel());
    return {
      className: 'SeparableConv2D',
      config,
      weights: withBias(layer, [depthwise, pointwise]),
    };
  }
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

function withBias(layer: DOConvBase, kernels: tf.Tensor[]): tf.Tensor[] {
  return layer.useBias ? [...kernels, biasOf(layer)] : kernels;
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
