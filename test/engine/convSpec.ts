/**
 * A conv for the addon by its shapes, as the addon tests and bench/nativeConvs.ts write them; the
 * output size follows as oneDNN computes it (floor division). No side effects.
 */
import type { ConvGeomFields } from '../../src/engine/native/nativeConvGeometry.js';

/** Strides and dilations default to 1, pad [top, bottom, left, right] to 0, groups to 1. */
export interface ConvSpec {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: [number, number];
  s?: [number, number];
  d?: [number, number];
  pad?: [number, number, number, number];
  groups?: number;
}

const outLen = (i: number, k: number, s: number, dl: number, p0: number, p1: number) =>
  Math.floor((i + p0 + p1 - ((k - 1) * dl + 1)) / s) + 1;

export function convOf(spec: ConvSpec): ConvGeomFields {
  const { n, h, w, ci, co, groups = 1 } = spec;
  const [kh, kw] = spec.k;
  const [sh, sw] = spec.s ?? [1, 1];
  const [dh, dw] = spec.d ?? [1, 1];
  const [pt, pb, pl, pr] = spec.pad ?? [0, 0, 0, 0];
  const oh = outLen(h, kh, sh, dh, pt, pb);
  const ow = outLen(w, kw, sw, dw, pl, pr);
  return { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups };
}
