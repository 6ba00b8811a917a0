import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DOConv2D, type DOConv2DArgs } from '../../src/index.js';
import { loadModel } from '../../src/io/loadModel.js';
import type { KerasDMulSpellings } from '../../src/layers/kerasSpelling.js';
import { doConvReference } from '../helpers/featureComposition.js';
import { expectClose, randomNormal } from '../helpers/tolerance.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => vi.restoreAllMocks());

const [H, W, C] = [6, 7, 4];

/** A model.json in tensorflowjs_converter's format for a Keras Sequential with the official DOConv2D. */
function kerasArtifacts(
  layer: {
    filters: number;
    groups: number;
    dMul: number;
    kernelShape?: number[];
    dShape?: number[];
  },
  seed: number,
) {
  const kernelShape = layer.kernelShape ?? [layer.dMul, C / layer.groups, layer.filters];
  const dShape = layer.dShape ?? [9, layer.dMul, C];
  const weights = {
    kernel: randomNormal(
      kernelShape.reduce((a, b) => a * b),
      seed,
    ),
    D: randomNormal(
      dShape.reduce((a, b) => a * b),
      seed + 1,
    ).map((v) => 0.3 * v),
    bias: randomNormal(layer.filters, seed + 2),
  };
  const modelTopology = {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        {
          class_name: 'DOConv2D',
          config: {
            name: 'do_conv2d',
            trainable: true,
            batch_input_shape: [null, H, W, C],
            dtype: 'float32',
            filters: layer.filters,
            kernel_size: [3, 3],
            strides: [1, 1],
            padding: 'same',
            data_format: 'channels_last',
            dilation_rate: [1, 1],
            groups: layer.groups,
            activation: 'linear',
            use_bias: true,
            kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
            bias_initializer: { class_name: 'Zeros', config: {} },
            kernel_regularizer: null,
            bias_regularizer: null,
            activity_regularizer: null,
            kernel_constraint: null,
            bias_constraint: null,
            D_mul: layer.dMul,
          },
        },
      ],
    },
    keras_version: '2.11.0',
    backend: 'tensorflow',
  };
  const weightSpecs = [
    { name: 'do_conv2d/kernel', shape: kernelShape, dtype: 'float32' as const },
    { name: 'do_conv2d/D', shape: dShape, dtype: 'float32' as const },
    { name: 'do_conv2d/bias', shape: [layer.filters], dtype: 'float32' as const },
  ];
  const data = new Float32Array([...weights.kernel, ...weights.D, ...weights.bias]);
  return { artifacts: { modelTopology, weightSpecs, weightData: data.buffer }, weights };
}

/** The official Keras composition by loops: W viewed [S, C, F/g]; K'[m,i,q] = Σ_s D̂[m,s,i] W'[s,i,q]; K'≡K in memory. */
function officialKerasKernelLoops(
  w: Float64Array,
  d: Float64Array,
  dMul: number,
  F: number,
  g: number,
): Float64Array {
  const fg = F / g;
  const k = new Float64Array(9 * C * fg);
  for (let m = 0; m < 9; m++)
    for (let i = 0; i < C; i++)
      for (let q = 0; q < fg; q++) {
        let acc = 0;
        for (let s = 0; s < dMul; s++) {
          const diag = s < Math.floor(dMul / 9) * 9 && s % 9 === m ? 1 : 0;
          acc += (d[(m * dMul + s) * C + i] + diag) * w[(s * C + i) * fg + q];
        }
        k[(m * C + i) * fg + q] = acc;
      }
  return k;
}

