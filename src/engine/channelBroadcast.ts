/**
 * Element-wise ops between an activation [..., C] and a per-channel vector ([C], [1,1,1,C]) as one
 * XNNPACK 1×1 depthwise conv: x·v is the conv with filter v; x + v the conv with filter 1 and bias
 * v. XNNPACK's broadcasting binary kernels step through the activation C values at a time, which is
 * slow for the small C of CNNs (C = 16: the conv is ~2.7× faster; results/README.md#engine-notes). Results are
 * bit-identical to the plain op: 0 + x·v and b + x·1 round once, like x·v and x + b.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { runStock, setupStock } from './stockKernels.js';
import { depthwiseConv2d, depthwiseConv2dBias, release, reshape } from './wasmOps.js';

/** Which operand is the activation, and its channel count; null when the pattern does not hold. */
export function matchChannelBroadcast(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
): { big: 'a' | 'b'; channels: number } | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const isVector = (v: tf.TensorInfo, c: number, rank: number) =>
    v.shape.length >= 1 &&
    v.shape.length <= rank &&
    v.shape[v.shape.length - 1] === c &&
    v.shape.slice(0, -1).every((d) => d === 1);
  for (const [big, vec, name] of [
    [a, b, 'a'],
    [b, a, 'b'],
  ] as const) {
    const c = big.shape[big.shape.length - 1];
    const size = tf.util.sizeFromShape(big.shape);
    if (big.shape.length >= 2 && c > 1 && size > c && isVector(vec, c, big.shape.length)) {
      return { big: name, channels: c };
    }
  }
  return null;
}

/** The activation as the conv's NHWC input: [1, 1, pixels, C] (a view, owned by the caller). */
function asImage(backend: tf.KernelBackend, x: tf.TensorInfo, c: number): tf.TensorInfo {
  return reshape(backend, x, [1, 1, tf.util.sizeFromShape(x.shape) / c, c]);
}

/** A fresh [1,1,C,1] filter and [C] bias filled from JS (C values; cheap). */
function filterAndBias(
  backend: BackendWasm,
  c: number,
  fill: (w: Float32Array, b: Float32Array) => void,
): { filter: tf.TensorInfo; bias: tf.TensorInfo } {
  const filter = backend.makeOutput([1, 1, c, 1], 'float32');
  const bias = backend.makeOutput([c], 'float32');
  // Views after both allocations: growing the wasm heap detaches older views.
  fill(
    backend.typedArrayFromHeap(filter) as Float32Array,
    backend.typedArrayFromHeap(bias) as Float32Array,
  );
  return { filter, bias };
}

/** x · v per channel. */
export function channelMultiply(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  v: tf.TensorInfo,
  c: number,
): tf.TensorInfo {
  const x4 = asImage(backend, x, c);
  const f = reshape(backend, v, [1, 1, c, 1]);
  const y = depthwiseConv2d(backend, x4, f, [1, 1], [1, 1], 'valid');
  release(backend, x4, f);
  const out = reshape(backend, y, x.shape);
  release(backend, y);
  return out;
}

/** sx·x + sv·v per channel, for sx, sv ∈ {1, −1} (Add: 1, 1; x − v: 1, −1; v − x: −1, 1). */
export function channelAffine(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  v: tf.TensorInfo,
  c: number,
  sx: 1 | -1,
  sv: 1 | -1,
): tf.TensorInfo {
  const wasm = backend as unknown as BackendWasm;
  const { filter, bias } = filterAndBias(wasm, c, (w, b) => {
    const vv = wasm.typedArrayFromHeap(v) as Float32Array;
    w.fill(sx);
    for (let i = 0; i < c; i++) b[i] = sv * vv[i];
  });
  const x4 = asImage(backend, x, c);
  const y = depthwiseConv2dBias(backend, x4, filter, bias);
  release(backend, x4, filter, bias);
  const out = reshape(backend, y, x.shape);
  release(backend, y);
  return out;
}

type BinaryArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
};

/**
 * The wasm KernelConfig of a binary op (Add, Sub, Multiply) that runs `channelOp` when one operand is
 * an activation and the other a per-channel vector, and wasm's own kernel otherwise.
 */
export function channelBroadcastKernel(
  kernelName: string,
  channelOp: (
    backend: tf.KernelBackend,
    activation: tf.TensorInfo,
    vector: tf.TensorInfo,
    channels: number,
    activationIsA: boolean,
  ) => tf.TensorInfo,
): tf.KernelConfig {
  const kernelFunc = (args: BinaryArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const m = matchChannelBroadcast(a, b);
    if (m == null) return runStock(kernelName, args) as tf.TensorInfo;
    return m.big === 'a'
      ? channelOp(args.backend, a, b, m.channels, true)
      : channelOp(args.backend, b, a, m.channels, false);
  };
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    setupFunc: setupStock(kernelName),
  };
}
