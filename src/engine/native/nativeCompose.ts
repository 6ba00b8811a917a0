/**
 * DO-Conv's kernel composition (groups = 1) on the native engine: one kernel forward and one
 * backward (native/src/compose.cc) in place of the ~14 TF.js ops the algebra builds it from.
 * Registered only with the native engine; the algebra uses it when the backend has it.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { COMPOSE_KERNEL, COMPOSE_KERNEL_GRAD } from '../../util/composeKernelOp.js';
import type { KernelArgs } from './nativeConv.js';
import { requireNativeAddon } from './nativeAddon.js';
import { heapOffsets } from './wasmHeap.js';

type Info = tf.TensorInfo;

/** [area, dMul, channels, filters], checked: a mismatch names the kernel and both shapes. */
function composeGeometry(kernel: string, dHat: Info, weight: Info): Int32Array {
  const [area, dMul, channels] = dHat.shape;
  const fits =
    dHat.shape.length === 3 &&
    weight.shape.length === 3 &&
    weight.shape[0] === dMul &&
    weight.shape[1] === channels;
  if (!fits || dHat.dtype !== 'float32' || weight.dtype !== 'float32') {
    throw new Error(
      `doconv native ${kernel}: dHat must be float32 [M·N, dMul, C] and weight float32 [dMul, C, F], ` +
        `got dHat ${dHat.dtype} ${JSON.stringify(dHat.shape)} and weight ${weight.dtype} ${JSON.stringify(weight.shape)}`,
    );
  }
  return Int32Array.of(area, dMul, channels, weight.shape[2]);
}

function output(args: KernelArgs, shape: number[]): Info {
  return (args.backend as unknown as BackendWasm).makeOutput(shape, 'float32') as Info;
}

export function nativeCompose(args: KernelArgs): Info {
  const { dHat, weight } = args.inputs as Record<string, Info>;
  const geom = composeGeometry(COMPOSE_KERNEL, dHat, weight);
  const k = output(args, [geom[0], geom[2], geom[3]]);
  const { heap, offsets } = heapOffsets(args.backend, dHat, weight, k);
  requireNativeAddon(COMPOSE_KERNEL).compose(heap, geom, offsets[0], offsets[1], offsets[2]);
  return k;
}

export function nativeComposeGrad(args: KernelArgs): Info[] {
  const { dy, dHat, weight } = args.inputs as Record<string, Info>;
  const geom = composeGeometry(COMPOSE_KERNEL_GRAD, dHat, weight);
  const want = [geom[0], geom[2], geom[3]];
  if (!tf.util.arraysEqual(dy.shape, want) || dy.dtype !== 'float32') {
    throw new Error(
      `doconv native ${COMPOSE_KERNEL_GRAD}: dy must be float32 ${JSON.stringify(want)}, got ${dy.dtype} ${JSON.stringify(dy.shape)}`,
    );
  }
  const dd = output(args, [...dHat.shape]);
  const dw = output(args, [...weight.shape]);
  const { heap, offsets } = heapOffsets(args.backend, dy, dHat, weight, dd, dw);
  const [dyAt, dHatAt, weightAt, ddAt, dwAt] = offsets;
  requireNativeAddon(COMPOSE_KERNEL_GRAD).composeGrad(
    heap,
    geom,
    dyAt,
    dHatAt,
    weightAt,
    ddAt,
    dwAt,
  );
  return [dd, dw];
}

/** Both gradients come from one kernel call, made when the tape asks for this node's gradients. */
export const composeGradConfig: tf.GradConfig = {
  kernelName: COMPOSE_KERNEL,
  inputsToSave: ['dHat', 'weight'],
  gradFunc: (dy, saved) => {
    const [dHat, weight] = saved;
    const [dd, dw] = tf
      .engine()
      .runKernel(COMPOSE_KERNEL_GRAD, { dy: dy as tf.Tensor, dHat, weight }, {}) as tf.Tensor[];
    return { dHat: () => dd, weight: () => dw };
  },
};
