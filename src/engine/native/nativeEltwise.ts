/**
 * The native engine's element-wise kernels (native/src/eltwise.cc): the ops of a training step
 * outside the convs — BatchNorm forward and its gradient's arithmetic, ReLU and its gradient
 * (Step · dy), residual adds, per-channel sums and means, broadcasts — on every core, in place on
 * the wasm heap. Shapes they do not cover (other broadcasts, reductions over inner axes, other
 * dtypes) go to the wasm kernel.
 */
import * as tf from '@tensorflow/tfjs';
// Geometry fields are int32 on the C++ side, as wasm's indices are.
import { MAX_TENSOR_ELEMENTS } from '../kernelGuard.js';
import { BATCH_NORM_GRAD_SUMS, CLIP_GRAD, RELU_GRAD } from '../fusedGradientOps.js';
import { runFallback } from './fallbacks.js';
import { requireNativeAddon, type Heap, type Operand } from './nativeAddon.js';
import {
  allFloat32,
  type KernelArgs,
  makeFloat32Output,
  nativeOperands,
  operandList,
} from './operands.js';

type Info = tf.TensorInfo;

/** native/src/eltwise.h's BinaryOp, UnaryOp and OperandMode. */
export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export const UNARY_OPS = { relu: 0, step: 1, square: 2, neg: 3, exp: 4, tanh: 5, log: 6 } as const;
const FULL = 0;
const SCALAR = 1;
const PER_CHANNEL = 2;
const PER_ROW = 3;

/** How a binary operand of `shape` is read against the output: null when no mode fits. */
function operandMode(shape: number[], outShape: number[], outSize: number): number | null {
  const size = tf.util.sizeFromShape(shape);
  const channels = outShape.length > 0 ? outShape[outShape.length - 1] : 1;
  // It broadcasts to the output (checked by the caller): equal size means equal shape.
  if (size === outSize) return FULL;
  if (size === 1) return SCALAR;
  if (size === channels && shape[shape.length - 1] === channels) return PER_CHANNEL;
  // [..., 1] against [..., C], the leading dimensions equal (softmax's x − max).
  const rowVector =
    shape.length === outShape.length &&
    shape[shape.length - 1] === 1 &&
    shape.slice(0, -1).every((d, i) => d === outShape[i]);
  return rowVector ? PER_ROW : null;
}

export interface BinaryPlan {
  outShape: number[];
  /** rows · channels = output elements */
  rows: number;
  channels: number;
  aMode: number;
  bMode: number;
}

/** How the native kernel runs a binary op on these shapes; null: the wasm kernel runs it. */
export function binaryPlan(aShape: number[], bShape: number[]): BinaryPlan | null {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const outSize = tf.util.sizeFromShape(outShape);
  const channels = outShape.length > 0 ? outShape[outShape.length - 1] : 1;
  const aMode = operandMode(aShape, outShape, outSize);
  const bMode = operandMode(bShape, outShape, outSize);
  if (aMode === null || bMode === null || outSize > MAX_TENSOR_ELEMENTS) return null;
  return { outShape, rows: channels > 0 ? outSize / channels : 0, channels, aMode, bMode };
}

/** Add, Sub, Multiply, RealDiv: same shapes, a scalar, a per-channel or a per-row vector on either side. */
export function nativeBinary(kernel: string, op: number) {
  return (args: KernelArgs): Info => {
    const { a, b } = args.inputs as Record<string, Info>;
    const plan = allFloat32(a, b) ? binaryPlan(a.shape, b.shape) : null;
    if (plan === null) return runFallback(kernel, args) as Info;
    const out = makeFloat32Output(args, plan.outShape);
    if (plan.rows * plan.channels === 0) return out;
    const geom = Int32Array.of(op, plan.rows, plan.channels, plan.aMode, plan.bMode);
    const { heap, refs } = nativeOperands(args.backend, a, b, out);
    requireNativeAddon(kernel).binary(heap, geom, refs[0], refs[1], refs[2]);
    return out;
  };
}

/** Relu, Step, Square, Neg, Exp, Tanh. */
export function nativeUnary(kernel: string, op: number) {
  return (args: KernelArgs): Info => {
    const { x } = args.inputs as Record<string, Info>;
    const size = tf.util.sizeFromShape(x.shape);
    if (!allFloat32(x) || size > MAX_TENSOR_ELEMENTS) return runFallback(kernel, args) as Info;
    const out = makeFloat32Output(args, [...x.shape]);
    if (size === 0) return out;
    const alpha = (args.attrs as { alpha?: number } | undefined)?.alpha ?? 0;
    const { heap, refs } = nativeOperands(args.backend, x, out);
    requireNativeAddon(kernel).unary(heap, Int32Array.of(op, size), refs[0], refs[1], alpha);
    return out;
  };
}

