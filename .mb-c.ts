import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from './src/node.js';
import { nativeAddon } from './src/engine/native/nativeAddon.js';
import { convGeomArray } from './src/engine/native/nativeConvGeometry.js';
await useBestBackend();
const addon = nativeAddon()!;
function time(name: string, f: () => tf.Tensor, n = 300) {
  for (let i = 0; i < 20; i++) f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f().dispose();
  console.log(name, (((performance.now() - t0) / n) * 1000).toFixed(0), 'us');
}
for (const [h, ci, co] of [[30, 1, 16], [16, 16, 16], [9, 16, 10]]) {
  const x = tf.randomNormal([32, h, h, ci]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D;
  time(`conv s2 valid ${h}x${h}x${ci}->${co}`, () => tf.conv2d(x, w, 2, 'valid'));
  const oh = Math.floor((h - 3) / 2) + 1;
  const g = { n: 32, h, w: h, ci, oh, ow: oh, co, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pb: 0, pl: 0, pr: 0, groups: 1, hasBias: 0, act: 0 };
  for (const pass of ['fwd', 'bwd_data', 'bwd_weights'] as const) console.log('  ', pass, addon.convImplInfo(convGeomArray(g as never), pass));
}
