/**
 * ResizeBilinear and its gradient on the native engine (native/src/resize.h): the same doubles
 * and roundings as cpu's JavaScript kernels, which index element by element (DeepLab's bilinear
 * upsampling was ~20 % of its training step). The gradient with halfPixelCenters goes to the
 * fallback: cpu's kernel ignores that flag, and the fallback keeps TF.js's result.
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_TENSOR_ELEMENTS } from '../kernelGuard.js';
import { runFallback } from './fallbacks.js';
import { requireNativeAddon } from './nativeAddon.js';
import { allFloat32, makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

/** ResizeGeom (native/src/resize.h) of resizing `images` to `size`, or null for the fallback. */
function resizeGeometry(
  images: Info,
  [oh, ow]: readonly number[],
  { alignCorners, halfPixelCenters }: { alignCorners: boolean; halfPixelCenters: boolean },
): Int32Array | null {
  if (images.shape.length !== 4) return null;
  const [n, h, w, c] = images.shape;
  const sizes = [n * h * w * c, n * oh * ow * c];
  if (sizes.some((s) => s === 0 || s > MAX_TENSOR_ELEMENTS)) return null;
  return Int32Array.of(n, h, w, c, oh, ow, alignCorners ? 1 : 0, halfPixelCenters ? 1 : 0);
}

export function nativeResizeBilinear(args: KernelArgs): Info {
  const { images } = args.inputs as Record<string, Info>;
  const attrs = args.attrs as unknown as tf.ResizeBilinearAttrs;
  const geom = allFloat32(images) ? resizeGeometry(images, attrs.size, attrs) : null;
  if (geom === null) return runFallback(tf.ResizeBilinear, args) as Info;
  const out = makeFloat32Output(args, [geom[0], geom[4], geom[5], geom[3]]);
  const { heap, refs } = nativeOperands(args.backend, images, out);
  requireNativeAddon(tf.ResizeBilinear).resizeBilinear(heap, geom, refs[0], refs[1]);
  return out;
}

export function nativeResizeBilinearGrad(args: KernelArgs): Info {
  const { images, dy } = args.inputs as Record<string, Info>;
  const attrs = args.attrs as unknown as tf.ResizeBilinearAttrs;
  const fits =
    allFloat32(images, dy) &&
    !attrs.halfPixelCenters &&
    dy.shape.length === 4 &&
    dy.shape[0] === images.shape[0] &&
    dy.shape[3] === images.shape[3];
  const geom = fits ? resizeGeometry(images, dy.shape.slice(1, 3), attrs) : null;
  if (geom === null) return runFallback(tf.ResizeBilinearGrad, args) as Info;
  const dx = makeFloat32Output(args, [...images.shape]);
  const { heap, refs } = nativeOperands(args.backend, dy, dx);
  requireNativeAddon(tf.ResizeBilinearGrad).resizeBilinearGrad(heap, geom, refs[0], refs[1]);
  return dx;
}
