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

/**
 * The routes of the active backend, each looked up when read: a kernel-registry lookup costs
 * ~0.2 µs, and looking up all of them at every call of a layer (~2 µs) was a share of what a DO-Conv
 * layer's call adds to a small net's step. Read the routes you need where you decide; the object is
 * not a snapshot (a route read later sees the registry and the tape of that moment).
 */
export function engineRoutes(): EngineRoutes {
  return new LiveRoutes(tf.getBackend());
}

class LiveRoutes implements EngineRoutes {
  constructor(private readonly backend: string) {}

  private has(kernelName: string): boolean {
    return tf.getKernel(kernelName, this.backend) != null;
  }

  get composeKernel() {
    return this.has(COMPOSE_KERNEL);
  }
  get composedConv() {
    return this.has(COMPOSED_CONV) && tapeRecording();
  }
  get dilatedConv() {
    return hasDilatedConvGradients(this.backend);
  }
  get batchNormTraining() {
    return this.has(BATCH_NORM_TRAINING);
  }
  get batchNormReluTraining() {
    return this.has(BATCH_NORM_RELU_TRAINING);
  }
  get addRelu() {
    return this.has(ADD_RELU);
  }
  get relu6() {
    return this.has(CLIP_GRAD);
  }
  get softmaxCrossEntropy() {
    return this.has(SOFTMAX_CROSS_ENTROPY);
  }
}
