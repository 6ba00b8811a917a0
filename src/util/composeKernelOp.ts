/**
 * The fused DO-Conv kernel-composition op: K [M·N, C, F] from D [M·N, dMul, C], D_diag (same shape,
 * constant) and W [dMul, C, F], with D̂ = D + D_diag (groups = 1), and its gradient. Inputs
 * {d, dDiag, weight}. The algebra (algebra/composeKernel.ts) runs it wherever the active
 * backend has a kernel for it — the native engine registers one on wasm (engine/native/
 * nativeCompose.ts) — and builds the composition from TF.js ops everywhere else. The names live
 * here, on the floor below both, so neither imports the other.
 */
export const COMPOSE_KERNEL = 'DoconvComposeKernel';
/** inputs {dy, d, dDiag, weight} → [dD, dWeight] */
export const COMPOSE_KERNEL_GRAD = 'DoconvComposeKernelGrad';
