/**
 * Which of doconv's fused paths the active backend offers now: what a layer hands the algebra
 * (algebra/convolve.ts, convolveComposed.ts, composeKernel.ts take these as arguments and look
 * nothing up). Read from tfjs's kernel and gradient registries and the tape; kept here, below
 * engine and layers, so the layers can ask without importing the engine.
 */
import * as tf from '@tensorflow/tfjs';
import { ADD_RELU } from './addReluOp.js';
import { BATCH_NORM_RELU_TRAINING, BATCH_NORM_TRAINING } from './batchNormTrainingOp.js';
import { CLIP_GRAD } from './clipGradOp.js';
import { COMPOSE_KERNEL, COMPOSED_CONV } from './composeKernelOp.js';
import { hasDilatedConvGradients } from './dilatedConvGradients.js';
import { SOFTMAX_CROSS_ENTROPY } from './softmaxCrossEntropyOp.js';
import { tapeRecording } from './tapeRecording.js';

export interface EngineRoutes {
  /** K = compose(D + D_diag, W) as one op (the native engine's kernel). */
  composeKernel: boolean;
  /** conv(x, compose(…)) as one op with one op per gradient: the native engine, under a tape. */
  composedConv: boolean;
  /** Dilated convs as TF.js's dilated conv ops (their gradients replaced by doconv's engine). */
  dilatedConv: boolean;
  /** BatchNorm in training (batch statistics) as one op with a two-pass gradient. */
  batchNormTraining: boolean;
  /** BatchNorm in training then ReLU or ReLU6 as one op (its gradient: BatchNorm's two passes). */
  batchNormReluTraining: boolean;
  /** A residual add then ReLU as one op (its gradient: ReLU's, one pass). */
  addRelu: boolean;
  /** ReLU6 as one kernel with a one-pass gradient (not ReLU, then a clip, and their gradients). */
  relu6: boolean;
  /** Softmax cross-entropy on logits as one op with a one-kernel gradient. */
  softmaxCrossEntropy: boolean;
}

/** No fused path: the TF.js ops every backend runs. */
export const OP_ROUTES: EngineRoutes = {
  composeKernel: false,
  composedConv: false,
  dilatedConv: false,
  batchNormTraining: false,
  batchNormReluTraining: false,
  addRelu: false,
  relu6: false,
  softmaxCrossEntropy: false,
};

export function engineRoutes(): EngineRoutes {
  const backend = tf.getBackend();
  const has = (kernelName: string) => tf.getKernel(kernelName, backend) != null;
  return {
    composeKernel: has(COMPOSE_KERNEL),
    composedConv: has(COMPOSED_CONV) && tapeRecording(),
    dilatedConv: hasDilatedConvGradients(backend),
    batchNormTraining: has(BATCH_NORM_TRAINING),
    batchNormReluTraining: has(BATCH_NORM_RELU_TRAINING),
    addRelu: has(ADD_RELU),
    relu6: has(CLIP_GRAD),
    softmaxCrossEntropy: has(SOFTMAX_CROSS_ENTROPY),
  };
}