export interface ReducePlan {
  outShape: number[];
  rows: number;
  inner: number;
  outer: number;
}

/**
 * A reduction over one run of adjacent axes as [outer, rows, inner] → [outer, inner]: per-channel
 * sums of NHWC activations (outer 1), global average pooling (axes [1, 2]), full reductions;
 * null: the fallback kernel runs it.
 */
export function reducePlan(
  shape: number[],
  axis: number | number[],
  keepDims: boolean,
): ReducePlan | null {
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.some((a, i) => a !== axes[0] + i)) return null;
  const first = axes[0];
  const end = first + axes.length;
  const outer = tf.util.sizeFromShape(shape.slice(0, first));
  const rows = tf.util.sizeFromShape(shape.slice(first, end));
  const inner = tf.util.sizeFromShape(shape.slice(end));
  const size = outer * rows * inner;
  if (size === 0 || size > MAX_TENSOR_ELEMENTS) return null;
  const outShape = keepDims
    ? shape.map((d, i) => (i >= first && i < end ? 1 : d))
    : shape.filter((_, i) => i < first || i >= end);
  return { outShape, outer, rows, inner };
}

/**
 * A reduction over one run of adjacent axes of `x` by `reduce` on its plan's [rows, inner, outer]
 * geometry, or the fallback kernel where the plan does not fit.
 */
function runReduction(
  kernel: string,
  args: KernelArgs,
  axis: number | number[],
  keepDims: boolean,
  reduce: (heap: Heap, geom: Int32Array, x: Operand, y: Operand, plan: ReducePlan) => void,
): Info {
  const { x } = args.inputs as Record<string, Info>;
  const plan = allFloat32(x) ? reducePlan(x.shape, axis, keepDims) : null;
  if (plan === null) return runFallback(kernel, args) as Info;
  const out = makeFloat32Output(args, plan.outShape);
  const { heap, refs } = nativeOperands(args.backend, x, out);
  reduce(heap, Int32Array.of(plan.rows, plan.inner, plan.outer), refs[0], refs[1], plan);
  return out;
}

/** Sum and Mean over one run of adjacent axes. */
export function nativeReduce(kernel: string, mean: boolean) {
  return (args: KernelArgs): Info => {
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    return runReduction(kernel, args, axis, keepDims, (heap, geom, x, y, plan) =>
      requireNativeAddon(kernel).reduceRows(heap, geom, x, y, mean ? 1 / plan.rows : 1),
    );
  };
}

/** Max over one run of adjacent axes (softmax's and log-sum-exp's first pass). */
export function nativeMax(args: KernelArgs): Info {
  const { reductionIndices, keepDims } = args.attrs as unknown as tf.MaxAttrs;
  return runReduction(tf.Max, args, reductionIndices, keepDims, (heap, geom, x, y) =>
    requireNativeAddon(tf.Max).maxRows(heap, geom, x, y),
  );
}

/**
 * Tile whose repeated axes are all of size 1 and adjacent to each other, as [outer, block] →
 * [outer, repeats, block]: broadcastTo([1,1,1,C] → [N,H,W,C]) in BatchNorm's gradient (outer 1),
 * [N,1,1,C] → [N,H,W,C] in global average pooling's; else null.
 */
export function tilePlan(
  shape: number[],
  reps: number[],
): { outer: number; block: number; repeats: number } | null {
  if (reps.length !== shape.length) return null;
  const repeated = reps.flatMap((r, i) => (r > 1 ? [i] : []));
  const start = repeated.length > 0 ? repeated[0] : 0;
  const end = repeated.length > 0 ? repeated[repeated.length - 1] + 1 : 0;
  if (shape.slice(start, end).some((d) => d !== 1)) return null;
  const outer = tf.util.sizeFromShape(shape.slice(0, start));
  const block = tf.util.sizeFromShape(shape.slice(end));
  const repeats = tf.util.sizeFromShape(reps);
  const size = outer * block * repeats;
  return size === 0 || size > MAX_TENSOR_ELEMENTS ? null : { outer, block, repeats };
}

export function nativeTile(args: KernelArgs): Info {
  const { x } = args.inputs as Record<string, Info>;
  const { reps } = args.attrs as unknown as tf.TileAttrs;
  const plan = allFloat32(x) ? tilePlan(x.shape, reps) : null;
  if (plan === null) return runFallback(tf.Tile, args) as Info;
  const out = makeFloat32Output(
    args,
    x.shape.map((d, i) => d * reps[i]),
  );
  const { heap, refs } = nativeOperands(args.backend, x, out);
  const geom = Int32Array.of(plan.block, plan.repeats, plan.outer);
  requireNativeAddon(tf.Tile).tile(heap, geom, refs[0], refs[1]);
  return out;
}

