/**
 * DO-Conv's kernel composition (any groups: DO-Conv, DO-DConv, DO-GConv) on the native engine: one kernel forward and one
 * backward (native/src/compose.cc), D̂ = D + D_diag included, in place of the ~16 TF.js ops the
 * algebra builds it from. Registered only with the native engine; the algebra uses it when the
 * backend has it.
 */
import * as tf from '@tensorflow/tfjs';
import { COMPOSE_KERNEL, COMPOSE_KERNEL_GRAD } from '../../util/composeKernelOp.js';
import { diagIdentityValues } from '../../util/diagIdentityValues.js';
import { requireNativeAddon } from './nativeAddon.js';
import { nativeOperands, type KernelArgs, makeFloat32Output } from './operands.js';

type Info = tf.TensorInfo;

/**
 * [area, dMul, channels, filters, groups], checked: a mismatch names the kernel and the shapes.
 * The groups are C / (W's C/g), which must divide F too. No dDiag: the identity pattern.
 */
export function composeGeometry(
  kernel: string,
  d: Info,
  dDiag: Info | undefined,
  weight: Info,
): Int32Array {
  const [area, dMul, channels] = d.shape;
  const [wMul, perGroup, filters] = weight.shape;
  const groups = channels / perGroup;
  const fits =
    d.shape.length === 3 &&
    (dDiag == null || tf.util.arraysEqual(dDiag.shape, d.shape)) &&
    weight.shape.length === 3 &&
    wMul === dMul &&
    Number.isInteger(groups) &&
    groups >= 1 &&
    filters % groups === 0;
  if (!fits || [d, dDiag, weight].some((t) => t != null && t.dtype !== 'float32')) {
    throw new Error(
      `doconv native ${kernel}: d and dDiag must be float32 [M·N, dMul, C] and weight float32 [dMul, C/g, F] ` +
        `(g dividing C and F), ` +
        `got d ${d.dtype} ${JSON.stringify(d.shape)}, ` +
        (dDiag == null ? '' : `dDiag ${dDiag.dtype} ${JSON.stringify(dDiag.shape)} `) +
        `and weight ${weight.dtype} ${JSON.stringify(weight.shape)}`,
    );
  }
  return Int32Array.of(area, dMul, channels, filters, groups);
}

/** K's shape [M, N, C/g, F] from attrs.kernelSize [M, N] (M·N must be D's taps). */
export function composedKernelShape(kernel: string, args: KernelArgs, geom: Int32Array): number[] {
  const size = (args.attrs as { kernelSize?: [number, number] } | undefined)?.kernelSize;
  if (size == null || size[0] * size[1] !== geom[0]) {
    throw new Error(
      `doconv native ${kernel}: kernelSize ${JSON.stringify(size)} does not fit D's ${geom[0]} taps`,
    );
  }
  return [size[0], size[1], geom[2] / geom[4], geom[3]];
}

/**
 * D_diag for the addon: `dDiag` when the kernel got one; without, the identity pattern a DO-Conv
 * layer's D_diag is — null (operand -1: the addon builds it), or for an addon built before it could
 * (a checkout's stale build) a scratch tensor holding it. `use` gets it and allocates its outputs
 * and operands after; the scratch is freed after `use`, whatever happens.
 */
export function withDiag<T>(
  args: KernelArgs,
  kernel: string,
  d: Info,
  dDiag: Info | undefined,
  use: (diag: Info | null) => T,
): T {
  if (dDiag != null) return use(dDiag);
  if (requireNativeAddon(kernel).composeIdentityDiag === true) return use(null);
  const diag = identityDiagTensor(args, d.shape as [number, number, number]);
  try {
    return use(diag);
  } finally {
    args.backend.disposeData(diag.dataId);
  }
}

/** A float32 tensor of the kernel's backend holding D_diag's identity pattern of `shape`. */
export function identityDiagTensor(args: KernelArgs, shape: [number, number, number]): Info {
  const t = makeFloat32Output(args, [...shape]);
  const { heap, refs } = nativeOperands(args.backend, t);
  const n = tf.util.sizeFromShape(shape);
  const values =
    heap === null ? (refs[0] as Float32Array) : new Float32Array(heap, refs[0] as number, n);
  values.set(diagIdentityValues(...shape));
  return t;
}

export function nativeCompose(args: KernelArgs): Info {
  const { d, dDiag, weight } = args.inputs as Record<string, Info | undefined>;
  const geom = composeGeometry(COMPOSE_KERNEL, d!, dDiag, weight!);
  return withDiag(args, COMPOSE_KERNEL, d!, dDiag, (diag) => {
    const k = makeFloat32Output(args, composedKernelShape(COMPOSE_KERNEL, args, geom));
    const { heap, refs } = nativeOperands(args.backend, d, diag, weight, k);
    const [dAt, diagAt, weightAt, kAt] = refs;
    requireNativeAddon(COMPOSE_KERNEL).compose(heap, geom, dAt, diagAt, weightAt, kAt);
    return k;
  });
}

export function nativeComposeGrad(args: KernelArgs): Info[] {
  const { dy, d, dDiag, weight } = args.inputs as Record<string, Info>;
  const geom = composeGeometry(COMPOSE_KERNEL_GRAD, d, dDiag as Info | undefined, weight);
  const want = composedKernelShape(COMPOSE_KERNEL_GRAD, args, geom);
  if (!tf.util.arraysEqual(dy.shape, want) || dy.dtype !== 'float32') {
    throw new Error(
      `doconv native ${COMPOSE_KERNEL_GRAD}: dy must be float32 ${JSON.stringify(want)}, got ${dy.dtype} ${JSON.stringify(dy.shape)}`,
    );
  }
  return withDiag(args, COMPOSE_KERNEL_GRAD, d, dDiag as Info | undefined, (diag) => {
    const dd = makeFloat32Output(args, [...d.shape]);
    const dw = makeFloat32Output(args, [...weight.shape]);
    const { heap, refs } = nativeOperands(args.backend, dy, d, diag, weight, dd, dw);
    const [dyAt, dAt, diagAt, weightAt, ddAt, dwAt] = refs;
    requireNativeAddon(COMPOSE_KERNEL_GRAD).composeGrad(
      heap,
      geom,
      dyAt,
      dAt,
      diagAt,
      weightAt,
      ddAt,
      dwAt,
    );
    return [dd, dw];
  });
}

/** Both gradients come from one kernel call, made when the tape asks for this node's gradients. */
export const composeGradConfig: tf.GradConfig = {
  kernelName: COMPOSE_KERNEL,
  inputsToSave: ['d', 'dDiag', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const [d, dDiag, weight] = saved;
    const [dd, dw] = tf
      .engine()
      .runKernel(
        COMPOSE_KERNEL_GRAD,
        { dy: dy as tf.Tensor, d, dDiag, weight },
        attrs,
      ) as tf.Tensor[];
    // D_diag is a constant of the layer; its gradient (equal to D's) is never asked for.
    return { d: () => dd, dDiag: () => dd, weight: () => dw };
  },
};
