/** Shared by the engine tests: seeded data, kernel runs, tolerances. No side effects (see wasmSetup.ts). */
import * as tf from '@tensorflow/tfjs';
// One tolerance helper for every test: error relative to the expected tensor's magnitude.
export { relativeError } from '../helpers/tolerance.js';

export type Shape4 = [number, number, number, number];

/** Deterministic values in [-1, 1) (mulberry32), so failures reproduce. */
export function seededValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export interface HostTensor {
  values: Float32Array;
  shape: number[];
}

export function host(shape: number[], seed: number): HostTensor {
  return {
    values: seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  };
}

/** Runs one kernel on `backend` from host data and returns the result on the host. */
export async function runKernelOn(
  backend: string,
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
): Promise<HostTensor> {
  await tf.setBackend(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape);
  const out = tf.engine().runKernel(kernelName, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: (await out.data()) as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(ts)]);
  return result;
}

/** Filter [KH,KW,A,B] with d−1 zero taps between taps: a dilated conv equals a dense one with this. */
export function dilateFilter(f: HostTensor, dh: number, dw: number): HostTensor {
  const [kh, kw, a, b] = f.shape;
  const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const values = new Float32Array(eh * ew * a * b);
  const inner = a * b;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = (i * kw + j) * inner;
      const dst = (i * dh * ew + j * dw) * inner;
      values.set(f.values.subarray(src, src + inner), dst);
    }
  }
  return { values, shape: [eh, ew, a, b] };
}

/** Inverse of dilateFilter: the taps at multiples of the dilation. */
export function undilateFilter(
  f: HostTensor,
  kh: number,
  kw: number,
  dh: number,
  dw: number,
): HostTensor {
  const [, ew, a, b] = f.shape;
  const inner = a * b;
  const values = new Float32Array(kh * kw * inner);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = (i * dh * ew + j * dw) * inner;
      values.set(f.values.subarray(src, src + inner), (i * kw + j) * inner);
    }
  }
  return { values, shape: [kh, kw, a, b] };
}

/** Output shape of the forward conv, as the kernels under test will compute it. */
export function convOutShape(
  xShape: Shape4,
  filterShape: Shape4,
  strides: [number, number],
  dilations: [number, number],
  pad: unknown,
  depthwise: boolean,
): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    dilations,
    pad as 'same',
    undefined,
    depthwise,
  );
  return info.outShape as Shape4;
}
