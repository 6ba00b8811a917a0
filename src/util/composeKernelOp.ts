/**
 * The fused DO-Conv kernel-composition op: K [M·N, C/g, F] from D [M·N, dMul, C], D_diag (same
 * shape, constant) and W [dMul, C/g, F], with D̂ = D + D_diag (any groups g), and its gradient. Inputs
 * {d, dDiag, weight}. The algebra (algebra/composeKernel.ts) runs it wherever the active
 * backend has a kernel for it — the native engine registers one on wasm (engine/native/
 * nativeCompose.ts) — and builds the composition from TF.js ops everywhere else. The names live
 * here, on the floor below both, so neither imports the other.
 */
export const COMPOSE_KERNEL = 'DoconvComposeKernel';
/** inputs {dy, d, dDiag, weight} → [dD, dWeight] */
export const COMPOSE_KERNEL_GRAD = 'DoconvComposeKernelGrad';

/**
 * The fused DO-Conv convolution: y = conv2d(x, K) with K composed inside the kernel, for groups = 1
 * and no dilation. Inputs {x, d, weight}: D_diag is the identity pattern a DO-Conv layer's always
 * is (algebra/diagIdentity.ts), built in, so the tape saves no copy of it. Attrs {kernelSize,
 * strides, pad, dilations, dataFormat, dimRoundingMode} (those of Conv2D, plus kernelSize). Why: a
 * training step then runs the same number of kernels for a DO-Conv layer as for a conv layer (K
 * and its gradient never become tensors of their own), so DO-Conv's cost over Conv is the
 * composition's arithmetic.
 */
export const COMPOSED_CONV = 'DoconvComposedConv2D';
/** inputs {dy, d, weight}, the conv's attrs plus inputShape → dx */
export const COMPOSED_CONV_GRAD_INPUT = 'DoconvComposedConv2DBackpropInput';
/** inputs {x, dy, d, weight}, the conv's attrs → [dD, dWeight] */
export const COMPOSED_CONV_GRAD_WEIGHTS = 'DoconvComposedConv2DBackpropWeights';
