import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  convFactory,
  dilatedConv2d,
  DilatedConv2D,
  DOConv2D,
  DODepthwiseConv2D,
  DOConvBase,
  foldModel,
  zooModelTask,
} from '../../src/index.js';
import { asppRates as rates } from '../../src/models/deeplabMini.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { expectClose } from '../helpers/tolerance.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SHAPE: [number, number, number] = [32, 32, 1];

describe('DilatedConv2D: a plain Conv2D computed by space-to-batch, as the DO layers compute dilated convs', () => {
  for (const [dilation, padding] of [
    [2, 'same'],
    [3, 'valid'],
    [[2, 4], 'same'],
  ] as const) {
    it(`dilation ${JSON.stringify(dilation)}, ${padding}: the outputs of tf.conv2d, and gradients where tf.conv2d's throw`, () => {
      const layer = dilatedConv2d({
        filters: 3,
        kernelSize: 3,
        dilationRate: dilation as never,
        padding,
        activation: 'relu',
        kernelInitializer: tf.initializers.randomNormal({ seed: 1 }),
        biasInitializer: tf.initializers.randomNormal({ seed: 2 }),
      });
      const x = tf.randomNormal([2, 11, 12, 2], 0, 1, 'float32', 3);
      const y = layer.apply(x) as tf.Tensor;
      const [kernel, bias] = layer.getWeights();
      const d = (Array.isArray(dilation) ? dilation : [dilation, dilation]) as [number, number];
      const ref = tf.relu(
        tf.add(tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, padding, 'NHWC', d), bias),
      );
      expect(y.shape).toEqual(ref.shape);
      expect(layer.computeOutputShape(x.shape)).toEqual(ref.shape);
      expectClose(y.dataSync(), ref.dataSync(), 1e-5, 'DilatedConv2D vs tf.conv2d');
      // TF.js's own conv gradient refuses dilation > 1; this layer's trains.
      expect(() =>
        tf.grad((k: tf.Tensor) =>
          tf.sum(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, padding, 'NHWC', d)),
        )(kernel),
      ).toThrow();
      const grads = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar);
      expect(Object.keys(grads.grads)).toHaveLength(2);
      tf.dispose([x, y, ref, grads.value, ...Object.values(grads.grads)]);
    });
  }

  it('serialises as itself and loads back; folds into a standard Conv2D with the same weights', () => {
    const input = tf.input({ shape: [9, 9, 2] });
    const output = dilatedConv2d({
      filters: 2,
      kernelSize: 3,
      dilationRate: 2,
      padding: 'same',
      name: 'dil',
    }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const config = model.layers[1].getConfig();
    expect(config).toEqual(
      tf.layers
        .conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', name: 'dil' })
        .getConfig(),
    );
    const loaded = tf.LayersModel.fromConfig(
      tf.LayersModel,
      model.getConfig() as never,
    ) as tf.LayersModel;
    expect(loaded.layers[1]).toBeInstanceOf(DilatedConv2D);
    loaded.dispose();
    const folded = foldModel(model);
    expect(folded.layers[1].getClassName()).toBe('Conv2D');
    const x = tf.randomNormal([1, 9, 9, 2], 0, 1, 'float32', 4);
    expectClose(
      (folded.predict(x) as tf.Tensor).dataSync(),
      (model.predict(x) as tf.Tensor).dataSync(),
      1e-5,
      'folded',
    );
    expect(() => dilatedConv2d({ filters: 0, kernelSize: 3 })).toThrow(
      /filters must be a positive integer, got 0/,
    );
    expect(() => dilatedConv2d({ filters: 1, kernelSize: 3, strides: 2, dilationRate: 2 })).toThrow(
      /strides \[2,2\] > 1 cannot be combined/,
    );
  });

  it("convFactory('conv') builds dilated convs as DilatedConv2D, undilated ones as Conv2D; refuses a dilated depthwise", () => {
    const f = convFactory('conv');
    expect(f.conv2d({ filters: 1, kernelSize: 3, dilationRate: 2 })).toBeInstanceOf(DilatedConv2D);
    expect(f.conv2d({ filters: 1, kernelSize: 3 }).getClassName()).toBe('Conv2D');
    expect(() => f.depthwiseConv2d({ kernelSize: 3, dilationRate: 2 })).toThrow(
      /dilationRate 2 is not supported/,
    );
    expect(
      convFactory('doconv').conv2d({ filters: 1, kernelSize: 3, dilationRate: 2 }),
    ).toBeInstanceOf(DOConv2D);
  });
});