describe('official Keras DOConv2D models load with tf.loadLayersModel', () => {
  for (const { groups, dMul, filters, departs } of [
    { groups: 1, dMul: 9, filters: 6, departs: false },
    { groups: 2, dMul: 10, filters: 6, departs: true },
    { groups: 4, dMul: 9, filters: 8, departs: false }, // depthwise, multiplier 2: official = definition
  ]) {
    it(`groups=${groups} D_mul=${dMul}: computes the official layer's function${departs ? ', with a warning' : ''}`, async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const { artifacts, weights } = kerasArtifacts({ filters, groups, dMul }, groups * 10);
      const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const layer = model.layers[0] as DOConv2D;
      expect(layer).toBeInstanceOf(DOConv2D);
      expect(layer.dMul).toBe(dMul);
      const x = randomNormal(2 * H * W * C, 99);
      const y = (
        model.predict(tf.tensor4d(Float32Array.from(x), [2, H, W, C])) as tf.Tensor
      ).dataSync();
      const w64 = Float64Array.from(Float32Array.from(weights.kernel));
      const d64 = Float64Array.from(Float32Array.from(weights.D));
      // expected = plain grouped conv with the official kernel (a DO reference with D̂ = I and W := K)
      const kernel = officialKerasKernelLoops(w64, d64, dMul, filters, groups);
      const expected = doConvReference({
        x,
        xShape: [2, H, W, C],
        weight: kernel,
        d: new Float64Array(9 * 9 * C),
        bias: Float64Array.from(Float32Array.from(weights.bias)),
        kernelSize: [3, 3],
        dMul: 9,
        filters,
        groups,
        strides: [1, 1],
        dilation: [1, 1],
        padding: 'same',
      });
      expectClose(y, expected.y, 1e-5, 'output');
      const warned = warn.mock.calls.some((c) => String(c[0]).includes('official Keras DOConv2D'));
      expect(warned).toBe(departs);
      expect(layer.getConfig().composition).toBe(departs ? 'keras-official' : 'definition');
    });
  }

  it("a DOConv2D whose kernel has the wrong shape fails naming the layer and the weight (doconv's loader)", async () => {
    const { artifacts } = kerasArtifacts(
      { filters: 6, groups: 1, dMul: 9, kernelShape: [9, 3, 6] },
      1,
    );
    await expect(loadModel(tf.io.fromMemory(artifacts))).rejects.toThrow(
      /DOConv2D 'do_conv2d'.*do_conv2d\/kernel.*\[9,4,6\].*\[9,3,6\]/,
    );
  });

  it("a D with the wrong shape fails naming it (doconv's loader)", async () => {
    const { artifacts } = kerasArtifacts({ filters: 6, groups: 1, dMul: 9, dShape: [9, 9, 3] }, 1);
    await expect(loadModel(tf.io.fromMemory(artifacts))).rejects.toThrow(
      /do_conv2d\/D.*\[9,9,4\].*\[9,9,3\]/,
    );
  });

  it("plain tf.loadLayersModel rejects the same model with tfjs' own message (README, Keras)", async () => {
    const { artifacts } = kerasArtifacts({ filters: 6, groups: 1, dMul: 9, dShape: [9, 9, 3] }, 1);
    await expect(tf.loadLayersModel(tf.io.fromMemory(artifacts))).rejects.toThrow(
      /Shape mismatch: \[9,9,4\] vs\. \[9,9,3\]/,
    );
  });
});

describe("a config in Keras's spelling", () => {
  const kerasConfig = {
    name: 'from_keras',
    filters: 6,
    kernelSize: [3, 3],
    padding: 'same',
    groups: 2,
    D_mul: 10,
  };

  it('is normalised once: getConfig writes dMul and no Keras spelling', () => {
    const layer = DOConv2D.fromConfig(DOConv2D, kerasConfig) as DOConv2D;
    const config = layer.getConfig();
    expect(config.dMul).toBe(10);
    expect(config).not.toHaveProperty('D_mul');
    expect(config).not.toHaveProperty('DMul');
  });

  it("chooses the official composition in build() for 1 < groups < inCh, warning through onWarning, and computes Keras's function", () => {
    const warnings: string[] = [];
    const args: DOConv2DArgs & KerasDMulSpellings = {
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      groups: 2,
      D_mul: 10,
      name: 'from_keras',
      onWarning: (m) => warnings.push(m),
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const layer = new DOConv2D(args);
    expect(layer.getConfig().composition).toBe('definition'); // not chosen before build
    expect(warnings).toEqual([]);
    layer.build([null, H, W, C]);
    expect(layer.getConfig().composition).toBe('keras-official');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /'from_keras'.*groups 2 of 4 input channels.*official Keras DOConv2D/,
    );
    expect(warn).not.toHaveBeenCalled();

    // The same function as the Keras model loaded from a converted model.json.
    const w = randomNormal(10 * 2 * 6, 5);
    const d = randomNormal(9 * 10 * C, 6).map((v) => 0.3 * v);
    layer.setWeights([
      tf.tensor3d(Float32Array.from(w), [10, 2, 6]),
      tf.tensor3d(Float32Array.from(d), [9, 10, C]),
      tf.zeros([6]),
    ]);
    const x = randomNormal(H * W * C, 7);
    const y = (
      layer.apply(tf.tensor4d(Float32Array.from(x), [1, H, W, C])) as tf.Tensor
    ).dataSync();
    const kernel = officialKerasKernelLoops(
      Float64Array.from(Float32Array.from(w)),
      Float64Array.from(Float32Array.from(d)),
      10,
      6,
      2,
    );
    const expected = doConvReference({
      x,
      xShape: [1, H, W, C],
      weight: kernel,
      d: new Float64Array(9 * 9 * C),
      bias: new Float64Array(6),
      kernelSize: [3, 3],
      dMul: 9,
      filters: 6,
      groups: 2,
      strides: [1, 1],
      dilation: [1, 1],
      padding: 'same',
    });
    expectClose(y, expected.y, 1e-5, 'output');
  });

  it('without onWarning the warning goes to console.warn, prefixed', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    (DOConv2D.fromConfig(DOConv2D, kerasConfig) as DOConv2D).apply(tf.zeros([1, H, W, C]));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/^doconv DOConv2D: layer 'from_keras'/);
  });
});
