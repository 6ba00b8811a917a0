/**
 * The values of DO-Conv's D_diag [kernelArea, dMul, inChannels]: the kernelArea×kernelArea identity
 * tiled ⌊dMul/kernelArea⌋ times along the dMul axis, zero-padded when dMul % kernelArea ≠ 0, the
 * same for every input channel. Here, below both, for the algebra's tensor
 * (algebra/diagIdentity.ts) and the native engine, which builds the pattern for an addon that
 * cannot (engine/native/nativeCompose.ts). Arguments unchecked: callers check them.
 */
export function diagIdentityValues(
  kernelArea: number,
  dMul: number,
  inChannels: number,
): Float32Array {
  const values = new Float32Array(kernelArea * dMul * inChannels);
  const wholeTiles = Math.floor(dMul / kernelArea);
  for (let m = 0; m < kernelArea; m++) {
    for (let t = 0; t < wholeTiles; t++) {
      const s = t * kernelArea + m;
      const row = (m * dMul + s) * inChannels;
      values.fill(1, row, row + inChannels);
    }
  }
  return values;
}
