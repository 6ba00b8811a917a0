/**
 * relu(a + b) in one native pass (util/addReluOp.ts) and its gradient: dy masked by step(y), the
 * same tensor's values for a and b. The values are Add's then Relu's bit for bit (the sum is
 * rounded to float32 first). An addon built before the kernel existed runs Add then Relu.
 */
import * as tf from '@tensorflow/tfjs';
import { ADD_RELU } from '../../util/addReluOp.js';
import { RELU_GRAD } from '../fusedGradientOps.js';
import { requireNativeAddon } from './nativeAddon.js';
import {
  BINARY_OPS,
  checkFloat32Pair,
  nativeBinary,
  nativeUnary,
  UNARY_OPS,
} from './nativeEltwise.js';
import { makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

/** Add's kernel, then Relu's: for an addon built before addRelu existed. */
export function unfusedAddRelu(args: KernelArgs): Info {
  const sum = nativeBinary(tf.Add, BINARY_OPS.add)(args);
  try {
    return nativeUnary(tf.Relu, UNARY_OPS.relu)({ ...args, inputs: { x: sum } });
  } finally {
    args.backend.disposeData(sum.dataId);
  }
}

export function nativeAddRelu(args: KernelArgs): Info {
  const { a, b } = args.inputs as Record<string, Info>;
  checkFloat32Pair(ADD_RELU, ['a', a], ['b', b]);
  const addon = requireNativeAddon(ADD_RELU);
  if (typeof addon.addRelu !== 'function') return unfusedAddRelu(args);
  const y = makeFloat32Output(args, [...a.shape]);
  const size = tf.util.sizeFromShape(a.shape);
  if (size === 0) return y;
  const { heap, refs } = nativeOperands(args.backend, a, b, y);
  addon.addRelu(heap, Int32Array.of(size), refs[0], refs[1], refs[2]);
  return y;
}

export const addReluGradConfig: tf.GradConfig = {
  kernelName: ADD_RELU,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    const masked = tf.engine().runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x: y }) as tf.Tensor;
    // b gets a handle of its own: the tape disposes each input's gradient after using it.
    return { a: () => masked, b: () => tf.clone(masked) };
  },
};
