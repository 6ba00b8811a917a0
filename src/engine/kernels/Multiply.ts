/**
 * Multiply for wasm: activation × per-channel vector as a 1×1 depthwise conv (../channelBroadcast.ts);
 * BatchNorm's gradient multiplies by per-channel vectors several times per layer. Everything else
 * goes to wasm's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { channelBroadcastKernel, channelMultiply } from '../channelBroadcast.js';

// Multiplication commutes exactly in IEEE arithmetic, so operand order does not matter.
export const multiplyConfig = channelBroadcastKernel(tf.Multiply, (backend, x, v, c) =>
  channelMultiply(backend, x, v, c),
);
