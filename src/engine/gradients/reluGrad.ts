/**
 * Gradient of Relu where the backend has doconv's one-pass kernel (the native engine on wasm):
 * dx = dy · step(x) in one pass, the same products as tfjs-core's Step, Cast and Multiply (three
 * ops, two full-size passes and a temporary). Elsewhere tfjs-core's gradient runs.
 */
import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from '../fusedGradientOps.js';
import { oneKernelGradient } from './gradientReplacement.js';

export const reluGrad = oneKernelGradient(tf.Relu, RELU_GRAD, () => ({}));
