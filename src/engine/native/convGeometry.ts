/**
 * TF.js conv attributes → the Int32Array geometry the addon's conv kernels take
 * (native/src/conv.h, ConvGeom), or the reason the native kernel cannot run them.
 */
import * as tf from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];

/** Fused activations the addon applies as a oneDNN post-op (conv.h, Activation). */
const ACTIVATION_CODES: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 3,
  elu: 4,
  sigmoid: 5,
};

export function activationCode(activation: string | undefined | null): number | undefined {
  return ACTIVATION_CODES[activation ?? 'linear'];
}

export interface ConvCall {
  xShape: Shape4;
  filterShape: Shape4;
  strides: number | [number, number];
  dilations: number | [number, number] | undefined;
  pad: unknown;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  depthwise: boolean;
  hasBias?: boolean;
  activation?: number;
}

export interface NativeConvGeometry {
  geom: Int32Array;
  info: tf.backend_util.Conv2DInfo;
}

/**
 * The geometry, or a string saying why not (the caller then runs the wasm kernel). oneDNN derives
 * the output size with floor division; TF.js's rounding modes other than floor can disagree.
 */
export function nativeConvGeometry(c: ConvCall): NativeConvGeometry | string {
  const info = tf.backend_util.computeConv2DInfo(
    c.xShape,
    c.filterShape,
    c.strides,
    c.dilations ?? 1,
    c.pad as 'same',
    c.dimRoundingMode,
    c.depthwise,
    'channelsLast',
  );
  const p = info.padInfo;
  const outLen = (inLen: number, k: number, s: number, d: number, p0: number, p1: number) =>
    Math.floor((inLen + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;
  if (
    outLen(
      info.inHeight,
      info.filterHeight,
      info.strideHeight,
      info.dilationHeight,
      p.top,
      p.bottom,
    ) !== info.outHeight ||
    outLen(
      info.inWidth,
      info.filterWidth,
      info.strideWidth,
      info.dilationWidth,
      p.left,
      p.right,
    ) !== info.outWidth
  ) {
    return `output ${info.outHeight}×${info.outWidth} is not the floor-rounded size oneDNN computes`;
  }
  if ([p.top, p.bottom, p.left, p.right].some((v) => v < 0)) return 'negative padding';
  const groups = c.depthwise ? info.inChannels : 1;
  const geom = Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    p.top,
    p.bottom,
    p.left,
    p.right,
    groups,
    c.hasBias ? 1 : 0,
    c.activation ?? 0,
  ]);
  return { geom, info };
}
