import * as tf from '@tensorflow/tfjs';
import { DOConvBase } from '../layers/DOConvBase.js';
import { DilatedConv2D } from '../layers/DilatedConv2D.js';
import { foldLayer } from './foldLayer.js';
import { fuseBatchNorms, modelFromConfig, type ModelConfig } from './fuseBatchNorms.js';

export interface FoldOptions {
  /**
   * Also merge each BatchNormalization into the conv before it, when that conv has a linear
   * activation and the BN is its only consumer (using the BN's own epsilon). Default false.
   */
  fuseBatchNorm?: boolean;
}

/**
 * A NEW model computing what `model` computes, made only of standard tfjs-layers layers: every
 * DOConv2D / DODepthwiseConv2D becomes a Conv2D, DepthwiseConv2D or SeparableConv2D holding its
 * composed kernel (see foldLayer). Layer names are kept; the input model is not modified. The result
 * loads with plain @tensorflow/tfjs, without doconv.
 */
export function foldModel(model: tf.LayersModel, options: FoldOptions = {}): tf.LayersModel {
  const sequential = model instanceof tf.Sequential;
  const config = JSON.parse(JSON.stringify(model.getConfig())) as ModelConfig;
  const weights = new Map<string, tf.Tensor[]>();
  try {
    for (const layer of model.layers) {
      if (layer instanceof tf.LayersModel) {
        throw new Error(
          `foldModel: nested model '${layer.name}' is not supported; fold it separately`,
        );
      }
      const isDilated = layer instanceof DilatedConv2D;
      if (!(layer instanceof DOConvBase) && !isDilated) continue;
      const entry = config.layers.find((e) => (e.config.name as string) === layer.name);
      if (!entry)
        throw new Error(`foldModel: layer '${layer.name}' is missing from the model config`);
      if (isDilated) {
        // Conv2D's config and weights already; a standard Conv2D computes it (inference needs no gradient).
        entry.className = 'Conv2D';
        continue;
      }
      const folded = foldLayer(layer);
      entry.className = folded.className;
      entry.config = folded.config;
      weights.set(layer.name, folded.weights);
    }
    if (options.fuseBatchNorm) fuseBatchNorms(model, config, sequential, weights);
    const result = modelFromConfig(config, sequential);
    for (const layer of result.layers) {
      layer.setWeights(weights.get(layer.name) ?? model.getLayer(layer.name).getWeights());
    }
    return result;
  } finally {
    for (const list of weights.values()) tf.dispose(list);
  }
}
