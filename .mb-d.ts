import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from './src/node.js';
await useBestBackend();
const a = tf.scalar(3), b = tf.scalar(4);
for (let i = 0; i < 300000; i++) tf.div(a, b).dispose();
