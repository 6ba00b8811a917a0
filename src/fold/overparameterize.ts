import * as tf from '@tensorflow/tfjs';
// Each DO class must be registered for fromConfig below to find it.
import '../layers/DOConv1D.js';
import '../layers/DOConv2D.js';
import '../layers/DODepthwiseConv2D.js';
import '../layers/DOSeparableConv2D.js';
import { findWeight } from '../layers/weightNames.js';
import { warningSink, type WarningSink } from '../layers/warnings.js';
import { modelFromConfig, type ModelConfig } from './fuseBatchNorms.js';

/** Options of {@link overparameterize}. */
export interface OverparameterizeOptions {
  /**
   * Receives a warning for each conv left as it is although its class is one that converts (a
   * 'causal' Conv1D; a dilated DepthwiseConv2D, whose dilation TF.js 4.22 ignores). Default
   * console.warn.
   */
  onWarning?: WarningSink;
}

/** A plain conv class and the DO class that over-parameterizes it. */
interface Conversion {
  doClass: string;
  /** Short name of the kernel that becomes W. */
  kernel: 'kernel' | 'depthwise_kernel';
}

const CONVERSIONS: Record<string, Conversion> = {
  Conv1D: { doClass: 'DOConv1D', kernel: 'kernel' },
  Conv2D: { doClass: 'DOConv2D', kernel: 'kernel' },
  // doconv's plain dilated conv (the zoo's Conv twin of a dilated DO-Conv): a Conv2D.
  DilatedConv2D: { doClass: 'DOConv2D', kernel: 'kernel' },
  DepthwiseConv2D: { doClass: 'DODepthwiseConv2D', kernel: 'depthwise_kernel' },
  SeparableConv2D: { doClass: 'DOSeparableConv2D', kernel: 'depthwise_kernel' },
};

/**
 * A NEW model computing what `model` computes, with every Conv1D, Conv2D, DepthwiseConv2D and
 * SeparableConv2D (its depthwise part) whose kernel is larger than 1 turned into its DO-Conv /
 * DO-DConv twin: DOConv1D, DOConv2D, DODepthwiseConv2D, DOSeparableConv2D. Each starts where the
 * trained conv is: D = 0 (so D̂ = D_diag) and W the conv's kernel laid out as W,
 *
 *   W[s, c, o] = K[m = s, c, o]   (dMul = M·N, the DO layers' default),
 *
 * so compose(D_diag, W) = K exactly: D_diag is the identity, each of its rows picks one W row. Names, strides, padding,
 * dilation, bias, activation, initializers, regularizers and constraints are kept (D takes the
 * kernel's regularizer and constraint, as in the official layers); every other layer and its weights
 * are copied. `foldModel` of the result (after training, say) gives back the original architecture.
 * The input model is not modified.
 */
export function overparameterize(
  model: tf.LayersModel,
  options: OverparameterizeOptions = {},
): tf.LayersModel {
  const onWarning = warningSink(options.onWarning, 'overparameterize');
  const sequential = model instanceof tf.Sequential;
  const config = JSON.parse(JSON.stringify(model.getConfig())) as ModelConfig;
  const weights = new Map<string, Record<string, tf.Tensor>>();
  try {
    for (const layer of model.layers) {
      if (layer instanceof tf.LayersModel) {
        throw new Error(
          `overparameterize: nested model '${layer.name}' is not supported; convert it separately`,
        );
      }
      const conversion = CONVERSIONS[layer.getClassName()];
      if (!conversion) continue;
      const kernel = findWeight(layer, conversion.kernel);
      if (!kernel) {
        throw new Error(`overparameterize: layer '${layer.name}' has no '${conversion.kernel}'`);
      }
      const area = kernelArea(layer, kernel.shape as number[]);
      if (area === 1) continue;
      const reason = unconvertible(layer);
      if (reason) {
        onWarning(`layer '${layer.name}' (${layer.getClassName()}) is kept as it is: ${reason}`);
        continue;
      }
      const entry = config.layers.find((e) => (e.config.name as string) === layer.name);
      if (!entry) {
        throw new Error(`overparameterize: layer '${layer.name}' is missing from the model config`);
      }
      entry.className = conversion.doClass;
      const kernelValue = kernel.read();
      if (layer.getClassName() === 'SeparableConv2D') {
        // tfjs 4.22's SeparableConv2D.getConfig leaves depthMultiplier out; the kernel has it.
        entry.config.depthMultiplier = kernelValue.shape[3] as number;
      }
      weights.set(layer.name, startingWeights(layer, conversion.kernel, kernelValue, area));
    }
    const result = modelFromConfig(config, sequential);
    for (const layer of result.layers) {
      const converted = weights.get(layer.name);
      if (!converted) {
        layer.setWeights(model.getLayer(layer.name).getWeights());
        continue;
      }
      layer.setWeights(
        layer.weights.map((w) => {
          const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
          const value = converted[short];
          if (!value) throw new Error(`overparameterize: no value for '${layer.name}/${short}'`);
          return value;
        }),
      );
    }
    return result;
  } finally {
    for (const byName of weights.values()) tf.dispose(Object.values(byName));
  }
}

/** M·N of a conv kernel: all dimensions but the last two ([k, C, F], [M, N, C, F], [M, N, C, mult]). */
function kernelArea(layer: tf.layers.Layer, shape: number[]): number {
  if (shape.length < 3)
    throw new Error(`overparameterize: layer '${layer.name}' kernel ${JSON.stringify(shape)}`);
  return shape.slice(0, -2).reduce((a, b) => a * b, 1);
}

/** Why a conv of a converting class must stay as it is, or null. */
function unconvertible(layer: tf.layers.Layer): string | null {
  const config = layer.getConfig();
  if (config.padding === 'causal') return "'causal' padding (DOConv1D takes 'same' or 'valid')";
  const dilation = [config.dilationRate].flat() as number[];
  if (layer.getClassName() === 'DepthwiseConv2D' && dilation.some((d) => d > 1)) {
    return (
      `dilationRate ${JSON.stringify(config.dilationRate)}, which TF.js's DepthwiseConv2D ignores ` +
      `(DODepthwiseConv2D honours it, so the converted model would compute something else)`
    );
  }
  return null;
}

/**
 * The DO layer's weights by short name: W from the kernel (see overparameterize), D = 0, the rest
 * (pointwise kernel, bias) copied.
 */
function startingWeights(
  layer: tf.layers.Layer,
  kernelName: Conversion['kernel'],
  kernel: tf.Tensor,
  area: number,
): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const [inChannels, last] = kernel.shape.slice(-2);
    const dMul = area; // the DO layers' default
    const weight = tf.reshape(kernel, [area, inChannels, last]);
    const out: Record<string, tf.Tensor> = {
      [kernelName]: weight,
      D: tf.zeros([area, dMul, inChannels]),
    };
    for (const name of ['pointwise_kernel', 'bias']) {
      const w = findWeight(layer, name);
      if (w) out[name] = tf.clone(w.read());
    }
    return out;
  });
}
