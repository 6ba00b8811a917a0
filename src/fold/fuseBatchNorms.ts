import * as tf from '@tensorflow/tfjs';
import { fuseBatchNorm, type BatchNormParams } from '../algebra/fuseBatchNorm.js';
import { findWeight } from '../layers/weightNames.js';

/** A layer entry of a model config (Sequential entries have no name/inboundNodes of their own). */
export interface LayerEntry {
  name?: string;
  className: string;
  config: tf.serialization.ConfigDict;
  inboundNodes?: [string, number, number, unknown][][];
}

export interface ModelConfig {
  name?: string;
  layers: LayerEntry[];
  inputLayers?: [string, number, number][];
  outputLayers?: [string, number, number][];
}

/** The model a (possibly edited) config of `model.getConfig()` describes, new and unweighted. */
export function modelFromConfig(config: ModelConfig, sequential: boolean): tf.LayersModel {
  const dict = config as unknown as tf.serialization.ConfigDict;
  return (
    sequential
      ? tf.Sequential.fromConfig(tf.Sequential, dict)
      : tf.LayersModel.fromConfig(tf.LayersModel, dict)
  ) as tf.LayersModel;
}

const FUSABLE_CONVS = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);

/**
 * Merge each BatchNormalization into the conv before it, in place in `config`, when the conv has a
 * linear activation and the BN is its only consumer. `weights` maps layer names to weights already
 * replaced (folded DO layers); fused convs are written there. Returns the names of removed BNs.
 */
export function fuseBatchNorms(
  model: tf.LayersModel,
  config: ModelConfig,
  sequential: boolean,
  weights: Map<string, tf.Tensor[]>,
): string[] {
  const removed: string[] = [];
  const consumers = countConsumers(config, sequential);
  for (let i = 0; i < config.layers.length; i++) {
    const bnEntry = config.layers[i];
    if (bnEntry.className !== 'BatchNormalization') continue;
    const convEntry = producerOf(config, i, sequential);
    if (!convEntry || !FUSABLE_CONVS.has(convEntry.className)) continue;
    const convName = convEntry.config.name as string;
    if (convEntry.config.activation !== 'linear' || consumers.get(convName) !== 1) continue;
    if (![-1, 3].includes(bnEntry.config.axis as number)) continue;
    const bnName = bnEntry.config.name as string;
    const convWeights =
      weights.get(convName) ??
      model
        .getLayer(convName)
        .getWeights()
        .map((w) => tf.clone(w));
    const fused = fuseIntoConv(
      convEntry.className,
      convWeights,
      batchNormParams(model.getLayer(bnName)),
    );
    tf.dispose(convWeights); // owned here either way: folded earlier, or cloned just above
    weights.set(convName, fused);
    convEntry.config.useBias = true;
    config.layers.splice(i, 1);
    if (!sequential) redirect(config, bnName, convName);
    removed.push(bnName);
    i--;
  }
  return removed;
}

function fuseIntoConv(
  className: string,
  convWeights: tf.Tensor[],
  bn: BatchNormParams,
): tf.Tensor[] {
  const hasBias = convWeights.length === (className === 'SeparableConv2D' ? 3 : 2);
  const bias = hasBias ? (convWeights[convWeights.length - 1] as tf.Tensor1D) : null;
  if (className === 'SeparableConv2D') {
    // BN scales the output channels, which the pointwise kernel produces.
    const { kernel, bias: b } = fuseBatchNorm(convWeights[1] as tf.Tensor4D, bias, bn, 'conv');
    return [tf.clone(convWeights[0]), kernel, b];
  }
  const layout = className === 'DepthwiseConv2D' ? 'depthwise' : 'conv';
  const { kernel, bias: b } = fuseBatchNorm(convWeights[0] as tf.Tensor4D, bias, bn, layout);
  return [kernel, b];
}

function batchNormParams(layer: tf.layers.Layer): BatchNormParams {
  const find = (name: string) =>
    (findWeight(layer, name)?.read() as tf.Tensor1D | undefined) ?? null;
  const cfg = layer.getConfig();
  return {
    gamma: find('gamma'),
    beta: find('beta'),
    movingMean: find('moving_mean')!,
    movingVariance: find('moving_variance')!,
    epsilon: cfg.epsilon as number,
  };
}

function countConsumers(config: ModelConfig, sequential: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  if (sequential) {
    config.layers.forEach((entry, i) => {
      if (i + 1 < config.layers.length) add(entry.config.name as string);
    });
    return counts;
  }
  for (const entry of config.layers) {
    for (const node of entry.inboundNodes ?? []) for (const ref of node) add(ref[0]);
  }
  for (const ref of config.outputLayers ?? []) add(ref[0]);
  return counts;
}

/** The conv entry feeding entry i, when it is a single-input, single-node link. */
function producerOf(config: ModelConfig, i: number, sequential: boolean): LayerEntry | null {
  if (sequential) return i > 0 ? config.layers[i - 1] : null;
  const nodes = config.layers[i].inboundNodes ?? [];
  if (nodes.length !== 1 || nodes[0].length !== 1) return null;
  const producer = config.layers.find((e) => e.name === nodes[0][0][0]);
  if (!producer || (producer.inboundNodes ?? []).length !== 1) return null;
  return producer;
}

function redirect(config: ModelConfig, from: string, to: string): void {
  for (const entry of config.layers) {
    for (const node of entry.inboundNodes ?? [])
      for (const ref of node) if (ref[0] === from) ref[0] = to;
  }
  for (const ref of config.outputLayers ?? []) if (ref[0] === from) ref[0] = to;
}
