import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  doConv1d,
  doConv2d,
  doDepthwiseConv2d,
  doSeparableConv2d,
  foldModel,
  overparameterize,
} from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function net(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      doConv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 2], activation: 'relu' }),
      doDepthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' }),
      doConv2d({ filters: 4, kernelSize: 3, groups: 2 }),
      tf.layers.batchNormalization(),
      doSeparableConv2d({ filters: 4, kernelSize: 2, depthMultiplier: 2 }),
      tf.layers.reshape({ targetShape: [9, 4] }),
      doConv1d({ filters: 3, kernelSize: 3, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  return model;
}

/** numTensors must not grow across repeated calls, measured after a warm-up call. */
async function expectNoLeak(what: string, step: () => unknown | Promise<unknown>): Promise<void> {
  await step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await step();
  expect(tf.memory().numTensors, what).toBe(before);
}

describe('no tensor leaks', () => {
  const x = tf.randomNormal([4, 8, 8, 2]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);

  it('apply / predict', async () => {
    const model = net();
    await expectNoLeak('predict', () => tf.dispose(model.predict(x) as tf.Tensor));
  });

  it('a fit step', async () => {
    const model = net();
    await expectNoLeak('fit', () => model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 }));
  });

  it('fold (the folded model disposed after use)', async () => {
    const model = net();
    await expectNoLeak('fold', () => {
      const folded = foldModel(model, { fuseBatchNorm: true });
      tf.dispose(folded.predict(x) as tf.Tensor);
      folded.dispose();
    });
  });

  it('overparameterize (the converted model disposed after use)', async () => {
    const plain = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 2] }),
        tf.layers.separableConv2d({ filters: 2, kernelSize: 3 }),
        tf.layers.reshape({ targetShape: [16, 2] }),
        tf.layers.conv1d({ filters: 2, kernelSize: 3 }),
      ],
    });
    await expectNoLeak('overparameterize', () => {
      const converted = overparameterize(plain);
      tf.dispose(converted.predict(x) as tf.Tensor);
      converted.dispose();
    });
  });

  it('composedKernel under tidy', async () => {
    const model = net();
    const layer = model.layers[0] as ReturnType<typeof doConv2d>;
    await expectNoLeak('composedKernel', () => tf.tidy(() => layer.composedKernel()).dispose());
  });
});

describe('dispose', () => {
  it('disposing a DO model frees its weights and its D_diag constant', () => {
    const make = () =>
      tf.sequential({
        layers: [
          doConv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 2] }),
          doDepthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
        ],
      });
    make().dispose(); // warm-up: tfjs caches a few scalars on first use
    const before = tf.memory().numTensors;
    const model = make();
    tf.tidy(() => {
      model.predict(tf.zeros([1, 8, 8, 2]));
    });
    expect(tf.memory().numTensors).toBe(before + 4 + 4); // kernel, D, bias and D_diag, per layer
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a DO-DConv training step holds what a depthwise one does', () => {
  // tf.fused.depthwiseConv2d's gradient keeps the layer's output until the backward pass even with
  // no bias or activation to fuse; the plain op (tf.layers.depthwiseConv2d's) does not. With only
  // a Sum after the layer nothing else keeps that output, so it would show in the peak.
  it('the peak of a gradient step exceeds the depthwise layer’s by less than half an output', async () => {
    const x = tf.randomNormal([2, 32, 32, 64]);
    const outputBytes = x.size * 4;
    const peakOf = async (layer: tf.layers.Layer) => {
      tf.dispose(layer.apply(x)); // build
      const before = tf.memory().numBytes;
      const { peakBytes } = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor));
        tf.dispose([value, ...Object.values(grads)]);
      });
      layer.dispose();
      return peakBytes - before;
    };
    const plain = await peakOf(
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
    );
    const overParameterized = await peakOf(
      doDepthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
    );
    expect(overParameterized - plain).toBeLessThan(outputBytes / 2);
    x.dispose();
  });
});
