import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from './src/node.js';
import { nativeAddon } from './src/engine/native/nativeAddon.js';
await useBestBackend();
const addon = nativeAddon()!;
function t(f: () => tf.Tensor, n: number) {
  for (let i = 0; i < 10; i++) f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f().dispose();
  return ((performance.now() - t0) / n) * 1000;
}
for (const [b, hw, c, k] of [[1,8,32,3],[1,16,32,3],[1,32,32,3],[4,16,32,3],[8,16,64,3],[32,16,32,3],[32,32,16,3],[1,32,64,1],[8,16,64,1],[32,16,64,1],[32,8,128,1],[128,32,16,3],[32,32,96,1]]) {
  const x = tf.randomNormal([b, hw, hw, c]) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, c, c]) as tf.Tensor4D;
  const macs = b * hw * hw * c * c * k * k;
  const n = Math.max(5, Math.min(1000, Math.round(2e9 / macs)));
  const r: number[] = [];
  for (const th of [1, 2, 1, 2]) { addon.setThreads(th); r.push(t(() => tf.conv2d(x, w, 1, 'same'), n)); }
  console.log(`b${b} ${hw}x${hw}x${c} k${k} MMACs ${(macs/1e6).toFixed(2)}  1thr ${r[0].toFixed(0)}/${r[2].toFixed(0)}us 2thr ${r[1].toFixed(0)}/${r[3].toFixed(0)}us`);
}
for (const n of [1e4, 3e4, 1e5, 3e5, 1e6, 3e6]) {
  const x = tf.randomNormal([n]);
  const r: number[] = [];
  for (const th of [1, 2, 1, 2]) { addon.setThreads(th); r.push(t(() => tf.relu(x), 300)); }
  console.log(`relu ${n}: 1thr ${r[0].toFixed(0)}/${r[2].toFixed(0)} 2thr ${r[1].toFixed(0)}/${r[3].toFixed(0)}`);
}
