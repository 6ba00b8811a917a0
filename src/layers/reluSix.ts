/**
 * TF.js's ReLU layer with maxValue 6 (MobileNet-v2's ReLU6) as tf.relu6 where the backend runs
 * that as one kernel with a one-pass gradient (the native engine): TF.js's layer computes ReLU,
 * then clips (two full-tensor passes forward, two backward). The values and gradients are the
 * same — 0 < x ≤ 6 passes dy, NaN stays NaN — so only the number of passes changes. Other
 * maxValues, backends without the kernels: TF.js's own code (tfjsLayerCall.ts installs it).
 */
import * as tf from '@tensorflow/tfjs';
import { engineRoutes } from '../util/engineRoutes.js';
import { routeTfjsLayerCall, singleInput } from './tfjsLayerCall.js';

function reluSix(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | null {
  const x = singleInput(inputs);
  const { maxValue } = layer as unknown as { maxValue?: number };
  if (x === null || maxValue !== 6 || x.dtype !== 'float32' || !engineRoutes().relu6) return null;
  return tf.relu6(x);
}

/** Installs the one-kernel ReLU6 on TF.js's ReLU layer (importing doconv does it). */
export function installReluSix(): void {
  routeTfjsLayerCall('ReLU', 'reluSix', reluSix);
}

installReluSix();
