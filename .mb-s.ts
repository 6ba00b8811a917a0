import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from './src/node.js';
await useBestBackend();
const a = tf.scalar(3), b = tf.scalar(4);
const m = tf.randomNormal([32, 4, 4, 10]);
const v = tf.randomNormal([32]);
function time(name: string, f: () => tf.Tensor, n = 3000) {
  for (let i = 0; i < 50; i++) f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f().dispose();
  console.log(name, (((performance.now() - t0) / n) * 1000).toFixed(1), 'us');
}
time('div scalar', () => tf.div(a, b));
time('mean vec', () => tf.mean(v));
time('sum [32,4,4,10]', () => tf.sum(m, [1, 2]));
time('mean [32,4,4,10]', () => tf.mean(m, [1, 2]));
time('add', () => tf.add(m, m));
await tf.setBackend('cpu');
const a2 = tf.scalar(3), b2 = tf.scalar(4);
time('cpu div scalar', () => tf.div(a2, b2));
