/**
 * The native engine's kernels as data: one kernel function per TF.js kernel name, registered on
 * the doconv-native backend (registerNativeBackend.ts) and, for the native-on-wasm engine, over
 * wasm's kernels (with wasm's as their fallback).
 */
import * as tf from '@tensorflow/tfjs';
import { ADD_RELU } from '../../util/addReluOp.js';
import { guardKernel } from '../kernelGuard.js';
import { setupFallback } from './fallbacks.js';
import {
  nativeConvBackpropFilter,
  nativeConvBackpropInput,
  nativeConvForward,
} from './nativeConv.js';
import {
  BINARY_OPS,
  nativeBatchNorm,
  nativeBinary,
  nativeBatchNormGradSums,
  nativeClip,
  nativeClipGrad,
  nativeConcat,
  nativeMax,
  nativeReluGrad,
  nativeSplitV,
  nativeReduce,
  nativeTile,
  nativeUnary,
  UNARY_OPS,
} from './nativeEltwise.js';
import { nativeAddRelu } from './nativeAddRelu.js';
import { nativeBatchMatMul, nativeFusedMatMul } from './nativeMatMul.js';
import { nativePadV2, nativeSlice } from './nativeBox.js';
import { nativeSoftmax } from './nativeSoftmax.js';
import { nativeMaxPool, nativeMaxPoolGrad } from './nativePool.js';
import { nativeResizeBilinear, nativeResizeBilinearGrad } from './nativeResize.js';
import {
  nativeSoftmaxCrossEntropy,
  nativeSoftmaxCrossEntropyGrad,
} from './nativeSoftmaxCrossEntropy.js';
import {
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
} from '../../util/softmaxCrossEntropyOp.js';
import type { KernelArgs } from './operands.js';
import { NATIVE_BACKEND } from '../engineState.js';
import { nativeCompose, nativeComposeGrad } from './nativeCompose.js';
import {
  COMPOSE_KERNEL,
  COMPOSE_KERNEL_GRAD,
  COMPOSED_CONV,
  COMPOSED_CONV_GRAD_INPUT,
  COMPOSED_CONV_GRAD_WEIGHTS,
} from '../../util/composeKernelOp.js';
import {
  nativeComposedConv,
  nativeComposedConvGradInput,
  nativeComposedConvGradWeights,
} from './nativeComposedConv.js';
import { BATCH_NORM_GRAD_SUMS, CLIP_GRAD, RELU_GRAD } from '../fusedGradientOps.js';
import {
  BATCH_NORM_RELU_GRAD_INPUT,
  BATCH_NORM_RELU_GRAD_SUMS,
  BATCH_NORM_RELU_TRAINING,
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD_INPUT,
} from '../../util/batchNormTrainingOp.js';
import {
  nativeBatchNormTraining,
  nativeBatchNormTrainingGradInput,
} from './nativeBatchNormTraining.js';
import {
  nativeBatchNormReluGradInput,
  nativeBatchNormReluGradSums,
  nativeBatchNormReluTraining,
} from './nativeBatchNormRelu.js';

type NativeKernel = [
  kernelName: string,
  run: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[],
];

const config = (kernelName: string, run: NativeKernel[1]): NativeKernel => [kernelName, run];

