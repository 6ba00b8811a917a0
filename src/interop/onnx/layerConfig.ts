import * as tf from '@tensorflow/tfjs';
import { findWeight } from '../../layers/weightNames.js';

/** A layer's serialized config, the public way to read what tfjs-layers keeps protected. */
export function configOf(layer: tf.layers.Layer): tf.serialization.ConfigDict {
  return layer.getConfig();
}

/** A config field given as n or [a, b], as a pair. */
export function pairOf(
  layer: tf.layers.Layer,
  key: string,
  value: unknown,
  fallback?: number,
): [number, number] {
  const v = value ?? fallback;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === 'number'))
    return [v[0], v[1]];
  throw new Error(
    `${describeLayer(layer)}: ${key} must be a number or a pair, got ${JSON.stringify(value)}`,
  );
}

/** 'channelsLast' is the only data format the export (and doconv) handles. */
export function requireChannelsLast(
  layer: tf.layers.Layer,
  config: tf.serialization.ConfigDict,
): void {
  if (config.dataFormat != null && config.dataFormat !== 'channelsLast') {
    throw new Error(
      `${describeLayer(layer)}: dataFormat ${JSON.stringify(config.dataFormat)} is not supported, only 'channelsLast'`,
    );
  }
}

/** The value of the weight with short name `shortName` (e.g. 'kernel', 'moving_mean'), or null. */
export function weightOf(layer: tf.layers.Layer, shortName: string): tf.Tensor | null {
  return findWeight(layer, shortName)?.read() ?? null;
}

/** Like {@link weightOf}, but the weight must exist. */
export function requireWeight(layer: tf.layers.Layer, shortName: string): tf.Tensor {
  const w = weightOf(layer, shortName);
  if (!w) {
    const names = layer.weights.map((v) => v.originalName).join(', ') || 'none';
    throw new Error(`${describeLayer(layer)}: weight '${shortName}' not found (weights: ${names})`);
  }
  return w;
}

/** "layer 'conv2d_1' (Conv2D)", for error messages. */
export function describeLayer(layer: tf.layers.Layer): string {
  return `layer '${layer.name}' (${layer.getClassName()})`;
}

/** A float32 copy of a tensor's values (backends may hand out views into their own memory). */
export function floatData(tensor: tf.Tensor): Float32Array {
  return Float32Array.from(tensor.dataSync());
}
