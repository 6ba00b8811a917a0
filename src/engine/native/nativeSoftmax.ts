/**
 * Softmax over the last axis on doconv-native (native/src/softmax.h, softmaxRows): one pass a row
 * with tfjs-backend-cpu's bits. cpu's kernel is six JavaScript kernels (Max, Reshape, Sub, Exp,
 * Sum, RealDiv) and five temporaries: ~150 µs of the TF MNIST sample's 8 ms step for its 32 × 10
 * output. Its gradient is TF.js's (Multiply, Sum, Sub: native kernels). Another axis or dtype goes
 * to the fallback. Registered on doconv-native only (nativeKernels.ts: wasm keeps its own).
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_TENSOR_ELEMENTS } from '../kernelGuard.js';
import { runFallback } from './fallbacks.js';
import { requireNativeAddon } from './nativeAddon.js';
import { makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

export function nativeSoftmax(args: KernelArgs): Info {
  const { logits } = args.inputs as Record<string, Info>;
  const { dim } = args.attrs as unknown as tf.SoftmaxAttrs;
  const rank = logits.shape.length;
  const classes = logits.shape[rank - 1] ?? 0;
  const size = tf.util.sizeFromShape(logits.shape);
  if (
    logits.dtype !== 'float32' ||
    rank < 1 ||
    (dim !== -1 && dim !== rank - 1) ||
    classes < 1 ||
    size > MAX_TENSOR_ELEMENTS ||
    // an addon built before this kernel existed (a checkout's stale build)
    typeof requireNativeAddon(tf.Softmax).softmax !== 'function'
  ) {
    return runFallback(tf.Softmax, args) as Info;
  }
  const y = makeFloat32Output(args, [...logits.shape]);
  if (size === 0) return y;
  const { heap, refs } = nativeOperands(args.backend, logits, y);
  const [logitsAt, yAt] = refs;
  requireNativeAddon(tf.Softmax).softmax(
    heap,
    Int32Array.of(size / classes, classes),
    logitsAt,
    yAt,
  );
  return y;
}
