/**
 * Slice and PadV2 (zero padding) on the native engine: one contiguous copy per row of the box
 * (native/src/eltwise.h: boxCopy). cpu's kernels walk a strided slice element by element with
 * index arithmetic: the gradient of a ZeroPadding2D (the PyTorch MNIST sample's padding) took 80 %
 * of that net's step. Ranks up to 6, float32; anything else goes to the fallback kernel.
 */
import * as tf from '@tensorflow/tfjs';
// Geometry fields are int32 on the C++ side, as wasm's indices are.
import { MAX_TENSOR_ELEMENTS } from '../kernelGuard.js';
import { runFallback } from './fallbacks.js';
import { isNativeBackend, type NativeBackend } from './NativeBackend.js';
import { requireNativeAddon } from './nativeAddon.js';
import { allFloat32, makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

const MAX_RANK = 6;

/** [rank, big ×6, box ×6, at ×6, toBig] (native/src/eltwise.h BoxGeom). */
function boxGeometry(big: number[], box: number[], at: number[], toBig: boolean): Int32Array {
  const pad = (dims: number[]) => [...dims, ...new Array(MAX_RANK - dims.length).fill(0)];
  return Int32Array.from([big.length, ...pad(big), ...pad(box), ...pad(at), toBig ? 1 : 0]);
}

function fits(x: Info, outShape: number[]): boolean {
  return (
    allFloat32(x) &&
    x.shape.length >= 1 &&
    x.shape.length <= MAX_RANK &&
    Math.max(tf.util.sizeFromShape(x.shape), tf.util.sizeFromShape(outShape)) <= MAX_TENSOR_ELEMENTS
  );
}

export function nativeSlice(args: KernelArgs): Info {
  const { x } = args.inputs as Record<string, Info>;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [at, box] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  if (!fits(x, box)) return runFallback(tf.Slice, args) as Info;
  tf.slice_util.assertParamsValid(x as tf.Tensor, at, box);
  const out = makeFloat32Output(args, box);
  if (tf.util.sizeFromShape(box) === 0) return out;
  const { heap, refs } = nativeOperands(args.backend, x, out);
  requireNativeAddon(tf.Slice).boxCopy(
    heap,
    boxGeometry(x.shape, box, at, false),
    refs[0],
    refs[1],
  );
  return out;
}

export function nativePadV2(args: KernelArgs): Info {
  const { x } = args.inputs as Record<string, Info>;
  const { paddings, constantValue } = args.attrs as unknown as tf.PadV2Attrs;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  // doconv-native can hand out a zeroed output (wasm cannot, and its own PadV2 is native code):
  // other constants and the wasm heap are the fallback's.
  if (
    !isNativeBackend(args.backend) ||
    constantValue !== 0 ||
    !fits(x, outShape) ||
    paddings.flat().some((p) => p < 0)
  ) {
    return runFallback(tf.PadV2, args) as Info;
  }
  // The padding is what the copy leaves: a zeroed output.
  const out = (args.backend as NativeBackend).makeFloat32(outShape, true);
  if (tf.util.sizeFromShape(x.shape) === 0) return out;
  const at = paddings.map((p) => p[0]);
  const { heap, refs } = nativeOperands(args.backend, x, out);
  requireNativeAddon(tf.PadV2).boxCopy(
    heap,
    boxGeometry(outShape, x.shape, at, true),
    refs[1],
    refs[0],
  );
  return out;
}