const nativeKernels: readonly NativeKernel[] = [
  config(tf.Conv2D, (a) => nativeConvForward(tf.Conv2D, false, a)),
  config(tf.FusedConv2D, (a) => nativeConvForward(tf.FusedConv2D, false, a)),
  config(tf.DepthwiseConv2dNative, (a) => nativeConvForward(tf.DepthwiseConv2dNative, true, a)),
  config(tf.FusedDepthwiseConv2D, (a) => nativeConvForward(tf.FusedDepthwiseConv2D, true, a)),
  config(tf.Conv2DBackpropInput, (a) => nativeConvBackpropInput(tf.Conv2DBackpropInput, false, a)),
  config(tf.Conv2DBackpropFilter, (a) =>
    nativeConvBackpropFilter(tf.Conv2DBackpropFilter, false, a),
  ),
  config(tf.DepthwiseConv2dNativeBackpropInput, (a) =>
    nativeConvBackpropInput(tf.DepthwiseConv2dNativeBackpropInput, true, a),
  ),
  config(tf.DepthwiseConv2dNativeBackpropFilter, (a) =>
    nativeConvBackpropFilter(tf.DepthwiseConv2dNativeBackpropFilter, true, a),
  ),
  config(tf.BatchMatMul, nativeBatchMatMul),
  config(tf.Add, nativeBinary(tf.Add, BINARY_OPS.add)),
  config(tf.Sub, nativeBinary(tf.Sub, BINARY_OPS.sub)),
  config(tf.Multiply, nativeBinary(tf.Multiply, BINARY_OPS.mul)),
  config(tf.RealDiv, nativeBinary(tf.RealDiv, BINARY_OPS.div)),
  config(tf.Relu, nativeUnary(tf.Relu, UNARY_OPS.relu)),
  config(tf.Step, nativeUnary(tf.Step, UNARY_OPS.step)),
  config(tf.Square, nativeUnary(tf.Square, UNARY_OPS.square)),
  config(tf.Neg, nativeUnary(tf.Neg, UNARY_OPS.neg)),
  config(tf.Exp, nativeUnary(tf.Exp, UNARY_OPS.exp)),
  config(tf.Tanh, nativeUnary(tf.Tanh, UNARY_OPS.tanh)),
  config(tf.Log, nativeUnary(tf.Log, UNARY_OPS.log)),
  config(tf.ClipByValue, nativeClip(tf.ClipByValue)),
  config(tf.Relu6, nativeClip(tf.Relu6)),
  config(tf.Sum, nativeReduce(tf.Sum, false)),
  config(tf.Mean, nativeReduce(tf.Mean, true)),
  config(tf.Max, nativeMax),
  config(tf.Tile, nativeTile),
  config(tf.FusedBatchNorm, nativeBatchNorm),
  config(tf.Concat, nativeConcat),
  config(tf.SplitV, nativeSplitV),
  config(tf.Slice, nativeSlice),
  config(tf.PadV2, nativePadV2),
  config(tf.MaxPool, nativeMaxPool),
  config(tf.MaxPoolGrad, nativeMaxPoolGrad),
  config(tf.ResizeBilinear, nativeResizeBilinear),
  config(tf.ResizeBilinearGrad, nativeResizeBilinearGrad),
  // doconv's own ops (no wasm kernel to fall back to: the algebra uses them only when registered).
  config(COMPOSE_KERNEL, nativeCompose),
  config(RELU_GRAD, nativeReluGrad),
  config(ADD_RELU, nativeAddRelu),
  config(CLIP_GRAD, nativeClipGrad),
  config(BATCH_NORM_GRAD_SUMS, nativeBatchNormGradSums),
  config(BATCH_NORM_TRAINING, nativeBatchNormTraining),
  config(BATCH_NORM_TRAINING_GRAD_INPUT, nativeBatchNormTrainingGradInput),
  config(BATCH_NORM_RELU_TRAINING, nativeBatchNormReluTraining),
  config(BATCH_NORM_RELU_GRAD_SUMS, nativeBatchNormReluGradSums),
  config(BATCH_NORM_RELU_GRAD_INPUT, nativeBatchNormReluGradInput),
  config(SOFTMAX_CROSS_ENTROPY, nativeSoftmaxCrossEntropy),
  config(SOFTMAX_CROSS_ENTROPY_GRAD, nativeSoftmaxCrossEntropyGrad),
  config(COMPOSE_KERNEL_GRAD, nativeComposeGrad),
  config(COMPOSED_CONV, nativeComposedConv),
  config(COMPOSED_CONV_GRAD_INPUT, nativeComposedConvGradInput),
  config(COMPOSED_CONV_GRAD_WEIGHTS, nativeComposedConvGradWeights),
];

/**
 * Kernels only doconv-native takes natively: over wasm's heap, wasm's own (XNNPACK) fused product
 * and softmax are as good, and their setup binds wasm functions the native kernel would have to
 * hand on.
 */
const nativeBackendOnly: readonly NativeKernel[] = [
  config(tf._FusedMatMul, nativeFusedMatMul),
  config(tf.Softmax, nativeSoftmax),
];

/** The native kernels for the doconv-native backend (its fallback is the cpu kernel of the name). */
export const nativeBackendKernelConfigs: readonly tf.KernelConfig[] = [
  ...nativeKernels,
  ...nativeBackendOnly,
].map(([kernelName, run]) =>
  guardKernel({
    kernelName,
    backendName: NATIVE_BACKEND,
    kernelFunc: run as unknown as tf.KernelFunc,
  }),
);

/** The native kernels over wasm's (the native-on-wasm engine): setupFunc binds the fallback's. */
export const nativeKernelConfigs: readonly tf.KernelConfig[] = nativeKernels.map(
  ([kernelName, run]) =>
    guardKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: run as unknown as tf.KernelFunc,
      setupFunc: setupFallback(kernelName),
    }),
);
