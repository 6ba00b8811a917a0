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

/** The addon's conv geometry by name (native/src/conv.h, ConvGeom, which documents each field). */
export interface ConvGeomFields {
  n: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
  groups: number;
  /** Forward only; default none. */
  hasBias?: boolean;
  /** Forward only: an activationCode; default linear. */
  act?: number;
}

/**
 * The fields in ConvGeom's order: the Int32Array the addon's conv kernels take. A field that is
 * not a whole number from 0 to 2^31 − 1 is refused by name: Int32Array would wrap it (a padding
 * of 2^32 + 1 becomes 1) into a geometry the addon cannot tell from a real one.
 */
export function convGeomArray(g: ConvGeomFields): Int32Array {
  // A plain loop over the fields: this runs on every conv call (Object.entries and spreads here
  // were most of a call's 5 µs of geometry).
  const values = [
    g.n,
    g.h,
    g.w,
    g.ci,
    g.oh,
    g.ow,
    g.co,
    g.kh,
    g.kw,
    g.sh,
    g.sw,
    g.dh,
    g.dw,
    g.pt,
    g.pb,
    g.pl,
    g.pr,
    g.groups,
    g.hasBias ? 1 : 0,
    g.act ?? 0,
  ];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v <= 2 ** 31 - 1)) {
      throw new Error(
        `doconv native conv: geometry field ${GEOM_FIELDS[i]} is ${v}, not a whole number from 0 to 2^31 − 1`,
      );
    }
  }
  return new Int32Array(values);
}

/** ConvGeom's field names, in order. */
const GEOM_FIELDS = [
  ...['n', 'h', 'w', 'ci', 'oh', 'ow', 'co', 'kh', 'kw'],
  ...['sh', 'sw', 'dh', 'dw', 'pt', 'pb', 'pl', 'pr', 'groups', 'hasBias', 'act'],
];

export interface NativeConvGeometry {
  geom: Int32Array;
  info: tf.backend_util.Conv2DInfo;
}

/**
 * The geometry, or a string saying why not (the caller then runs its fallback kernel). oneDNN
 * derives the output size with floor division; TF.js's rounding modes other than floor, and its
 * numeric pads on unequal axes (computeConv2DInfo sizes both with the filter's height), can give
 * another size. `fitOutput` then keeps TF.js's output size and moves the bottom/right padding to
 * match it — the same values, since output o reads input o·s + k·d − top whatever the far padding
 * is — where that padding stays ≥ 0 (the backprops, whose output size dy fixes).
 */
export function nativeConvGeometry(c: ConvCall, fitOutput = false): NativeConvGeometry | string {
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
  const p = { ...info.padInfo };
  const fits = () => fitsFloorRounding(info, p);
  if (!fits() && fitOutput) {
    p.bottom = farPad(
      info.outHeight,
      info.inHeight,
      info.filterHeight,
      info.strideHeight,
      info.dilationHeight,
      p.top,
    );
    p.right = farPad(
      info.outWidth,
      info.inWidth,
      info.filterWidth,
      info.strideWidth,
      info.dilationWidth,
      p.left,
    );
  }
  if (!fits()) {
    return `output ${info.outHeight}×${info.outWidth} is not the floor-rounded size oneDNN computes`;
  }
  if ([p.top, p.bottom, p.left, p.right].some((v) => v < 0)) return 'negative padding';
  const geom = convGeomArray({
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pt: p.top,
    pb: p.bottom,
    pl: p.left,
    pr: p.right,
    groups: c.depthwise ? info.inChannels : 1,
    hasBias: c.hasBias,
    act: c.activation,
  });
  return { geom, info };
}

/** The output length oneDNN's floor formula gives. */
function outLen(inLen: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((inLen + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;
}

/** The far padding that makes oneDNN's floor formula give `out`: (out − 1)·s + extent − in − near. */
function farPad(out: number, inLen: number, k: number, s: number, d: number, near: number): number {
  return (out - 1) * s + (k - 1) * d + 1 - inLen - near;
}

/** Whether oneDNN's floor formula gives TF.js's output size with padding `p`. */
function fitsFloorRounding(
  info: tf.backend_util.Conv2DInfo,
  p: { top: number; bottom: number; left: number; right: number },
): boolean {
  return (
    outLen(
      info.inHeight,
      info.filterHeight,
      info.strideHeight,
      info.dilationHeight,
      p.top,
      p.bottom,
    ) === info.outHeight &&
    outLen(
      info.inWidth,
      info.filterWidth,
      info.strideWidth,
      info.dilationWidth,
      p.left,
      p.right,
    ) === info.outWidth
  );
}
