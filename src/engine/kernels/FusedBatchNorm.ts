/**
 * FusedBatchNorm for wasm as one XNNPACK pass: with per-channel a = scale·rsqrt(variance + ε) and
 * b = offset − mean·a (C values, computed here in float64), y = x·a + b is a 1×1 depthwise conv
 * with filter a and bias b. wasm's own kernel is a scalar loop (~10× slower than
 * this; results/README.md#engine-notes), and BatchNorm runs it in every training step and every inference.
 * Rounding differs from (x − mean)·a + offset when |mean| ≫ std (cancellation in b; the folded form
 * XNNPACK/TFLite use for inference). Parameters that are not per-channel go to wasm's kernel.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { runStock, setupStock } from '../stockKernels.js';
import { depthwiseConv2dBias, release } from '../wasmOps.js';

/** True when `p` broadcasts against [..., C] along the last axis only (shape [C], [1,1,1,C], [1], []). */
function perChannel(p: tf.TensorInfo | undefined, c: number): boolean {
  if (p == null) return true;
  const s = p.shape;
  if (p.dtype !== 'float32' || s.length > 4) return false;
  if (s.length === 0) return true;
  const last = s[s.length - 1];
  return s.slice(0, -1).every((d) => d === 1) && (last === c || last === 1);
}

export function fusedBatchNorm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as unknown as BackendWasm;
  const { x, mean, variance, offset, scale } = args.inputs as {
    x: tf.TensorInfo;
    mean: tf.TensorInfo;
    variance: tf.TensorInfo;
    offset?: tf.TensorInfo;
    scale?: tf.TensorInfo;
  };
  const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
  const c = x.shape[x.shape.length - 1];
  const applies =
    x.dtype === 'float32' &&
    x.shape.length === 4 &&
    x.shape.every((d) => d > 0) &&
    [mean, variance, offset, scale].every((p) => perChannel(p, c));
  if (!applies) return runStock(tf.FusedBatchNorm, args) as tf.TensorInfo;

  const filter = backend.makeOutput([1, 1, c, 1], 'float32');
  const bias = backend.makeOutput([c], 'float32');
  // Views after every allocation: growing the wasm heap detaches older views.
  const view = (p: tf.TensorInfo) => backend.typedArrayFromHeap(p) as Float32Array;
  const at = (v: Float32Array | null, i: number, dflt: number) =>
    v == null ? dflt : v.length === 1 ? v[0] : v[i];
  const [m, v, o, s] = [mean, variance, offset, scale].map((p) => (p == null ? null : view(p)));
  const a = view(filter);
  const b = view(bias);
  for (let i = 0; i < c; i++) {
    const ai = at(s, i, 1) / Math.sqrt(at(v, i, 1) + varianceEpsilon);
    a[i] = ai;
    b[i] = at(o, i, 0) - at(m, i, 0) * ai;
  }
  const y = depthwiseConv2dBias(args.backend, x, filter, bias);
  release(args.backend, filter, bias);
  return y;
}

export const fusedBatchNormConfig: tf.KernelConfig = {
  kernelName: tf.FusedBatchNorm,
  backendName: 'wasm',
  kernelFunc: fusedBatchNorm as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.FusedBatchNorm),
};
