/**
 * doconv's own one-pass gradient ops. The native engine registers kernels for them on wasm
 * (engine/native/nativeEltwise.ts); the gradients in engine/gradients use them where registered and
 * build the same values from TF.js ops everywhere else. Browser-safe: names only.
 */

/** inputs {dy, x} → dx = dy · step(x): ReLU's gradient in one pass instead of Step, Cast, Multiply. */
export const RELU_GRAD = 'DoconvReluGrad';
/** inputs {dy, x [..., C], mean [C]} → [Σ dy, Σ dy·(x − mean)] per channel, one pass instead of three. */
export const BATCH_NORM_GRAD_SUMS = 'DoconvBatchNormGradSums';
// ClipByValue's and Relu6's one-pass gradient: named in util (the layers ask for it by route).
export { CLIP_GRAD } from '../util/clipGradOp.js';
