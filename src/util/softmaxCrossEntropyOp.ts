/**
 * Softmax cross-entropy on logits as one op: inputs {labels [..., C], logits [..., C]} → [loss
 * [...] (one value a row), softmax [..., C]] (the softmax kept for the gradient). Its gradient is
 * one kernel: dLogits = dy · (softmax · Σ labels − labels). TF.js's tf.losses.softmaxCrossEntropy
 * runs ~10 full-tensor ops forward and ~12 backward (three of them Exp); for a segmentation net's
 * per-pixel loss those were ~15 % of a step. The native engine registers kernels for both; the
 * trainer's losses (train/losses.ts) run the op where the backend has them. The names live here,
 * below engine and train, so neither imports the other.
 */
export const SOFTMAX_CROSS_ENTROPY = 'DoconvSoftmaxCrossEntropy';
/** inputs {dy [...], softmax [..., C], labels [..., C]} → dLogits [..., C] */
export const SOFTMAX_CROSS_ENTROPY_GRAD = 'DoconvSoftmaxCrossEntropyGrad';
