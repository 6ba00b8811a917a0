/**
 * BatchNorm in training on the native engine (util/batchNormTrainingOp.ts): the batch statistics
 * in one pass and the normalisation in another, forward; backward the per-channel sums in one
 * pass and dx in one more (native/src/eltwise.h: batchNormStats, batchNorm, batchNormGradSums,
 * batchNormTrainGradInput) — in place of ~17 TF.js ops over the full tensor.
 */
import * as tf from '@tensorflow/tfjs';
// Geometry fields are int32 on the C++ side, as wasm's indices are.
import { MAX_TENSOR_ELEMENTS } from '../kernelGuard.js';
import { BATCH_NORM_GRAD_SUMS } from '../fusedGradientOps.js';
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD_INPUT,
} from '../../util/batchNormTrainingOp.js';
import { requireNativeAddon } from './nativeAddon.js';
import { makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

/** rows × channels of x [..., C], checked with its per-channel companions; errors name `kernel`. */
export function channelGeometry(
  kernel: string,
  x: Info,
  perChannel: Record<string, Info | undefined>,
): { rows: number; channels: number } {
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const size = tf.util.sizeFromShape(x.shape);
  const bad = Object.entries(perChannel).filter(
    ([, t]) => t != null && (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, [channels])),
  );
  if (
    x.dtype !== 'float32' ||
    channels < 1 ||
    size < 1 ||
    size > MAX_TENSOR_ELEMENTS ||
    bad.length > 0
  ) {
    const others = Object.entries(perChannel)
      .map(
        ([name, t]) => `${name} ${t == null ? 'absent' : `${t.dtype} ${JSON.stringify(t.shape)}`}`,
      )
      .join(', ');
    throw new Error(
      `doconv native ${kernel}: x must be a non-empty float32 [..., C] (at most 2^31 − 1 elements) ` +
        `and ${Object.keys(perChannel).join(', ')} float32 [C], got x ${x.dtype} ` +
        `${JSON.stringify(x.shape)}, ${others}`,
    );
  }
  return { rows: size / channels, channels };
}

export function nativeBatchNormTraining(args: KernelArgs): Info[] {
  const { x, scale, offset } = args.inputs as Record<string, Info | undefined>;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const { rows, channels } = channelGeometry(BATCH_NORM_TRAINING, x!, { scale, offset });
  const y = makeFloat32Output(args, [...x!.shape]);
  const mean = makeFloat32Output(args, [channels]);
  const variance = makeFloat32Output(args, [channels]);
  const { heap, refs } = nativeOperands(args.backend, x, mean, variance, scale, offset, y);
  const [xAt, meanAt, varAt, scaleAt, offsetAt, yAt] = refs;
  const addon = requireNativeAddon(BATCH_NORM_TRAINING);
  addon.batchNormStats(heap, Int32Array.of(rows, channels), xAt, meanAt, varAt);
  const geom = Int32Array.of(rows, channels, scale ? 1 : 0, offset ? 1 : 0);
  addon.batchNorm(heap, geom, xAt, meanAt, varAt, scaleAt, offsetAt, yAt, varianceEpsilon);
  return [y, mean, variance];
}

export function nativeBatchNormTrainingGradInput(args: KernelArgs): Info {
  const inputs = args.inputs as Record<string, Info | undefined>;
  const { dy, x, mean, variance, scale, sumDy, sumDyXc, dMean, dVariance } = inputs;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const perChannel = { mean, variance, scale, sumDy, sumDyXc, dMean, dVariance };
  const { rows, channels } = channelGeometry(BATCH_NORM_TRAINING_GRAD_INPUT, x!, perChannel);
  if (dy == null || dy.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x!.shape)) {
    throw new Error(
      `doconv native ${BATCH_NORM_TRAINING_GRAD_INPUT}: dy must be float32 of x's shape ` +
        `${JSON.stringify(x!.shape)}, got ${dy?.dtype} ${JSON.stringify(dy?.shape)}`,
    );
  }
  const dx = makeFloat32Output(args, [...x!.shape]);
  const operands = [dy, x, mean, variance, scale, sumDy, sumDyXc, dMean, dVariance, dx];
  const { heap, refs } = nativeOperands(args.backend, ...operands);
  const [dyAt, xAt, meanAt, varAt, scaleAt, sumDyAt, sumDyXcAt, dMeanAt, dVarAt, dxAt] = refs;
  const geom = Int32Array.of(rows, channels, scale ? 1 : 0);
  requireNativeAddon(BATCH_NORM_TRAINING_GRAD_INPUT).batchNormTrainGradInput(
    heap,
    geom,
    dyAt,
    xAt,
    meanAt,
    varAt,
    scaleAt,
    sumDyAt,
    sumDyXcAt,
    dMeanAt,
    dVarAt,
    dxAt,
    varianceEpsilon,
  );
  return dx;
}

/**
 * The op's gradient: the sums in one kernel, dx in another (mean and variance gradients folded
 * in: zeros unless the loss uses the batch statistics), dscale = r·Σdy(x − μ), doffset = Σdy.
 */
export const batchNormTrainingGradConfig: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as tf.Tensor[];
    const [x, scale, mean, variance] = saved;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [sumDy, sumDyXc] = tf
      .engine()
      .runKernel(BATCH_NORM_GRAD_SUMS, { dy, x, mean }, {}) as tf.Tensor[];
    const gradInputs = {
      dy,
      x,
      mean,
      variance,
      ...(scale != null ? { scale } : {}),
      sumDy,
      sumDyXc,
      dMean,
      dVariance,
    };
    return {
      x: () =>
        tf
          .engine()
          .runKernel(BATCH_NORM_TRAINING_GRAD_INPUT, gradInputs as unknown as tf.NamedTensorMap, {
            varianceEpsilon,
          }) as tf.Tensor,
      scale: () => tf.mul(sumDyXc, tf.rsqrt(tf.add(variance, varianceEpsilon))),
      offset: () => tf.clone(sumDy),
    };
  },
};