/** FusedBatchNorm (tf.batchNorm) with one mean, variance, scale and offset per channel. */
export function nativeBatchNorm(args: KernelArgs): Info {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, Info | undefined>;
  const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
  const channels = x!.shape[x!.shape.length - 1] ?? 1;
  const perChannel = (t: Info | undefined) =>
    t == null || (t.shape.length === 1 && t.shape[0] === channels);
  const size = tf.util.sizeFromShape(x!.shape);
  if (
    !allFloat32(x, mean, variance, offset, scale) ||
    x!.shape.length === 0 ||
    mean == null ||
    variance == null ||
    ![mean, variance, offset, scale].every(perChannel) ||
    size > MAX_TENSOR_ELEMENTS
  ) {
    return runFallback(tf.FusedBatchNorm, args) as Info;
  }
  const out = makeFloat32Output(args, [...x!.shape]);
  if (size === 0) return out;
  const { heap, refs } = nativeOperands(args.backend, x, mean, variance, scale, offset, out);
  const geom = Int32Array.of(size / channels, channels, scale ? 1 : 0, offset ? 1 : 0);
  requireNativeAddon(tf.FusedBatchNorm).batchNorm(
    heap,
    geom,
    refs[0],
    refs[1],
    refs[2],
    refs[3],
    refs[4],
    refs[5],
    varianceEpsilon,
  );
  return out;
}

/** Rows before `axis` and each part's block (its elements from `axis` on). */
function blocks(shapes: number[][], axis: number): { outer: number; inner: number[] } {
  return {
    outer: tf.util.sizeFromShape(shapes[0].slice(0, axis)),
    inner: shapes.map((s) => tf.util.sizeFromShape(s.slice(axis))),
  };
}

/** Concat along any axis: each output row is the parts' blocks side by side (DeepLab's ASPP). */
export function nativeConcat(args: KernelArgs): Info {
  const parts = (args.inputs as unknown as Info[]).filter(
    (t) => tf.util.sizeFromShape(t.shape) > 0,
  );
  const all = args.inputs as unknown as Info[];
  const axis = tf.util.parseAxisParam(
    (args.attrs as unknown as tf.ConcatAttrs).axis,
    all[0].shape,
  )[0];
  const outShape = tf.backend_util.computeOutShape(
    all.map((t) => t.shape),
    axis,
  );
  const size = tf.util.sizeFromShape(outShape);
  if (parts.length === 0 || !allFloat32(...all) || size > MAX_TENSOR_ELEMENTS) {
    return runFallback(tf.Concat, args) as Info;
  }
  const out = makeFloat32Output(args, outShape);
  const { outer, inner } = blocks(
    parts.map((t) => t.shape),
    axis,
  );
  const { heap, refs } = nativeOperands(args.backend, out, ...parts);
  requireNativeAddon(tf.Concat).concat(
    heap,
    Int32Array.of(outer, ...inner),
    operandList(heap, refs.slice(1)),
    refs[0],
  );
  return out;
}

/** SplitV along any axis (Concat's gradient): the inverse gather. */
export function nativeSplitV(args: KernelArgs): Info[] {
  const { x } = args.inputs as Record<string, Info>;
  const attrs = args.attrs as unknown as tf.SplitVAttrs;
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
  if (
    !allFloat32(x) ||
    tf.util.sizeFromShape(x.shape) > MAX_TENSOR_ELEMENTS ||
    sizes.some((s) => s === 0)
  ) {
    return runFallback(tf.SplitV, args) as Info[];
  }
  const shapes = sizes.map((s) => x.shape.map((d, i) => (i === axis ? s : d)));
  const outs = shapes.map((s) => makeFloat32Output(args, s));
  if (tf.util.sizeFromShape(x.shape) === 0) return outs;
  const { outer, inner } = blocks(shapes, axis);
  const { heap, refs } = nativeOperands(args.backend, x, ...outs);
  requireNativeAddon(tf.SplitV).split(
    heap,
    Int32Array.of(outer, ...inner),
    refs[0],
    operandList(heap, refs.slice(1)),
  );
  return outs;
}

/** Throws, naming `kernel` and both inputs, unless they are float32 tensors of one shape. */
export function checkFloat32Pair(
  kernel: string,
  [aName, a]: [string, Info],
  [bName, b]: [string, Info],
) {
  if (!tf.util.arraysEqual(a.shape, b.shape) || !allFloat32(a, b)) {
    throw new Error(
      `doconv native ${kernel}: ${aName} and ${bName} must be float32 of one shape, got ${aName} ` +
        `${a.dtype} ${JSON.stringify(a.shape)} and ${bName} ${b.dtype} ${JSON.stringify(b.shape)}`,
    );
  }
}

