import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dilatedConv2d,
  doConv2d,
  doDepthwiseConv2d,
  exportOnnx,
  foldModel,
  ONNX_OPSET,
} from '../../src/index.js';
import { buildLayer, caseName, IN_CHANNELS, layerCases } from '../helpers/doLayerCase.js';
import { expectClose } from '../helpers/tolerance.js';
import {
  attr,
  decodeOnnx,
  expectOnnxMatchesTfjs,
  initializerDims,
  nodesOf,
  onnxSession,
  randomizeForExport,
  runOnnx,
} from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// 9×10 input: a stride-2 'same' conv pads H symmetrically (total 2) and W asymmetrically (total 1).
const H = 9;
const W = 10;
const C = 4;

function sequentialOf(layers: tf.layers.Layer[], inputShape: number[] = [H, W, C]): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.inputLayer({ inputShape }), ...layers] });
}

/** Random weights (unless `randomize` is false: a fold keeps its source's), then ONNX vs TF.js. */
async function check(model: tf.LayersModel, seed: number, batch = 2, randomize = true) {
  if (randomize) randomizeForExport(model, seed);
  const xs = model.inputs.map((input, i) =>
    tf.randomNormal(
      [batch, ...(input.shape.slice(1) as number[])],
      0,
      1,
      'float32',
      seed + 100 + i,
    ),
  );
  const decoded = await expectOnnxMatchesTfjs(model, xs);
  tf.dispose(xs);
  return decoded;
}

