/**
 * Gradients of ClipByValue and Relu6 (MobileNet-v2's ReLU6) where the backend has doconv's one-pass
 * kernel (the native engine): tfjs-core builds ClipByValue's from GreaterEqual, LessEqual,
 * LogicalAnd and Select (four passes, three temporaries; on doconv-native they are cpu's JavaScript
 * kernels, 40 % of a MobileNet-v2 step), Relu6's from LessEqual, Step, Multiply, Cast, Multiply.
 * The kernel computes the same values (native/src/eltwise.h says how NaN is treated). Elsewhere
 * tfjs-core's gradients run.
 */
import * as tf from '@tensorflow/tfjs';
import { CLIP_GRAD } from '../fusedGradientOps.js';
import { oneKernelGradient } from './gradientReplacement.js';

export const clipByValueGrad = oneKernelGradient(tf.ClipByValue, CLIP_GRAD, (attrs) => ({
  lo: attrs.clipValueMin as number,
  hi: attrs.clipValueMax as number,
  mode: 'where',
}));

export const relu6Grad = oneKernelGradient(tf.Relu6, CLIP_GRAD, () => ({
  lo: 0,
  hi: 6,
  mode: 'mask',
}));
