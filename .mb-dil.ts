import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from './src/node.js';
import { nativeAddon } from './src/engine/native/nativeAddon.js';
import { convGeomArray } from './src/engine/native/nativeConvGeometry.js';
await useBestBackend();
const addon = nativeAddon()!;
const x = tf.randomNormal([32, 8, 8, 64]) as tf.Tensor4D;
const w = tf.randomNormal([3, 3, 64, 64]) as tf.Tensor4D;
for (const d of [1, 2, 3, 4, 6]) {
  const f = () => tf.conv2d(x, w, 1, 'same', 'NHWC', d);
  for (let i = 0; i < 3; i++) f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) f().dispose();
  console.log('dilation', d, ((performance.now() - t0) / 20).toFixed(2), 'ms');
}