describe('exportOnnx: standard conv layers against TF.js', () => {
  for (const kernel of [1, 3, [2, 3]] as const) {
    for (const strides of [1, 2]) {
      for (const padding of ['same', 'valid'] as const) {
        for (const dilation of strides === 1 && kernel !== 1 ? [1, 2] : [1]) {
          it(`Conv2D kernel=${kernel} strides=${strides} padding=${padding} dilation=${dilation}`, async () => {
            const conv = tf.layers.conv2d({
              filters: 5,
              kernelSize: kernel as number,
              strides,
              padding,
              dilationRate: dilation,
            });
            await check(sequentialOf([conv]), 1);
          });
        }
      }
    }
  }
  it('Conv2D without bias, fused relu6', async () => {
    await check(
      sequentialOf([
        tf.layers.conv2d({ filters: 3, kernelSize: 3, useBias: false, activation: 'relu6' }),
      ]),
      2,
    );
  });
  for (const strides of [1, 2]) {
    for (const multiplier of [1, 2]) {
      for (const padding of ['same', 'valid'] as const) {
        it(`DepthwiseConv2D strides=${strides} multiplier=${multiplier} padding=${padding}`, async () => {
          const layer = tf.layers.depthwiseConv2d({
            kernelSize: 3,
            strides,
            depthMultiplier: multiplier,
            padding,
          });
          const decoded = await check(sequentialOf([layer]), 3);
          const [node] = nodesOf(decoded, 'Conv');
          expect(attr(node, 'group')).toBe(C);
        });
      }
    }
  }
  it('DepthwiseConv2D with dilationRate: TF.js ignores it, and so does the export (with a warning)', async () => {
    const model = sequentialOf([
      tf.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same' }),
    ]);
    const warnings: string[] = [];
    randomizeForExport(model, 4);
    exportOnnx(model, { onWarning: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/dilationRate \[2,2\] is ignored/);
    await check(model, 4);
  });
  for (const dilation of [1, 2]) {
    for (const strides of dilation === 1 ? [1, 2] : [1]) {
      it(`SeparableConv2D dilation=${dilation} strides=${strides} multiplier=2`, async () => {
        const layer = tf.layers.separableConv2d({
          filters: 6,
          kernelSize: 3,
          strides,
          dilationRate: dilation,
          depthMultiplier: 2,
          padding: 'same',
          activation: 'tanh',
        });
        const decoded = await check(sequentialOf([layer]), 5);
        expect(nodesOf(decoded, 'Conv')).toHaveLength(2);
      });
    }
  }
});

describe('exportOnnx: DO layers over the layer sweep (random D), one Conv each', () => {
  it.each(layerCases().map((c, i) => [caseName(c), c, i] as const))('%s', async (_n, c, i) => {
    const model = sequentialOf([buildLayer(c)], [H, W, IN_CHANNELS]);
    const decoded = await check(model, 10 * i);
    const convs = nodesOf(decoded, 'Conv');
    expect(convs).toHaveLength(1);
    const groups = c.groups === 1 ? 1 : c.groups === 2 ? 2 : IN_CHANNELS;
    expect(attr(convs[0], 'group') ?? 1).toBe(groups);
    expect(initializerDims(decoded, convs[0], 1)).toEqual([
      c.groups === 'inCh' || c.groups === 'depthwise'
        ? IN_CHANNELS * c.multiplier
        : 4 * c.multiplier,
      IN_CHANNELS / groups,
      ...c.kernel,
    ]);
    if (c.dilation > 1) expect(attr(convs[0], 'dilations')).toEqual([c.dilation, c.dilation]);
  });
});

describe('exportOnnx: the ONNX graph costs exactly a conv', () => {
  it('DO-GConv (groups 2 of 8 channels) is one Conv with group = 2 and a [F, C/g, M, N] kernel, no block-diagonal one', async () => {
    const model = sequentialOf(
      [doConv2d({ filters: 6, kernelSize: 3, groups: 2, padding: 'same' })],
      [H, W, 8],
    );
    const decoded = await check(model, 20);
    const convs = nodesOf(decoded, 'Conv');
    expect(convs).toHaveLength(1);
    expect(attr(convs[0], 'group')).toBe(2);
    expect(initializerDims(decoded, convs[0], 1)).toEqual([6, 4, 3, 3]);
    expect(
      decoded.graph.initializer.some(
        (t) => JSON.stringify(t.dims) === JSON.stringify([6, 8, 3, 3]),
      ),
    ).toBe(false);
  });
  it('a dilated DO-DConv is one Conv with dilations and group = C — from the DO model and from its tfjs fold', async () => {
    const model = sequentialOf([
      doDepthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', depthMultiplier: 2 }),
    ]);
    const decoded = await check(model, 21);
    const folded = foldModel(model);
    expect(folded.layers.at(-1)!.getClassName()).toBe('SeparableConv2D'); // identity pointwise in tfjs
    const decodedFold = await check(folded, 21, 2, false);
    for (const d of [decoded, decodedFold]) {
      const convs = nodesOf(d, 'Conv');
      expect(convs).toHaveLength(1);
      expect(attr(convs[0], 'dilations')).toEqual([2, 2]);
      expect(attr(convs[0], 'group')).toBe(C);
      expect(attr(convs[0], 'pads')).toEqual([2, 2, 2, 2]);
    }
  });
  it('transposes only at the input and before Flatten (conv → BN → relu → pool → conv → flatten → dense)', async () => {
    const model = sequentialOf([
      tf.layers.conv2d({ filters: 4, kernelSize: 3 }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      doConv2d({ filters: 4, kernelSize: 3, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ]);
    const decoded = await check(model, 22);
    expect(nodesOf(decoded, 'Transpose').map((n) => attr(n, 'perm'))).toEqual([
      [0, 3, 1, 2],
      [0, 2, 3, 1],
    ]);
    expect(decoded.opsetImport.find((o) => !o.domain)?.version).toBe(ONNX_OPSET);
  });
  it('a 4D output is transposed back to NHWC; a symbolic batch runs with any batch size; batchSize fixes it', async () => {
    const model = sequentialOf([
      tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
    ]);
    await check(model, 23, 1);
    await check(model, 23, 3);
    const decoded = decodeOnnx(exportOnnx(model, { batchSize: 5 }));
    expect(decoded.graph.input[0].name).toBe(model.inputs[0].sourceLayer.name);
    const dims = (
      decoded.graph.output[0] as unknown as {
        type: { tensorType: { shape: { dim: { dimValue?: number }[] } } };
      }
    ).type.tensorType.shape.dim.map((d) => d.dimValue);
    expect(dims).toEqual([5, 5, 5, 3]);
  });
});

describe('exportOnnx: normalization, activations, core layers', () => {
  it('BatchNormalization on 4D (ONNX BatchNormalization with its epsilon), without center/scale, on 2D', async () => {
    const input = tf.input({ shape: [H, W, C] });
    const a = tf.layers.batchNormalization({ epsilon: 0.01 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers
      .batchNormalization({ center: false, scale: false })
      .apply(tf.layers.conv2d({ filters: 4, kernelSize: 3 }).apply(a)) as tf.SymbolicTensor;
    const d = tf.layers
      .batchNormalization()
      .apply(
        tf.layers.dense({ units: 5 }).apply(tf.layers.flatten().apply(b)),
      ) as tf.SymbolicTensor;
    const decoded = await check(tf.model({ inputs: input, outputs: [b, d] }), 30);
    const bns = nodesOf(decoded, 'BatchNormalization');
    expect(bns).toHaveLength(3);
    expect(attr(bns[0], 'epsilon')).toBeCloseTo(0.01, 8);
  });
  it('BatchNormalization over axis 1 (H) of NHWC: x·s + t along H, by the definition', async () => {
    // TF.js 4.22's cpu kernel broadcasts BN parameters along the last axis whatever the layer's
    // axis, so the reference here is the definition, computed with broadcasting tf ops.
    for (const afterConv of [false, true]) {
      const layers = [
        ...(afterConv ? [tf.layers.conv2d({ filters: 3, kernelSize: 1 })] : []),
        tf.layers.batchNormalization({ axis: 1 }),
      ];
      const model = sequentialOf(layers);
      randomizeForExport(model, 34);
      const x = tf.randomNormal([2, H, W, C], 0, 1, 'float32', 35);
      const bn = model.layers.at(-1)!;
      const [gamma, beta, mean, variance] = bn.getWeights().map((w) => tf.reshape(w, [1, H, 1, 1]));
      const features = afterConv ? (model.layers.at(-2)!.apply(x) as tf.Tensor) : x;
      const expected = tf.add(
        tf.mul(tf.div(tf.sub(features, mean), tf.sqrt(tf.add(variance, 1e-3))), gamma),
        beta,
      );
      const session = await onnxSession(exportOnnx(model));
      const [got] = await runOnnx(session, [x]);
      await session.release();
      expectClose(got.data, expected.dataSync(), 1e-4, `BN axis 1, afterConv=${afterConv}`);
    }
  });
  // Every activation TF.js 4.22 registers (gelu and gelu_new are missing from its ActivationIdentifier type).
  type Activation = NonNullable<Parameters<typeof tf.layers.activation>[0]['activation']>;
  const activations = [
    'linear',
    'relu',
    'relu6',
    'sigmoid',
    'hardSigmoid',
    'tanh',
    'softmax',
    'logSoftmax',
    'elu',
    'selu',
    'softplus',
    'softsign',
    'swish',
    'mish',
    'gelu',
    'gelu_new',
  ] as Activation[];
  for (const activation of activations) {
    it(`activation=${activation}: as a layer on 4D (NCHW inside) and fused in Dense`, async () => {
      const model = sequentialOf([
        tf.layers.conv2d({ filters: 3, kernelSize: 3, activation }),
        tf.layers.activation({ activation }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation }),
      ]);
      await check(model, 31);
    });
  }
  it('ReLU (maxValue), LeakyReLU, ELU, PReLU, Softmax layer (axis −1 on 4D, default axis 1 on 2D)', async () => {
    const model = sequentialOf([
      tf.layers.conv2d({ filters: 3, kernelSize: 3 }),
      tf.layers.reLU({ maxValue: 0.5 }),
      tf.layers.conv2d({ filters: 3, kernelSize: 1 }),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.elu(),
      tf.layers.prelu({ alphaInitializer: 'glorotUniform' }),
      tf.layers.softmax({ axis: -1 }), // TF.js's softmax only works on the last axis of a 4D tensor
      tf.layers.flatten(),
      tf.layers.softmax(), // the layer's default axis 1, here the last
    ]);
    await check(model, 32);
  });
  it('Dense on a 4D input (MatMul + Add), Reshape, Permute, Dropout and noise layers (identity)', async () => {
    const model = sequentialOf([
      tf.layers.conv2d({ filters: 3, kernelSize: 3 }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 6 }),
      tf.layers.permute({ dims: [2, 1, 3] }),
      tf.layers.reshape({ targetShape: [8 * 7, 6] }),
      tf.layers.gaussianNoise({ stddev: 1 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, useBias: false }),
    ]);
    await check(model, 33);
  });
});

describe('exportOnnx: pooling and padding against TF.js', () => {
  for (const kind of ['max', 'average'] as const) {
    for (const [pool, strides] of [
      [2, 2],
      [3, 2],
      [3, 1],
      [2, 1],
    ] as const) {
      for (const padding of ['same', 'valid'] as const) {
        it(`${kind}Pooling2D pool=${pool} strides=${strides} padding=${padding}`, async () => {
          const make = kind === 'max' ? tf.layers.maxPooling2d : tf.layers.averagePooling2d;
          const model = sequentialOf([
            tf.layers.conv2d({ filters: 3, kernelSize: 1 }),
            make({ poolSize: pool, strides, padding }),
          ]);
          await check(model, 40);
        });
      }
    }
  }
  it('GlobalAveragePooling2D and GlobalMaxPooling2D on an NCHW value and on the raw NHWC input', async () => {
    const input = tf.input({ shape: [H, W, C] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3 }).apply(input) as tf.SymbolicTensor;
    const outputs = [
      tf.layers.globalAveragePooling2d({}).apply(conv),
      tf.layers.globalMaxPooling2d({}).apply(conv),
      tf.layers.globalAveragePooling2d({}).apply(input),
      tf.layers.globalMaxPooling2d({}).apply(input),
    ] as tf.SymbolicTensor[];
    const decoded = await check(tf.model({ inputs: input, outputs }), 41);
    expect(nodesOf(decoded, 'ReduceMean')).toHaveLength(1);
    expect(nodesOf(decoded, 'GlobalAveragePool')).toHaveLength(1);
  });
  it('ZeroPadding2D on the raw input and after a conv, symmetric and not', async () => {
    const model = sequentialOf([
      tf.layers.zeroPadding2d({
        padding: [
          [1, 2],
          [0, 3],
        ],
      }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3 }),
      tf.layers.zeroPadding2d({ padding: 1 }),
    ]);
    await check(model, 42);
  });
  for (const interpolation of ['nearest', 'bilinear'] as const) {
    it(`UpSampling2D (${interpolation}) → Resize: sizes 2×2, 3×2 and 8×8 (to full size), on the input and after a conv`, async () => {
      const model = sequentialOf([
        tf.layers.upSampling2d({ size: [2, 2], interpolation }),
        tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2 }),
        tf.layers.upSampling2d({ size: [3, 2], interpolation }),
        tf.layers.conv2d({ filters: 2, kernelSize: 1, strides: 4 }),
        tf.layers.upSampling2d({ size: [8, 8], interpolation }),
      ]);
      const decoded = await check(model, 43);
      expect(nodesOf(decoded, 'Resize')).toHaveLength(3);
    });
  }
  it('DilatedConv2D → one dilated Conv', async () => {
    const model = sequentialOf([
      dilatedConv2d({ filters: 3, kernelSize: 3, dilationRate: [2, 3], padding: 'same' }),
      dilatedConv2d({ filters: 2, kernelSize: 3, dilationRate: 2, activation: 'relu' }),
    ]);
    const decoded = await check(model, 44);
    expect(nodesOf(decoded, 'Conv').map((n) => attr(n, 'dilations'))).toEqual([
      [2, 3],
      [2, 2],
    ]);
  });
});

describe('exportOnnx: functional graphs', () => {
  it('two inputs, three outputs (4D, 2D, an intermediate also used inside), merges of every kind', async () => {
    const a = tf.input({ shape: [H, W, C], name: 'a' });
    const b = tf.input({ shape: [H, W, C], name: 'b' });
    const ca = doConv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'ca' }).apply(
      a,
    ) as tf.SymbolicTensor;
    const cb = tf.layers
      .conv2d({ filters: 4, kernelSize: 1, name: 'cb' })
      .apply(b) as tf.SymbolicTensor;
    const merged = [
      tf.layers.add().apply([ca, cb]),
      tf.layers.add().apply([ca, cb, a]), // Sum of 3, one input still NHWC
      tf.layers.multiply().apply([ca, cb, a]),
      tf.layers.average().apply([ca, cb]),
      tf.layers.maximum().apply([ca, cb]),
      tf.layers.minimum().apply([ca, a]),
    ] as tf.SymbolicTensor[];
    const cat = tf.layers.concatenate({ name: 'cat' }).apply(merged) as tf.SymbolicTensor;
    const catH = tf.layers.concatenate({ axis: 1 }).apply([ca, cb]) as tf.SymbolicTensor;
    const shared = tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'shared' });
    const s1 = shared.apply(ca) as tf.SymbolicTensor; // a layer called twice: two nodes
    const s2 = shared.apply(cb) as tf.SymbolicTensor;
    const head = tf.layers
      .dense({ units: 3, name: 'head' })
      .apply(
        tf.layers.flatten().apply(tf.layers.concatenate().apply([s1, s2])),
      ) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({}).apply(catH) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: [cat, head, ca, gap] });
    const decoded = await check(model, 50);
    expect(decoded.graph.input.map((i) => i.name)).toEqual(['a', 'b']);
    expect(decoded.graph.output.map((o) => o.name)).toEqual([
      'cat',
      'head',
      'ca',
      model.outputs[3].sourceLayer.name,
    ]);
  });
  it('a residual block (functional), and the same block folded', async () => {
    const input = tf.input({ shape: [8, 8, 4] });
    const c1 = doConv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(
      input,
    ) as tf.SymbolicTensor;
    const r1 = tf.layers
      .reLU()
      .apply(tf.layers.batchNormalization().apply(c1)) as tf.SymbolicTensor;
    const c2 = doConv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(
      r1,
    ) as tf.SymbolicTensor;
    const sum = tf.layers
      .add()
      .apply([tf.layers.batchNormalization().apply(c2) as tf.SymbolicTensor, input]);
    const out = tf.layers
      .dense({ units: 2 })
      .apply(tf.layers.globalAveragePooling2d({}).apply(sum));
    const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    const decoded = await check(model, 51);
    expect(nodesOf(decoded, 'Transpose')).toHaveLength(1); // only at the input
    await check(foldModel(model, { fuseBatchNorm: true }), 51, 2, false);
  });
});

