import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { doConv2d, doDepthwiseConv2d, foldModel, DOConvBase } from '../../src/index.js';
import { buildLayer, caseName, layerCases, IN_CHANNELS } from '../helpers/doLayerCase.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { expectClose } from '../helpers/tolerance.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const STANDARD = new Set([
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'BatchNormalization',
  'Activation',
  'Flatten',
  'Dense',
  'Add',
  'InputLayer',
  'GlobalAveragePooling2D',
  'ReLU',
]);

function expectSameFunction(
  a: tf.LayersModel,
  b: tf.LayersModel,
  x: tf.Tensor,
  what: string,
): void {
  const ya = a.predict(x) as tf.Tensor;
  const yb = b.predict(x) as tf.Tensor;
  expect(yb.shape).toEqual(ya.shape);
  expectClose(yb.dataSync(), ya.dataSync(), 1e-5, what);
  tf.dispose([ya, yb]);
}

describe('foldLayer over the layer sweep (random D): same outputs, standard layers only', () => {
  it.each(layerCases().map((c, i) => [caseName(c), c, i] as const))('%s', (_n, c, i) => {
    const model = tf.sequential({
      layers: [tf.layers.inputLayer({ inputShape: [9, 10, IN_CHANNELS] }), buildLayer(c)],
    });
    randomizeModel(model, 10 * i);
    const folded = foldModel(model);
    expect(
      folded.layers.every((l) => STANDARD.has(l.getClassName())),
      folded.layers.map((l) => l.getClassName()).join(),
    ).toBe(true);
    const x = tf.randomNormal([2, 9, 10, IN_CHANNELS], 0, 1, 'float32', i);
    expectSameFunction(model, folded, x, 'folded output');
    if (c.dilation > 1 && (c.groups === 'inCh' || c.groups === 'depthwise')) {
      expect(folded.layers.at(-1)!.getClassName()).toBe('SeparableConv2D'); // never a (dilation-ignoring) DepthwiseConv2D
    }
    if (c.groups === 2) expect(folded.layers.at(-1)!.getClassName()).toBe('Conv2D');
  });
});

function sequentialNet(): tf.Sequential {
  return tf.sequential({
    layers: [
      doConv2d({ filters: 6, kernelSize: 3, padding: 'same', inputShape: [8, 8, 3], name: 'c1' }),
      tf.layers.batchNormalization({ name: 'bn1', epsilon: 1e-5 }),
      tf.layers.activation({ activation: 'relu', name: 'a1' }),
      doDepthwiseConv2d({
        kernelSize: 3,
        dilationRate: 2,
        padding: 'same',
        name: 'dw',
        depthMultiplier: 2,
      }),
      tf.layers.batchNormalization({ name: 'bn2' }),
      doConv2d({ filters: 4, kernelSize: 3, groups: 2, activation: 'relu', name: 'g' }),
      tf.layers.batchNormalization({ name: 'bn3' }), // after a relu conv: must stay
      tf.layers.flatten({ name: 'f' }),
      tf.layers.dense({ units: 5, name: 'd' }),
    ],
  });
}

function residualNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 4], name: 'x' });
  const c1 = doConv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(
    input,
  ) as tf.SymbolicTensor;
  const b1 = tf.layers.batchNormalization({ name: 'bn1' }).apply(c1) as tf.SymbolicTensor;
  const r1 = tf.layers.reLU({ name: 'r1' }).apply(b1) as tf.SymbolicTensor;
  const c2 = doConv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c2' }).apply(
    r1,
  ) as tf.SymbolicTensor;
  const b2 = tf.layers.batchNormalization({ name: 'bn2' }).apply(c2) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'add' }).apply([b2, input]) as tf.SymbolicTensor;
  // c3 feeds both a BN and the output: that BN must not be fused.
  const c3 = tf.layers
    .conv2d({ filters: 4, kernelSize: 1, name: 'c3' })
    .apply(sum) as tf.SymbolicTensor;
  const b3 = tf.layers.batchNormalization({ name: 'bn3' }).apply(c3) as tf.SymbolicTensor;
  const out = tf.layers.add({ name: 'add2' }).apply([b3, c3]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(out) as tf.SymbolicTensor;
  const c4 = doConv2d({ filters: 3, kernelSize: 3, name: 'c4' }).apply(sum) as tf.SymbolicTensor;
  const b4 = tf.layers.batchNormalization({ name: 'bn4' }).apply(c4) as tf.SymbolicTensor; // model output
  return tf.model({ inputs: input, outputs: [pooled, b4] });
}

describe('foldModel on whole models with random D and random BN statistics', () => {
  for (const fuseBatchNorm of [false, true]) {
    it(`Sequential, fuseBatchNorm=${fuseBatchNorm}`, () => {
      const model = sequentialNet();
      randomizeModel(model, 1);
      const before = model.getWeights().map((w) => Array.from(w.dataSync()));
      const folded = foldModel(model, { fuseBatchNorm });
      expectSameFunction(
        model,
        folded,
        tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 5),
        'sequential',
      );
      const names = folded.layers.map((l) => l.name);
      expect(names.includes('bn1')).toBe(!fuseBatchNorm);
      expect(names.includes('bn2')).toBe(!fuseBatchNorm);
      expect(names.includes('bn3')).toBe(true);
      expect(folded.layers.find((l) => l.name === 'dw')!.getClassName()).toBe('SeparableConv2D');
      expect(folded.layers.every((l) => !(l instanceof DOConvBase))).toBe(true);
      // the input model is untouched
      expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
      expect(model.layers[0]).toBeInstanceOf(DOConvBase);
    });

    it(`functional with residual adds and two outputs, fuseBatchNorm=${fuseBatchNorm}`, () => {
      const model = residualNet();
      randomizeModel(model, 2);
      const folded = foldModel(model, { fuseBatchNorm });
      const x = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 6);
      const ya = model.predict(x) as tf.Tensor[];
      const yb = folded.predict(x) as tf.Tensor[];
      ya.forEach((y, i) => expectClose(yb[i].dataSync(), y.dataSync(), 1e-5, `output ${i}`));
      const names = folded.layers.map((l) => l.name);
      for (const bn of ['bn1', 'bn2', 'bn4']) expect(names.includes(bn), bn).toBe(!fuseBatchNorm);
      expect(names.includes('bn3')).toBe(true); // its conv has two consumers
      expect(folded.outputNames.length).toBe(2);
    });
  }

  it("leaves the DO layers' configs as they were (tfjs' deserializers write into the dicts they get)", () => {
    const model = tf.sequential({
      layers: [
        doConv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] }),
        doDepthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same' }),
      ],
    });
    const before = model.layers.map((l) => JSON.stringify(l.getConfig()));
    foldModel(model).dispose();
    expect(model.layers.map((l) => JSON.stringify(l.getConfig()))).toEqual(before);
    model.dispose();
  });

  it('a model without DO layers folds to an equal copy', () => {
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] })],
    });
    const folded = foldModel(model);
    expect(folded).not.toBe(model);
    expectSameFunction(model, folded, tf.randomNormal([1, 5, 5, 1]), 'copy');
  });

  it('a nested model is refused with its name', () => {
    const inner = tf.sequential({
      layers: [doConv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] })],
      name: 'inner',
    });
    const outer = tf.sequential({ layers: [inner] });
    expect(() => foldModel(outer)).toThrow(/nested model 'inner'/);
  });
});
