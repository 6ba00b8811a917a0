/**
 * inputs {dy, x}, attrs {lo, hi, mode} → ClipByValue's gradient (mode 'where': dy where lo ≤ x ≤ hi,
 * else 0) or Relu6's (mode 'mask': dy · step(x) · (x ≤ hi)) in one pass instead of four ops. The
 * native engine registers a kernel for it (engine/native/nativeEltwise.ts); named here, below
 * engine and layers, so a layer can ask whether the backend has it (engineRoutes.ts).
 */
export const CLIP_GRAD = 'DoconvClipGrad';
