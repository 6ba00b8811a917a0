/**
 * TF.js's BatchNormalization layer, training pass, as one op (util/batchNormTrainingOp.ts) where
 * the backend has its kernels — the native engine — instead of tf.moments and tf.batchNorm's ~17
 * full-tensor ops: on MobileNet-v2 (52 BatchNorms) that was most of a step.
 *
 * Installed on TF.js's class itself (tfjsLayerCall.ts): every BatchNormalization — built with
 * tf.layers, by the zoo, or loaded from a model.json — trains the same way, so a run resumed from
 * its checkpoint computes what the uninterrupted run did. Inference, layouts the
 * op does not take (a channel axis other than the last, no scale or no centre, several inputs)
 * and backends without the kernels run TF.js's own code, unchanged; the function computed is the
 * same (batch statistics in double precision instead of float32 ops: ~1e-6 apart).
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_RELU_TRAINING, BATCH_NORM_TRAINING } from '../util/batchNormTrainingOp.js';
import { engineRoutes } from '../util/engineRoutes.js';
import { markFusedRelu, reluFusedAfter } from './batchNormRelu.js';
import { routeTfjsLayerCall, singleInput } from './tfjsLayerCall.js';

/** The fields of TF.js's layer this reads (private in tfjs-layers' typings). */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/** The training pass as one op, or null where TF.js's own code must run. */
function oneOpTraining(
  layer: tf.layers.Layer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: tf.serialization.ConfigDict,
): tf.Tensor | null {
  const x = singleInput(inputs);
  if (kwargs.training !== true || x === null) return null;
  const state = layer as unknown as BatchNormState;
  const routes = engineRoutes();
  const applies =
    x.dtype === 'float32' &&
    x.rank >= 2 &&
    (state.axis === -1 || state.axis === x.rank - 1) &&
    state.gamma != null &&
    state.beta != null &&
    routes.batchNormTraining;
  if (!applies) return null;
  // Followed only by a ReLU: relu(y) in the same pass, handed on by the ReLU (batchNormRelu.ts).
  const relu = routes.batchNormReluTraining ? reluFusedAfter(layer) : null;
  return tf.tidy(() => {
    const inputs = { x, scale: state.gamma!.read(), offset: state.beta!.read() };
    const [y, mean, variance] = tf
      .engine()
      .runKernel(
        relu ? BATCH_NORM_RELU_TRAINING : BATCH_NORM_TRAINING,
        inputs,
        relu
          ? { varianceEpsilon: state.epsilon, cap: relu.cap }
          : { varianceEpsilon: state.epsilon },
      ) as tf.Tensor[];
    // The moving averages as TF.js's layer updates them.
    for (const [variable, value] of [
      [state.movingMean, mean],
      [state.movingVariance, variance],
    ] as const) {
      tf.tidy(() => {
        const current = variable.read();
        variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - state.momentum)));
      });
    }
    if (relu) markFusedRelu(y, relu.relu);
    return y;
  });
}

/** Installs the one-op training pass on TF.js's BatchNormalization (importing doconv does it). */
export function installBatchNormTraining(): void {
  routeTfjsLayerCall('BatchNormalization', 'batchNormTraining', oneOpTraining);
}

installBatchNormTraining();
