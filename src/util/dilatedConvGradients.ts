/**
 * Backends on which a dilated conv trains directly: tfjs-core's Conv2D and DepthwiseConv2dNative
 * gradients refuse dilations > 1, and doconv's engine replaces them on wasm
 * (engine/gradients/dilatedConvGrad.ts), where its kernels — wasm and native — take dilations.
 * The algebra (algebra/convolve.ts) convolves directly on such a backend, and through
 * space-to-batch elsewhere. Kept here, below both, so neither imports the other.
 */
const backends = new Set<string>();

/** Called by the engine when it registers its dilated-conv gradients for `backend`. */
export function markDilatedConvGradients(backend: string): void {
  backends.add(backend);
}

export function hasDilatedConvGradients(backend: string): boolean {
  return backends.has(backend);
}