describe('exportOnnx: what it refuses, by name', () => {
  it('an unsupported layer: names the layer and its class', () => {
    const model = sequentialOf([
      tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'c' }),
      tf.layers.cropping2D({ cropping: 1, name: 'crop' }),
    ]);
    expect(() => exportOnnx(model)).toThrow(/layer 'crop' \(Cropping2D\) is not supported/);
  });
  it('an unsupported activation: names the layer and the activation', () => {
    const model = sequentialOf([tf.layers.thresholdedReLU({ name: 'thr' })]);
    expect(() => exportOnnx(model)).toThrow(/'thr' \(ThresholdedReLU\)/);
  });
  it('a nested model called as a layer', () => {
    const inner = sequentialOf([tf.layers.conv2d({ filters: 2, kernelSize: 3 })]);
    inner.name = 'inner';
    const input = tf.input({ shape: [H, W, C] });
    const outer = tf.model({
      inputs: input,
      outputs: tf.layers.flatten().apply(inner.apply(input)) as tf.SymbolicTensor,
    });
    expect(() => exportOnnx(outer)).toThrow(/'inner' \(Sequential\) is a nested model/);
  });
  it('a model without inputs yet', () => {
    expect(() => exportOnnx(tf.sequential({ name: 'empty' }))).toThrow(
      /model 'empty' has no inputs yet/,
    );
  });
  it('channelsFirst and bad batchSize', () => {
    const cf = sequentialOf([
      tf.layers.maxPooling2d({ poolSize: 2, dataFormat: 'channelsFirst', name: 'p' }),
    ]);
    expect(() => exportOnnx(cf)).toThrow(/layer 'p' \(MaxPooling2D\): dataFormat "channelsFirst"/);
    expect(() => exportOnnx(sequentialOf([tf.layers.flatten()]), { batchSize: 0 })).toThrow(
      /batchSize must be a positive integer, got 0/,
    );
  });
});
