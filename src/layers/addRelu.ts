/**
 * TF.js's Add layer followed only by a ReLU (a ResNet block's end: add, then ReLU) as one op where
 * the backend has it (util/addReluOp.ts, the native engine): the ReLU's forward pass disappears
 * into the add's, and its gradient's pass is the one the ReLU had. The ReLU layer then hands the
 * marked tensor on unchanged (batchNormRelu.ts's pass-through).
 *
 * It fires under the conditions of reluFusedAfter (a node of a running model's graph, the Add's
 * output going to that ReLU and nowhere else, not a model output), for a plain ReLU (no cap), and
 * for two float32 inputs of one shape that are different tensors; everything else runs TF.js's own
 * Add. Values and gradients are the unfused ones.
 */
import * as tf from '@tensorflow/tfjs';
import { ADD_RELU } from '../util/addReluOp.js';
import { engineRoutes } from '../util/engineRoutes.js';
import { markFusedRelu, reluFusedAfter } from './batchNormRelu.js';
import { routeTfjsLayerCall } from './tfjsLayerCall.js';

function addThenRelu(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | null {
  if (!Array.isArray(inputs) || inputs.length !== 2) return null;
  const [a, b] = inputs;
  if (
    a === b ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    !tf.util.arraysEqual(a.shape, b.shape) ||
    !engineRoutes().addRelu
  ) {
    return null;
  }
  const relu = reluFusedAfter(layer);
  if (relu === null || relu.cap !== Infinity) return null;
  const y = tf.engine().runKernel(ADD_RELU, { a, b }) as tf.Tensor;
  markFusedRelu(y, relu.relu);
  return y;
}

/** Installs the fused route on TF.js's Add layer (importing doconv does it). */
export function installAddRelu(): void {
  routeTfjsLayerCall('Add', 'addRelu', addThenRelu);
}

installAddRelu();
