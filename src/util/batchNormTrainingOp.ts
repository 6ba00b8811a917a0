/**
 * BatchNorm in training as one op: y, and the batch's mean and (biased) variance over every axis
 * but the last, from inputs {x [..., C], scale [C], offset [C]} and attrs {varianceEpsilon}. Its
 * gradient is one sums pass and one input-gradient pass. Built from TF.js ops (tf.moments, then
 * tf.batchNorm), a training BatchNorm costs ~5 full passes forward and ~12 backward (moments'
 * Sub, Square and two Means, their gradients, the Adds of three gradient paths): on MobileNet-v2,
 * which has 52 BatchNorms, most of a step. The native engine registers kernels for it; the
 * BatchNormalization layer's route (layers/batchNormTraining.ts) runs it where the backend has them.
 * The names live here, below engine and layers, so neither imports the other.
 */
export const BATCH_NORM_TRAINING = 'DoconvBatchNormTraining';
/**
 * inputs {dy, x, mean, variance, scale?, sumDy, sumDyXc}, attrs {varianceEpsilon} → dx of
 * BATCH_NORM_TRAINING (the sums from DoconvBatchNormGradSums).
 */
export const BATCH_NORM_TRAINING_GRAD_INPUT = 'DoconvBatchNormTrainingGradInput';

/**
 * BatchNorm in training then a ReLU, as one op: inputs {x [..., C], scale [C], offset [C]}, attrs
 * {varianceEpsilon, cap} → [z, mean, variance], z = min(max(y, 0), cap) with y BATCH_NORM_TRAINING's
 * output (cap Infinity: ReLU; 6: ReLU6). One pass saved forward and one backward: the ReLU rides
 * in the normalisation, its gradient's mask in the two gradient passes (which recompute y from x).
 * The layers run it for a BatchNormalization whose only consumer is a ReLU (layers/batchNormRelu.ts).
 */
export const BATCH_NORM_RELU_TRAINING = 'DoconvBatchNormReluTraining';
/**
 * inputs {dy, x, mean, variance, scale, offset}, attrs {varianceEpsilon, cap} → [Σ dy·m,
 * Σ dy·m·(x − μ)] per channel, m the ReLU's gradient mask at y: BATCH_NORM_RELU_TRAINING's sums.
 */
export const BATCH_NORM_RELU_GRAD_SUMS = 'DoconvBatchNormReluGradSums';
/**
 * inputs {dy, x, mean, variance, scale, offset, sumDy, sumDyXc, dMean, dVariance}, attrs
 * {varianceEpsilon, cap} → dx of BATCH_NORM_RELU_TRAINING.
 */
export const BATCH_NORM_RELU_GRAD_INPUT = 'DoconvBatchNormReluGradInput';
