/** exportOnnx of Conv1D, DOConv1D and DOSeparableConv2D, run in onnxruntime against TF.js. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { doConv1d, doSeparableConv2d, exportOnnx, foldModel } from '../../src/index.js';
import { attr, decodeOnnx, expectOnnxMatchesTfjs, nodesOf, randomizeForExport } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function check(model: tf.LayersModel, seed: number) {
  randomizeForExport(model, seed);
  const x = tf.randomNormal(
    [2, ...(model.inputs[0].shape.slice(1) as number[])],
    0,
    1,
    'float32',
    seed,
  );
  const decoded = await expectOnnxMatchesTfjs(model, [x]);
  x.dispose();
  return decoded;
}

describe('exportOnnx: 1D convs against TF.js', () => {
  const cases = [
    { kernelSize: 3, strides: 1, dilationRate: 1, padding: 'same' },
    { kernelSize: 4, strides: 2, dilationRate: 1, padding: 'same' },
    { kernelSize: 3, strides: 1, dilationRate: 2, padding: 'valid' },
    { kernelSize: 1, strides: 1, dilationRate: 1, padding: 'valid' },
  ] as const;
  for (const c of cases) {
    const name = `kernel=${c.kernelSize} strides=${c.strides} dilation=${c.dilationRate} ${c.padding}`;
    it(`Conv1D and DOConv1D ${name}`, async () => {
      for (const make of [tf.layers.conv1d, doConv1d]) {
        const model = tf.sequential({
          layers: [make({ filters: 5, ...c, activation: 'relu', inputShape: [11, 3] })],
        });
        const decoded = await check(model, 3);
        const [conv] = nodesOf(decoded, 'Conv');
        expect(attr(conv, 'kernel_shape')).toEqual([c.kernelSize]);
      }
    });
  }

  it('DOConv1D then Dense (3D values stay in TF.js order)', async () => {
    const model = tf.sequential({
      layers: [
        doConv1d({ filters: 4, kernelSize: 3, inputShape: [8, 2], useBias: false }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    await check(model, 5);
  });
});

describe('exportOnnx: DOSeparableConv2D against TF.js', () => {
  for (const c of [
    { kernelSize: 3, depthMultiplier: 1, strides: 1, dilationRate: 1, padding: 'same' },
    { kernelSize: 3, depthMultiplier: 2, strides: 2, dilationRate: 1, padding: 'valid' },
    { kernelSize: 3, depthMultiplier: 2, strides: 1, dilationRate: 2, padding: 'same' },
  ] as const) {
    it(`mult=${c.depthMultiplier} strides=${c.strides} dilation=${c.dilationRate} ${c.padding}: depthwise Conv + pointwise Conv, as its fold`, async () => {
      const model = tf.sequential({
        layers: [
          doSeparableConv2d({ filters: 5, ...c, activation: 'relu', inputShape: [9, 10, 3] }),
        ],
      });
      const decoded = await check(model, 7);
      const convs = nodesOf(decoded, 'Conv');
      expect(convs.map((n) => attr(n, 'group'))).toEqual([3, undefined]);
      // The folded SeparableConv2D exports to the same function.
      const folded = foldModel(model);
      const x = tf.randomNormal([1, 9, 10, 3], 0, 1, 'float32', 1);
      await expectOnnxMatchesTfjs(folded, [x]);
      expect(decodeOnnx(exportOnnx(folded)).graph.node.length).toBeGreaterThan(0);
      tf.dispose(x);
    });
  }
});
