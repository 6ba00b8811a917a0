import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOConv2D, DODepthwiseConv2D } from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const convArgs = {
  filters: 6,
  kernelSize: [3, 2] as [number, number],
  strides: 1,
  padding: 'same' as const,
  dilationRate: 2,
  activation: 'elu' as const,
  useBias: true,
  groups: 2,
  dMul: 7,
  name: 'do_conv',
  kernelInitializer: 'heNormal' as const,
  biasInitializer: 'ones' as const,
  kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }),
  biasRegularizer: tf.regularizers.l1({ l1: 0.02 }),
  activityRegularizer: tf.regularizers.l1l2({ l1: 0.001, l2: 0.002 }),
  kernelConstraint: tf.constraints.maxNorm({ maxValue: 2 }),
  biasConstraint: tf.constraints.nonNeg(),
  dRegularizer: tf.regularizers.l2({ l2: 0.5 }),
  dConstraint: tf.constraints.unitNorm({}),
  trainable: false,
};
const depthwiseArgs = {
  kernelSize: 3,
  depthMultiplier: 2,
  strides: 2,
  padding: 'valid' as const,
  activation: 'relu' as const,
  useBias: false,
  dMul: 10,
  name: 'do_dw',
  depthwiseInitializer: 'glorotNormal' as const,
  depthwiseRegularizer: tf.regularizers.l2({ l2: 0.03 }),
};

describe('getConfig / fromConfig round-trip every key', () => {
  it('DOConv2D', () => {
    const layer = new DOConv2D(convArgs);
    const config = layer.getConfig();
    const again = DOConv2D.fromConfig(DOConv2D, config) as DOConv2D;
    expect(again.getConfig()).toEqual(config);
    for (const [key, value] of Object.entries({
      filters: 6,
      kernelSize: [3, 2],
      strides: [1, 1],
      padding: 'same',
      dilationRate: [2, 2],
      activation: 'elu',
      useBias: true,
      groups: 2,
      dMul: 7,
      name: 'do_conv',
      trainable: false,
    })) {
      expect(config[key], key).toEqual(value);
    }
    expect(config.kernelInitializer).toMatchObject({
      className: 'VarianceScaling',
      config: { scale: 2, mode: 'fanIn' },
    });
    expect(config.biasInitializer).toMatchObject({ className: 'Ones' });
    expect(config.kernelRegularizer).toMatchObject({ className: 'L1L2', config: { l2: 0.01 } });
    expect(config.biasRegularizer).toMatchObject({ className: 'L1L2', config: { l1: 0.02 } });
    expect(config.activityRegularizer).toMatchObject({ className: 'L1L2', config: { l1: 0.001 } });
    expect(config.kernelConstraint).toMatchObject({
      className: 'MaxNorm',
      config: { maxValue: 2 },
    });
    expect(config.biasConstraint).toMatchObject({ className: 'NonNeg' });
    expect(config.dRegularizer).toMatchObject({ className: 'L1L2', config: { l2: 0.5 } });
    expect(config.dConstraint).toMatchObject({ className: 'UnitNorm' });
  });

  it('DODepthwiseConv2D', () => {
    const layer = new DODepthwiseConv2D(depthwiseArgs);
    const config = layer.getConfig();
    expect(DODepthwiseConv2D.fromConfig(DODepthwiseConv2D, config).getConfig()).toEqual(config);
    expect(config).toMatchObject({
      kernelSize: [3, 3],
      depthMultiplier: 2,
      strides: [2, 2],
      dMul: 10,
      useBias: false,
    });
    expect(config.depthwiseRegularizer).toMatchObject({ className: 'L1L2', config: { l2: 0.03 } });
    // D inherits the depthwise kernel's regularizer unless dRegularizer is given (official Keras layer).
    expect(config.dRegularizer).toMatchObject({ className: 'L1L2', config: { l2: 0.03 } });
  });

  it('D takes the kernel regularizer when dRegularizer is absent, and it reaches the loss', () => {
    const layer = new DOConv2D({
      filters: 2,
      kernelSize: 3,
      kernelRegularizer: tf.regularizers.l2({ l2: 1 }),
    });
    layer.apply(tf.zeros([1, 4, 4, 1]));
    layer.setWeights([tf.zeros([9, 1, 2]), tf.fill([9, 9, 1], 0.5), tf.zeros([2])]);
    const penalty = tf.addN(layer.losses.map((f) => f())).dataSync()[0];
    expect(penalty).toBeCloseTo(81 * 0.25, 3); // l2 · Σ D² with W = 0
  });
});

describe('tf.loadLayersModel understands every spelling of dMul', () => {
  for (const key of ['d_mul', 'D_mul', 'DMul', 'dMul']) {
    it(`layer config key '${key}'`, async () => {
      const model = tf.sequential({
        layers: [
          new DOConv2D({ filters: 3, kernelSize: 3, dMul: 11, inputShape: [5, 5, 2], name: 'c' }),
          new DODepthwiseConv2D({ kernelSize: 3, dMul: 12, name: 'dw' }),
        ],
      });
      const weights = model.getWeights().map((w) => tf.randomNormal(w.shape));
      model.setWeights(weights);
      const topology = model.toJSON(null, false) as {
        config: { layers: { config: Record<string, unknown> }[] };
      };
      for (const layer of topology.config.layers) {
        const value = layer.config.d_mul;
        delete layer.config.d_mul;
        layer.config[key] = value;
      }
      const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) =>
        model.save(
          tf.io.withSaveHandler(async (a) => {
            resolve(a);
            return { modelArtifactsInfo: {} as never };
          }),
        ),
      );
      const loaded = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: topology,
          weightSpecs: artifacts.weightSpecs,
          weightData: artifacts.weightData,
        }),
      );
      expect((loaded.layers[0] as DOConv2D).dMul).toBe(11);
      expect((loaded.layers[1] as DODepthwiseConv2D).dMul).toBe(12);
      const x = tf.randomNormal([2, 5, 5, 2]);
      const a = (model.predict(x) as tf.Tensor).dataSync();
      const b = (loaded.predict(x) as tf.Tensor).dataSync();
      expect(Array.from(b)).toEqual(Array.from(a));
    });
  }
});

describe('tfjs quirks handled', () => {
  it('DODepthwiseConv2D serializes its depthwise constraint, not its regularizer, under depthwiseConstraint', () => {
    const layer = new DODepthwiseConv2D({
      kernelSize: 3,
      depthwiseRegularizer: tf.regularizers.l2({ l2: 0.1 }),
      depthwiseConstraint: tf.constraints.nonNeg(),
    });
    expect(layer.getConfig().depthwiseConstraint).toMatchObject({ className: 'NonNeg' });
    expect(
      new DODepthwiseConv2D({ kernelSize: 3, depthwiseRegularizer: 'l1l2' }).getConfig()
        .depthwiseConstraint,
    ).toBeNull();
  });
});
