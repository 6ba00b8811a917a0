/**
 * MaxPool and its gradient on the native engine: plain loops over NHWC windows (native/src/
 * eltwise.h: maxPool, maxPoolGrad), channels innermost. cpu's JavaScript kernels index element by
 * element (MaxPoolGrad was 60 % of LeNet's step). Dilated pooling and other dtypes go to the
 * fallback kernel.
 */
import * as tf from '@tensorflow/tfjs';
// Geometry fields are int32 on the C++ side, as wasm's indices are.
import { MAX_TENSOR_ELEMENTS } from '../kernelGuard.js';
import { runFallback } from './fallbacks.js';
import { requireNativeAddon } from './nativeAddon.js';
import { allFloat32, makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

/** PoolGeom (native/src/eltwise.h) of x's pooling, or null where the fallback must run it. */
function poolGeometry(x: Info, attrs: tf.MaxPoolAttrs): Int32Array | null {
  if (x.shape.length !== 4 || tf.util.sizeFromShape(x.shape) > MAX_TENSOR_ELEMENTS) return null;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.padInfo.top < 0 || info.padInfo.left < 0) return null;
  return Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
}

export function nativeMaxPool(args: KernelArgs): Info {
  const { x } = args.inputs as Record<string, Info>;
  const geom = allFloat32(x) ? poolGeometry(x, args.attrs as unknown as tf.MaxPoolAttrs) : null;
  if (geom === null || tf.util.sizeFromShape(x.shape) === 0) {
    return runFallback(tf.MaxPool, args) as Info;
  }
  const out = makeFloat32Output(args, [geom[0], geom[4], geom[5], geom[3]]);
  const { heap, refs } = nativeOperands(args.backend, x, out);
  requireNativeAddon(tf.MaxPool).maxPool(heap, geom, refs[0], refs[1]);
  return out;
}

export function nativeMaxPoolGrad(args: KernelArgs): Info {
  const { dy, input } = args.inputs as Record<string, Info>;
  const geom = allFloat32(dy, input)
    ? poolGeometry(input, args.attrs as unknown as tf.MaxPoolAttrs)
    : null;
  if (geom === null || tf.util.sizeFromShape(input.shape) === 0) {
    return runFallback(tf.MaxPoolGrad, args) as Info;
  }
  const dx = makeFloat32Output(args, [...input.shape]);
  const { heap, refs } = nativeOperands(args.backend, input, dy, dx);
  requireNativeAddon(tf.MaxPoolGrad).maxPoolGrad(heap, geom, refs[0], refs[1], refs[2]);
  return dx;
}
