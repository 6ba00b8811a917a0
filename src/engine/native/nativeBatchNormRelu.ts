/**
 * BatchNorm then ReLU (or ReLU6) in training on the native engine (util/batchNormTrainingOp.ts:
 * BATCH_NORM_RELU_TRAINING): the batch statistics in one pass and the normalisation with the clip
 * in another, forward; backward the masked per-channel sums in one pass and dx in one more
 * (native/src/batchNormRelu.h) — the passes of the BatchNorm op alone, the ReLU's two saved.
 */
import * as tf from '@tensorflow/tfjs';
import {
  BATCH_NORM_RELU_GRAD_INPUT,
  BATCH_NORM_RELU_GRAD_SUMS,
  BATCH_NORM_RELU_TRAINING,
} from '../../util/batchNormTrainingOp.js';
import { CLIP_GRAD } from '../fusedGradientOps.js';
import { requireNativeAddon, type NativeAddon } from './nativeAddon.js';
import { batchNormTrainingGradConfig, channelGeometry } from './nativeBatchNormTraining.js';
import { makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

interface ReluAttrs {
  varianceEpsilon: number;
  cap: number;
}

/** The attrs, checked: errors name the kernel, the attr and its value. */
function reluAttrs(kernel: string, attrs: tf.NamedAttrMap): ReluAttrs {
  const { varianceEpsilon, cap } = attrs as unknown as ReluAttrs;
  if (typeof varianceEpsilon !== 'number' || !(varianceEpsilon >= 0)) {
    throw new Error(
      `doconv native ${kernel}: varianceEpsilon must be a number ≥ 0, got ${String(varianceEpsilon)}`,
    );
  }
  if (typeof cap !== 'number' || !(cap > 0)) {
    throw new Error(
      `doconv native ${kernel}: cap must be a number > 0 (Infinity for ReLU, 6 for ReLU6), got ${String(cap)}`,
    );
  }
  return { varianceEpsilon, cap };
}

/** dy (dy or the sums' dy) of x's shape, else an error naming the kernel. */
function checkDy(kernel: string, dy: Info | undefined, x: Info): void {
  if (dy == null || dy.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x.shape)) {
    throw new Error(
      `doconv native ${kernel}: dy must be float32 of x's shape ${JSON.stringify(x.shape)}, got ` +
        `${dy?.dtype} ${JSON.stringify(dy?.shape)}`,
    );
  }
}

/**
 * Whether the loaded addon has the fused kernels. A checkout's build from before them (a stale
 * build) runs the op as BatchNorm then the clip and its gradient as the clip's then BatchNorm's:
 * the same values, the unfused passes.
 */
export function fusedKernelsBuilt(addon: NativeAddon): boolean {
  return typeof addon.batchNormRelu === 'function';
}

export function nativeBatchNormReluTraining(args: KernelArgs): Info[] {
  const { x, scale, offset } = args.inputs as Record<string, Info | undefined>;
  const { varianceEpsilon, cap } = reluAttrs(BATCH_NORM_RELU_TRAINING, args.attrs);
  const { rows, channels } = channelGeometry(BATCH_NORM_RELU_TRAINING, x!, { scale, offset });
  const z = makeFloat32Output(args, [...x!.shape]);
  const mean = makeFloat32Output(args, [channels]);
  const variance = makeFloat32Output(args, [channels]);
  const { heap, refs } = nativeOperands(args.backend, x, mean, variance, scale, offset, z);
  const [xAt, meanAt, varAt, scaleAt, offsetAt, zAt] = refs;
  const addon = requireNativeAddon(BATCH_NORM_RELU_TRAINING);
  const geom = Int32Array.of(rows, channels);
  addon.batchNormStats(heap, geom, xAt, meanAt, varAt);
  if (fusedKernelsBuilt(addon)) {
    addon.batchNormRelu(
      heap,
      geom,
      xAt,
      meanAt,
      varAt,
      scaleAt,
      offsetAt,
      zAt,
      varianceEpsilon,
      cap,
    );
  } else {
    const bnGeom = Int32Array.of(rows, channels, 1, 1);
    addon.batchNorm(heap, bnGeom, xAt, meanAt, varAt, scaleAt, offsetAt, zAt, varianceEpsilon);
    addon.clip(heap, Int32Array.of(rows * channels, 0), zAt, zAt, 0, cap); // in place
  }
  return [z, mean, variance];
}

