/**
 * doconv in one minute: build a small DO-Conv net, train it briefly on MNIST, fold it into plain
 * TF.js layers, and check the folded model computes the same function.
 *
 *   npm run example
 */
import * as tf from '@tensorflow/tfjs';
import { batches, doConv2d, foldModel, loadMnist, useBestBackend } from '../src/node.js';

const TRAIN_IMAGES = 2048;
const BATCH = 32;

await useBestBackend({ log: console.log }); // "doconv: using backend 'wasm', engine 'native' (…)"
const train = await loadMnist({ split: 'train', limit: TRAIN_IMAGES });
const test = await loadMnist({ split: 'test', limit: 1000 });

// The official TF MNIST sample with its two 3×3 convs as DO-Conv (D_mul = M·N = 9).
const model = tf.sequential({
  layers: [
    doConv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    doConv2d({ filters: 8, kernelSize: 3, activation: 'relu' }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({
  optimizer: tf.train.adam(),
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
});

const started = Date.now();
let step = 0;
for (const { xs, ys } of batches(train, BATCH, { shuffle: true, seed: 1 })) {
  const [loss] = (await model.trainOnBatch(xs, ys)) as number[];
  tf.dispose([xs, ys]);
  if (++step % 16 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}`);
}
const seconds = (Date.now() - started) / 1000;
console.log(
  `trained ${TRAIN_IMAGES} images in ${seconds.toFixed(1)} s (${(TRAIN_IMAGES / seconds).toFixed(0)} img/s)`,
);

const folded = foldModel(model);
const [{ xs, ys }] = batches(test, test.count);
const yDo = model.predict(xs) as tf.Tensor;
const yFolded = folded.predict(xs) as tf.Tensor;
const maxDelta = tf.max(tf.abs(tf.sub(yDo, yFolded))).dataSync()[0];
const accuracy = (y: tf.Tensor) =>
  tf.mean(tf.cast(tf.equal(tf.argMax(y, 1), tf.argMax(ys, 1)), 'float32')).dataSync()[0];

console.log(
  `DO-Conv model:  ${model.countParams()} parameters (training-time), test accuracy ${accuracy(yDo).toFixed(4)}`,
);
console.log(
  `folded model:   ${folded.countParams()} parameters (plain Conv2D), test accuracy ${accuracy(yFolded).toFixed(4)}`,
);
console.log(
  `max |Δ| between DO-Conv and folded outputs on ${test.count} test images: ${maxDelta.toExponential(2)}`,
);
