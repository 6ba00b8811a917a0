import * as tf from '@tensorflow/tfjs';
import { COMPOSE_KERNEL } from '../util/composeKernelOp.js';
import type { EngineRoutes } from '../util/engineRoutes.js';

/** Where the composed kernel's pieces come from and what shape it takes. */
export interface ComposeKernelOptions {
  /** Kernel height and width [M, N]; M·N must equal D's first dimension. */
  kernelSize: [number, number];
  /** Convolution groups g: 1 for DO-Conv, inCh for DO-DConv, anything between for DO-GConv. */
  groups?: number;
  /**
   * The fused paths the caller's backend offers (util/engineRoutes.ts; a layer passes
   * engineRoutes()). Default: none — the TF.js ops every backend runs.
   */
  routes?: Partial<EngineRoutes>;
}

/**
 * Kernel composition of DO-Conv: the plain conv kernel equal to "depthwise D̂, then conv W".
 *
 *   K[m, j, o] = Σ_s D̂[m, s, c] · W[s, j, o],   c = ⌊o / (F/g)⌋ · (C/g) + j
 *
 * `weight` W is [dMul, C/g, F], `dHat` D̂ is [M·N, dMul, C]; the result is [M, N, C/g, F], ready for
 * a (grouped) conv. Built from reshape/transpose/matMul because tf.einsum has no gradient in TF.js.
 * Pass `dHat = null` for a 1×1 (M·N = 1) layer, which has no D: K is W reshaped.
 */
export function composeKernel(
  weight: tf.Tensor3D,
  dHat: tf.Tensor3D | null,
  options: ComposeKernelOptions,
): tf.Tensor4D {
  const [M, N] = options.kernelSize;
  const groups = options.groups ?? 1;
  const [dMul, cPerGroup, filters] = weight.shape;
  if (filters % groups !== 0) {
    throw new Error(`composeKernel: filters (${filters}) must be divisible by groups (${groups})`);
  }
  if (dHat === null) {
    if (M * N !== 1 || dMul !== 1) {
      throw new Error(
        `composeKernel: D̂ may be omitted only for a 1×1 kernel with dMul 1, got kernelSize ` +
          `${JSON.stringify(options.kernelSize)} and weight shape ${JSON.stringify(weight.shape)}`,
      );
    }
    return tf.reshape(weight, [1, 1, cPerGroup, filters]);
  }
  const [area, dMulD, inChannels] = dHat.shape;
  if (area !== M * N || dMulD !== dMul || inChannels !== cPerGroup * groups) {
    throw new Error(
      `composeKernel: D̂ shape ${JSON.stringify(dHat.shape)} does not fit weight shape ` +
        `${JSON.stringify(weight.shape)} with kernelSize ${JSON.stringify(options.kernelSize)} and ` +
        `groups ${groups} (expected [${M * N}, ${dMul}, ${cPerGroup * groups}])`,
    );
  }
  const filtersPerGroup = filters / groups;
  if (groups === 1) {
    // DO-Conv proper: the same products with half the ops (each op costs tape bookkeeping, which
    // on a small net's training step is most of what DO-Conv adds).
    return tf.tidy(() => {
      const d = tf.transpose(dHat, [2, 0, 1]); // [C, M·N, dMul]
      const w = tf.transpose(weight, [1, 0, 2]); // [C, dMul, F]
      const k = tf.matMul(d, w); // [C, M·N, F]
      return tf.reshape(tf.transpose(k, [1, 0, 2]), [M, N, cPerGroup, filters]);
    });
  }
  return tf.tidy(() => {
    // One small matmul per input channel c = (group, j): [M·N, dMul] × [dMul, F/g].
    const d = tf.transpose(tf.reshape(dHat, [area, dMul, groups, cPerGroup]), [2, 3, 0, 1]);
    const w = tf.transpose(
      tf.reshape(weight, [dMul, cPerGroup, groups, filtersPerGroup]),
      [2, 1, 0, 3],
    );
    const k = tf.matMul(
      tf.reshape(d, [groups * cPerGroup, area, dMul]),
      tf.reshape(w, [groups * cPerGroup, dMul, filtersPerGroup]),
    ); // [g·C/g, M·N, F/g]
    const kByGroup = tf.transpose(
      tf.reshape(k, [groups, cPerGroup, area, filtersPerGroup]),
      [2, 1, 0, 3],
    );
    return tf.reshape(kByGroup, [M, N, cPerGroup, filters]);
  });
}

/**
 * composeKernel(W, D + D_diag): where the caller says the backend has doconv's fused composition
 * (options.routes.composeKernel: the native engine), one op forward and one backward for any
 * groups, the sum included; elsewhere the sum and composeKernel's ops. `d = null` for a 1×1
 * layer without D.
 */
export function composeKernelFromParts(
  weight: tf.Tensor3D,
  d: tf.Tensor3D | null,
  dDiag: tf.Tensor3D | null,
  options: ComposeKernelOptions,
): tf.Tensor4D {
  if (d === null || dDiag === null) return composeKernel(weight, null, options);
  const fused =
    weight.shape[0] === d.shape[1] &&
    weight.shape[1] * (options.groups ?? 1) === d.shape[2] &&
    options.routes?.composeKernel === true;
  if (!fused) return tf.tidy(() => composeKernel(weight, tf.add(d, dDiag) as tf.Tensor3D, options));
  const [M, N] = options.kernelSize;
  if (d.shape[0] !== M * N) {
    throw new Error(
      `composeKernel: D shape ${JSON.stringify(d.shape)} does not fit kernelSize ${JSON.stringify(options.kernelSize)}`,
    );
  }
  // K comes out as [M, N, C/g, F] (no reshape op either way).
  const attrs = { kernelSize: [M, N] } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel(COMPOSE_KERNEL, { d, dDiag, weight }, attrs) as tf.Tensor4D;
}