export function nativeBatchNormReluGradSums(args: KernelArgs): Info[] {
  const { dy, x, mean, variance, scale, offset } = args.inputs as Record<string, Info | undefined>;
  const { varianceEpsilon, cap } = reluAttrs(BATCH_NORM_RELU_GRAD_SUMS, args.attrs);
  const perChannel = { mean, variance, scale, offset };
  const { rows, channels } = channelGeometry(BATCH_NORM_RELU_GRAD_SUMS, x!, perChannel);
  checkDy(BATCH_NORM_RELU_GRAD_SUMS, dy, x!);
  const sumDy = makeFloat32Output(args, [channels]);
  const sumDyXc = makeFloat32Output(args, [channels]);
  const operands = [dy, x, mean, variance, scale, offset, sumDy, sumDyXc];
  const { heap, refs } = nativeOperands(args.backend, ...operands);
  requireNativeAddon(BATCH_NORM_RELU_GRAD_SUMS).batchNormReluGradSums(
    heap,
    Int32Array.of(rows, channels),
    ...(refs as [number, number, number, number, number, number, number, number]),
    varianceEpsilon,
    cap,
  );
  return [sumDy, sumDyXc];
}

export function nativeBatchNormReluGradInput(args: KernelArgs): Info {
  const inputs = args.inputs as Record<string, Info | undefined>;
  const { dy, x, mean, variance, scale, offset, sumDy, sumDyXc, dMean, dVariance } = inputs;
  const { varianceEpsilon, cap } = reluAttrs(BATCH_NORM_RELU_GRAD_INPUT, args.attrs);
  const perChannel = { mean, variance, scale, offset, sumDy, sumDyXc, dMean, dVariance };
  const { rows, channels } = channelGeometry(BATCH_NORM_RELU_GRAD_INPUT, x!, perChannel);
  checkDy(BATCH_NORM_RELU_GRAD_INPUT, dy, x!);
  const dx = makeFloat32Output(args, [...x!.shape]);
  const operands = [dy, x, mean, variance, scale, offset, sumDy, sumDyXc, dMean, dVariance, dx];
  const { heap, refs } = nativeOperands(args.backend, ...operands);
  requireNativeAddon(BATCH_NORM_RELU_GRAD_INPUT).batchNormReluGradInput(
    heap,
    Int32Array.of(rows, channels),
    ...(refs as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ]),
    varianceEpsilon,
    cap,
  );
  return dx;
}

/**
 * The op's gradient from the unfused kernels: y again (the FusedBatchNorm kernel computes it as
 * the op did), dy masked by the clip's gradient, then BatchNorm's gradient. For a stale addon.
 */
export function unfusedGradient(
  [dy, dMean, dVariance]: tf.Tensor[],
  [x, scale, offset, mean, variance]: tf.Tensor[],
  { varianceEpsilon, cap }: ReluAttrs,
): Record<string, () => tf.Tensor> {
  const y = tf.batchNorm(x, mean, variance, offset, scale, varianceEpsilon);
  const masked = tf.engine().runKernel(CLIP_GRAD, { dy, x: y }, { lo: 0, hi: cap, mode: 'mask' });
  const attrs = { varianceEpsilon } as unknown as tf.NamedAttrMap;
  const saved = [x, scale, mean, variance];
  return batchNormTrainingGradConfig.gradFunc(
    [masked as tf.Tensor, dMean, dVariance],
    saved,
    attrs,
  );
}

/**
 * The op's gradient: the masked sums in one kernel, dx in another (the mean and variance
 * gradients folded in, as BatchNorm's), dscale = r·Σdy·m·(x − μ), doffset = Σdy·m.
 */
export const batchNormReluTrainingGradConfig: tf.GradConfig = {
  kernelName: BATCH_NORM_RELU_TRAINING,
  inputsToSave: ['x', 'scale', 'offset'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as tf.Tensor[];
    const [x, scale, offset, mean, variance] = saved;
    const { varianceEpsilon, cap } = attrs as unknown as ReluAttrs;
    if (!fusedKernelsBuilt(requireNativeAddon(BATCH_NORM_RELU_TRAINING))) {
      return unfusedGradient(dys as tf.Tensor[], saved, { varianceEpsilon, cap });
    }
    const reluAttrsOf = { varianceEpsilon, cap };
    const perChannel = { mean, variance, scale, offset };
    const [sumDy, sumDyXc] = tf
      .engine()
      .runKernel(BATCH_NORM_RELU_GRAD_SUMS, { dy, x, ...perChannel }, reluAttrsOf) as tf.Tensor[];
    const gradInputs = { dy, x, ...perChannel, sumDy, sumDyXc, dMean, dVariance };
    return {
      x: () =>
        tf.engine().runKernel(BATCH_NORM_RELU_GRAD_INPUT, gradInputs, reluAttrsOf) as tf.Tensor,
      scale: () => tf.mul(sumDyXc, tf.rsqrt(tf.add(variance, varianceEpsilon))),
      offset: () => tf.clone(sumDy),
    };
  },
};
