/**
 * Add for wasm: activation + per-channel vector as a 1×1 depthwise conv with bias
 * (../channelBroadcast.ts). Everything else goes to wasm's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { channelAffine, channelBroadcastKernel } from '../channelBroadcast.js';

export const addConfig = channelBroadcastKernel(tf.Add, (backend, x, v, c) =>
  channelAffine(backend, x, v, c, 1, 1),
);
