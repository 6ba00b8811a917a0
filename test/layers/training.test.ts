import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { doConv2d, doDepthwiseConv2d } from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a small DO-Conv model trains with model.fit', () => {
  it('loss falls on a learnable task (bright left half vs bright right half)', async () => {
    const n = 32;
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const x = tf.tidy(() => {
      const left = tf.concat([tf.ones([1, 6, 3, 1]), tf.zeros([1, 6, 3, 1])], 2);
      const right = tf.reverse(left, 2);
      const noise = tf.randomNormal([n, 6, 6, 1], 0, 0.1, 'float32', 3);
      return tf.add(
        tf.concat(
          labels.map((l) => (l ? right : left)),
          0,
        ),
        noise,
      );
    });
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    const model = tf.sequential({
      layers: [
        doConv2d({
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          inputShape: [6, 6, 1],
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        doDepthwiseConv2d({
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 2,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    const history = await model.fit(x, y, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
    // D moved away from zero: the over-parameterization is trained, not just W.
    const d = model.layers[0].getWeights()[1];
    expect(tf.max(tf.abs(d)).dataSync()[0]).toBeGreaterThan(1e-3);
  });
});