describe('the task nets: twins built through one factory, fold exactly', () => {
  it('asppRates adapt to the feature map: 8×8 → 2, 4; 4×4 → 1, 2; 33×33 → 9, 17', () => {
    expect([rates(8), rates(4), rates(33)]).toEqual([
      [2, 4],
      [1, 2],
      [9, 17],
    ]);
  });

  for (const name of ['deeplab-mini', 'centernet-mini'] as const) {
    it(`${name}: DO layers exactly where the conv twin has k×k convs (dilated ones as DilatedConv2D), same weights at start`, () => {
      const numClasses = name === 'deeplab-mini' ? 11 : 10;
      const base = buildModel(name, { conv: 'conv', inputShape: SHAPE, numClasses, seed: 4 });
      const over = buildModel(name, { conv: 'doconv', inputShape: SHAPE, numClasses, seed: 4 });
      expect(over.layers.map((l) => l.name)).toEqual(base.layers.map((l) => l.name));
      let dilated = 0;
      base.layers.forEach((b, i) => {
        const o = over.layers[i];
        const k = (b.getConfig().kernelSize as number[] | undefined) ?? [1, 1];
        if (b instanceof DilatedConv2D) dilated++;
        if (k[0] * k[1] > 1) {
          expect(o, o.name).toBeInstanceOf(
            b.getClassName() === 'DepthwiseConv2D' ? DODepthwiseConv2D : DOConv2D,
          );
          expect(o.getConfig().dilationRate).toEqual(b.getConfig().dilationRate);
        } else expect(o.getClassName(), o.name).toBe(b.getClassName());
      });
      // 32×32 input → a 4×4 map: the dilated backbone block and ASPP rate 2 (rate 1 is a plain conv)
      expect(dilated).toBe(name === 'deeplab-mini' ? 2 : 0);
      if (name === 'centernet-mini')
        expect(over.layers.filter((l) => l instanceof DODepthwiseConv2D).length).toBe(6);
      expect(zooModelTask(name)).toBe(name === 'deeplab-mini' ? 'segmentation' : 'detection');
      const x = tf.randomNormal([2, ...SHAPE], 0, 1, 'float32', 5);
      const [yb, yo] = [base.predict(x), over.predict(x)] as tf.Tensor[];
      expect(yb.shape).toEqual(name === 'deeplab-mini' ? [2, 32, 32, 11] : [2, 8, 8, 14]);
      expectClose(
        yo.dataSync(),
        yb.dataSync(),
        1e-4,
        'the twins compute the same function at start',
      );
      tf.dispose([x, yb, yo]);
      base.dispose();
      over.dispose();
    });

    for (const conv of ['conv', 'doconv'] as const) {
      it(`${name} ${conv}: foldModel(fuseBatchNorm) computes the same outputs with random D and BN statistics`, () => {
        const model = buildModel(name, { conv, inputShape: SHAPE, numClasses: 5, seed: 6 });
        randomizeModel(model, 11);
        const folded = foldModel(model, { fuseBatchNorm: true });
        expect(
          folded.layers.some((l) => l instanceof DOConvBase || l instanceof DilatedConv2D),
        ).toBe(false);
        // every BN follows a bias-free linear conv (the image-pooling branch's too): all fused
        expect(folded.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
        const x = tf.randomNormal([2, ...SHAPE], 0, 1, 'float32', 7);
        const [a, b] = [model.predict(x), folded.predict(x)] as tf.Tensor[];
        expectClose(b.dataSync(), a.dataSync(), 1e-4, 'folded');
        tf.dispose([x, a, b]);
        model.dispose();
        folded.dispose();
      });
    }
  }

  it('inputs whose sides are not multiples of 8 are refused naming the shape', () => {
    expect(() =>
      buildModel('deeplab-mini', { conv: 'conv', inputShape: [28, 28, 1], numClasses: 11 }),
    ).toThrow(/multiples of 8, got \[28,28,1\]/);
    expect(() =>
      buildModel('centernet-mini', { conv: 'conv', inputShape: [30, 32, 1], numClasses: 10 }),
    ).toThrow(/multiples of 8, got \[30,32,1\]/);
  });
});
