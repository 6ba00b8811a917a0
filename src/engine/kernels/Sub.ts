/**
 * Sub for wasm: activation − per-channel vector (tf.moments' x − mean in every BatchNorm layer)
 * and vector − activation as a 1×1 depthwise conv with bias (../channelBroadcast.ts).
 * Everything else goes to wasm's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { channelAffine, channelBroadcastKernel } from '../channelBroadcast.js';

export const subConfig = channelBroadcastKernel(tf.Sub, (backend, x, v, c, xIsA) =>
  xIsA ? channelAffine(backend, x, v, c, 1, -1) : channelAffine(backend, x, v, c, -1, 1),
);
