/**
 * BatchMatMul for wasm with transposed operands: wasm's own kernel reaches XNNPACK only when
 * neither operand is transposed, and runs a scalar loop otherwise — every dense layer's gradient
 * (dW = xᵀ·dy, dx = dy·Wᵀ) takes that loop, ~9× slower than this (results/README.md#engine-notes).
 * With the transposes made explicit (2-D transposes of the smaller operands), the product is the
 * plain one, which wasm runs on XNNPACK:
 *   Aᵀ·B = transpose(A)·B  or  (transpose(B)·A)ᵀ        A·Bᵀ = A·transpose(B)  or  (B·transpose(A))ᵀ
 *   Aᵀ·Bᵀ = (B·A)ᵀ
 * whichever moves fewer floats. Batched products (batch > 1) go to wasm's kernel as they are.
 */
import * as tf from '@tensorflow/tfjs';
import { runStock, setupStock } from '../stockKernels.js';
import { release, reshape, transpose } from '../wasmOps.js';

type Info = tf.TensorInfo;

/** The plain product of 2-D a [M, K] and b [K, N] on wasm's XNNPACK path. */
function plain(backend: tf.KernelBackend, a: Info, b: Info): Info {
  return runStock(tf.BatchMatMul, {
    inputs: { a, b },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as Info;
}

function t2(backend: tf.KernelBackend, x: Info): Info {
  return transpose(backend, x, [1, 0]);
}

export function batchMatMul(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): Info {
  const { backend } = args;
  const { a, b } = args.inputs as { a: Info; b: Info };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (
    (!transposeA && !transposeB) ||
    batchA !== 1 ||
    batchB !== 1 ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32'
  ) {
    return runStock(tf.BatchMatMul, args) as Info;
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k) {
    throw new Error(
      `doconv BatchMatMul on wasm: inner dimensions differ: a ${JSON.stringify(a.shape)} (transposeA ${transposeA}), b ${JSON.stringify(b.shape)} (transposeB ${transposeB})`,
    );
  }
  const a2 = reshape(backend, a, [ar, ac]);
  const b2 = reshape(backend, b, [br, bc]);
  const temps: Info[] = [a2, b2];
  let out: Info;
  if (transposeA && transposeB) {
    const ba = plain(backend, b2, a2); // [N, M]
    temps.push(ba);
    out = t2(backend, ba);
  } else if (transposeA) {
    // transpose(A): k·m floats; the other way: k·n + n·m.
    if (k * m <= k * n + n * m) {
      const at = t2(backend, a2);
      temps.push(at);
      out = plain(backend, at, b2);
    } else {
      const bt = t2(backend, b2);
      const bta = plain(backend, bt, a2); // [N, M]
      temps.push(bt, bta);
      out = t2(backend, bta);
    }
  } else {
    // transpose(B): n·k floats; the other way: m·k + n·m.
    if (n * k <= m * k + n * m) {
      const bt = t2(backend, b2);
      temps.push(bt);
      out = plain(backend, a2, bt);
    } else {
      const at = t2(backend, a2);
      const bat = plain(backend, b2, at); // [N, M]
      temps.push(at, bat);
      out = t2(backend, bat);
    }
  }
  release(backend, ...temps);
  const outer = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const shaped = reshape(backend, out, [...outer, m, n]);
  release(backend, out);
  return shaped;
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
  setupFunc: setupStock(tf.BatchMatMul),
};
