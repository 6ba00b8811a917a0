/**
 * BatchNorm in training as one op: y, and the batch's mean and (biased) variance over every axis
 * but the last, from inputs {x [..., C], scale [C], offset [C]} and attrs {varianceEpsilon}. Its
 * gradient is one sums pass and one input-gradient pass. Built from TF.js ops (tf.moments, then
 * tf.batchNorm), a training BatchNorm costs ~5 full passes forward and ~12 backward (moments'
 * Sub, Square and two Means, their gradients, the Adds of three gradient paths): on MobileNet-v2,
 * which has 52 BatchNorms, most of a step. The native engine registers kernels for it; the
 * BatchNormalization layer (layers/BatchNormalization.ts) runs it where the backend has them.
 * The names live here, below engine and layers, so neither imports the other.
 */
export const BATCH_NORM_TRAINING = 'DoconvBatchNormTraining';
/**
 * inputs {dy, x, mean, variance, scale?, sumDy, sumDyXc}, attrs {varianceEpsilon} → dx of
 * BATCH_NORM_TRAINING (the sums from DoconvBatchNormGradSums).
 */
export const BATCH_NORM_TRAINING_GRAD_INPUT = 'DoconvBatchNormTrainingGradInput';