/** doconv's ReLU gradient op (engine/fusedGradientOps.ts): dx = dy · step(x), one pass. */
export function nativeReluGrad(args: KernelArgs): Info {
  const { dy, x } = args.inputs as Record<string, Info>;
  checkFloat32Pair(RELU_GRAD, ['dy', dy], ['x', x]);
  const dx = makeFloat32Output(args, [...x.shape]);
  const size = tf.util.sizeFromShape(x.shape);
  if (size === 0) return dx;
  const { heap, refs } = nativeOperands(args.backend, dy, x, dx);
  const [dyAt, xAt, dxAt] = refs;
  requireNativeAddon(RELU_GRAD).reluGrad(heap, Int32Array.of(size), dyAt, xAt, dxAt);
  return dx;
}

/** The codes of ClipGradMode (native/src/eltwise.h). */
export const CLIP_GRAD_MODES = { where: 0, mask: 1 } as const;
export type ClipGradMode = keyof typeof CLIP_GRAD_MODES;

/** ClipByValue (attrs clipValueMin/Max) and Relu6 (0 and 6) in one native pass. */
export function nativeClip(kernel: typeof tf.ClipByValue | typeof tf.Relu6) {
  return (args: KernelArgs): Info => {
    const { x } = args.inputs as Record<string, Info>;
    const size = tf.util.sizeFromShape(x.shape);
    if (!allFloat32(x) || size > MAX_TENSOR_ELEMENTS) return runFallback(kernel, args) as Info;
    const out = makeFloat32Output(args, [...x.shape]);
    if (size === 0) return out;
    const bounds = args.attrs as Partial<tf.ClipByValueAttrs>;
    const [lo, hi] =
      kernel === tf.Relu6 ? [0, 6] : [bounds.clipValueMin as number, bounds.clipValueMax as number];
    const { heap, refs } = nativeOperands(args.backend, x, out);
    requireNativeAddon(kernel).clip(heap, Int32Array.of(size, 0), refs[0], refs[1], lo, hi);
    return out;
  };
}

/** doconv's clip gradient op (engine/fusedGradientOps.ts): ClipByValue's or Relu6's, one pass. */
export function nativeClipGrad(args: KernelArgs): Info {
  const { dy, x } = args.inputs as Record<string, Info>;
  const { lo, hi, mode } = args.attrs as unknown as { lo: number; hi: number; mode: ClipGradMode };
  if (!tf.util.arraysEqual(dy.shape, x.shape) || !allFloat32(dy, x) || !(mode in CLIP_GRAD_MODES)) {
    throw new Error(
      `doconv native ${CLIP_GRAD}: dy and x must be float32 of one shape and mode 'where' or 'mask', ` +
        `got dy ${dy.dtype} ${JSON.stringify(dy.shape)}, x ${x.dtype} ${JSON.stringify(x.shape)}, ` +
        `mode ${JSON.stringify(mode)}`,
    );
  }
  const dx = makeFloat32Output(args, [...x.shape]);
  const size = tf.util.sizeFromShape(x.shape);
  if (size === 0) return dx;
  const { heap, refs } = nativeOperands(args.backend, dy, x, dx);
  const geom = Int32Array.of(size, CLIP_GRAD_MODES[mode]);
  requireNativeAddon(CLIP_GRAD).clipGrad(heap, geom, refs[0], refs[1], refs[2], lo, hi);
  return dx;
}

/** doconv's BatchNorm gradient sums (engine/fusedGradientOps.ts): [Σdy, Σdy·(x − μ)] per channel. */
export function nativeBatchNormGradSums(args: KernelArgs): Info[] {
  const { dy, x, mean } = args.inputs as Record<string, Info>;
  const channels = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  if (
    !tf.util.arraysEqual(dy.shape, x.shape) ||
    !tf.util.arraysEqual(mean.shape, [channels]) ||
    !allFloat32(dy, x, mean) ||
    !(rows >= 1)
  ) {
    throw new Error(
      `doconv native ${BATCH_NORM_GRAD_SUMS}: dy and x must be float32 [..., C] of one shape and mean [C], ` +
        `got dy ${JSON.stringify(dy.shape)}, x ${JSON.stringify(x.shape)}, mean ${JSON.stringify(mean.shape)}`,
    );
  }
  const sumDy = makeFloat32Output(args, [channels]);
  const sumDyXc = makeFloat32Output(args, [channels]);
  const { heap, refs } = nativeOperands(args.backend, dy, x, mean, sumDy, sumDyXc);
  const [dyAt, xAt, meanAt, sumDyAt, sumDyXcAt] = refs;
  requireNativeAddon(BATCH_NORM_GRAD_SUMS).batchNormGradSums(
    heap,
    Int32Array.of(rows, channels),
    dyAt,
    xAt,
    meanAt,
    sumDyAt,
    sumDyXcAt,
  );
  return [sumDy, sumDyXc];
}
