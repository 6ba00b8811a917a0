/**
 * BatchMatMul on the native engine: oneDNN's matmul (native/src/matmul.cc) in place on the wasm
 * heap, transposed operands read through strides (no copies), a batch of 1 broadcast.
 *   y[b, i, j] = Σ_k op(a)[b, i, k] · op(b)[b, k, j]
 * Other broadcasts and dtypes go to the wasm kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { runFallback } from './fallbacks.js';
import { requireNativeAddon } from './nativeAddon.js';
import { nativeOperands, type KernelArgs, makeFloat32Output } from './operands.js';
import { BINARY_OPS, nativeBinary, nativeUnary, UNARY_OPS } from './nativeEltwise.js';

type Info = tf.TensorInfo;
const KERNEL = tf.BatchMatMul;

export function nativeBatchMatMul(args: KernelArgs): Info {
  const { a, b } = args.inputs as Record<string, Info>;
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) {
    return runFallback(KERNEL, args) as Info;
  }
  const [m, ka] = transposeA
    ? [a.shape[ra - 1], a.shape[ra - 2]]
    : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transposeB
    ? [b.shape[rb - 1], b.shape[rb - 2]]
    : [b.shape[rb - 2], b.shape[rb - 1]];
  if (ka !== kb) {
    throw new Error(
      `doconv native ${KERNEL}: inner dimensions differ: a ${JSON.stringify(a.shape)}` +
        `${transposeA ? ' (transposed)' : ''} has ${ka}, b ${JSON.stringify(b.shape)}` +
        `${transposeB ? ' (transposed)' : ''} has ${kb}`,
    );
  }
  const aBatchDims = a.shape.slice(0, -2);
  const bBatchDims = b.shape.slice(0, -2);
  const aBatch = tf.util.sizeFromShape(aBatchDims);
  const bBatch = tf.util.sizeFromShape(bBatchDims);
  const outBatchDims = tf.backend_util.assertAndGetBroadcastShape(aBatchDims, bBatchDims);
  const batch = tf.util.sizeFromShape(outBatchDims);
  // Element-wise batch broadcasting beyond "one operand has a single matrix" stays with wasm.
  const simple =
    (aBatch === batch || aBatch === 1) &&
    (bBatch === batch || bBatch === 1) &&
    (aBatch === 1 || bBatch === 1 || tf.util.arraysEqual(aBatchDims, bBatchDims));
  if (!simple || m * n * ka === 0) return runFallback(KERNEL, args) as Info;
  const out = makeFloat32Output(args, [...outBatchDims, m, n]);
  const geom = Int32Array.from([
    batch,
    aBatch,
    bBatch,
    m,
    ka,
    n,
    transposeA ? 1 : 0,
    transposeB ? 1 : 0,
  ]);
  const { heap, refs } = nativeOperands(args.backend, a, b, out);
  requireNativeAddon(KERNEL).matMul(heap, geom, refs[0], refs[1], refs[2]);
  return out;
}

/** Activations of _FusedMatMul the native kernels apply after the product. */
const FUSED_ACTIVATIONS: Record<string, number | null> = {
  linear: null,
  relu: UNARY_OPS.relu,
};

/**
 * _FusedMatMul (tf.layers.dense with a bias, linear or ReLU): the product, then the bias per
 * output column and the activation, each a native kernel. PReLU and the other activations go
 * to the fallback kernel.
 */
export function nativeFusedMatMul(args: KernelArgs): Info {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, Info | undefined>;
  const { transposeA, transposeB, activation } = args.attrs as unknown as {
    transposeA: boolean;
    transposeB: boolean;
    activation?: string;
  };
  const op = FUSED_ACTIVATIONS[activation ?? 'linear'];
  if (op === undefined || preluActivationWeights != null) {
    return runFallback(tf._FusedMatMul, args) as Info;
  }
  const disposeIntermediate = (t: Info) => args.backend.disposeData(t.dataId);
  let y = nativeBatchMatMul({
    ...args,
    inputs: { a: a!, b: b! },
    attrs: { transposeA, transposeB },
  });
  if (bias != null) {
    const biased = nativeBinary(
      tf.Add,
      BINARY_OPS.add,
    )({ ...args, inputs: { a: y, b: bias }, attrs: {} });
    disposeIntermediate(y);
    y = biased;
  }
  if (op !== null) {
    const activated = nativeUnary(tf.Relu, op)({ ...args, inputs: { x: y }, attrs: {} });
    disposeIntermediate(y);
    y = activated;
  }
  return y;
}
