import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  convFactory,
  DOConvBase,
  DOConv2D,
  DODepthwiseConv2D,
  foldModel,
  zooModelInfo,
  zooModelNames,
  zooModelTask,
  type ConvFactory,
  type ZooModelName,
} from '../../src/index.js';
import { expectClose } from '../helpers/tolerance.js';

let tensorsAtStart = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tensorsAtStart = tf.memory().numTensors;
});

const SHAPES: [number, number, number][] = [
  [28, 28, 1],
  [32, 32, 3],
];

/** The architecture, counted: k×k convs (→ DO layers under 'doconv') and 1×1 convs (stay plain). */
const CONV_COUNTS: Partial<
  Record<ZooModelName, { kxk: number; depthwise: number; pointwise: number }>
> = {
  'tf-mnist-sample': { kxk: 2, depthwise: 0, pointwise: 0 },
  'pt-mnist-sample': { kxk: 3, depthwise: 0, pointwise: 0 },
  'gluon-lenet': { kxk: 2, depthwise: 0, pointwise: 0 },
  'plain-20': { kxk: 19, depthwise: 0, pointwise: 0 },
  'resnet-20': { kxk: 19, depthwise: 0, pointwise: 2 },
  'resnet-32': { kxk: 31, depthwise: 0, pointwise: 2 },
  'resnet-56': { kxk: 55, depthwise: 0, pointwise: 2 },
  'preresnet-20': { kxk: 19, depthwise: 0, pointwise: 2 },
  'mobilenet-v1': { kxk: 1, depthwise: 13, pointwise: 13 },
  'mobilenet-v2': { kxk: 1, depthwise: 17, pointwise: 34 },
};

function isConvKxK(layer: tf.layers.Layer): boolean {
  const name = layer.getClassName();
  if (name !== 'Conv2D' && name !== 'DepthwiseConv2D') return false;
  const kernelSize = (layer.getConfig().kernelSize as number[]) ?? [];
  return kernelSize[0] * kernelSize[1] > 1;
}

function count(model: tf.LayersModel, predicate: (l: tf.layers.Layer) => boolean): number {
  return model.layers.filter(predicate).length;
}

/** Weights by layer name and weight name (e.g. 'conv1/kernel'), copied out of the model. */
function weightValues(model: tf.LayersModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      out.set(
        `${layer.name}/${w.originalName.split('/').pop()}`,
        w.read().dataSync() as Float32Array,
      );
    }
  }
  return out;
}

/** Exact equality of two weight arrays (vitest's deep toEqual is slow on millions of elements). */
function sameValues(a: Float32Array | undefined, b: Float32Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** Both maps hold the same keys with exactly the same values. */
function sameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  return a.size === b.size && [...a].every(([key, values]) => sameValues(values, b.get(key)));
}

function input(shape: [number, number, number], seed: number): tf.Tensor4D {
  return tf.randomNormal([1, ...shape], 0, 1, 'float32', seed);
}

// The segmentation and detection nets take 64×64 scenes: test/models/taskNets.test.ts covers them.
const classifiers = zooModelNames.filter((n) => zooModelTask(n) === 'classification');

describe('every model × {conv, doconv} × {MNIST, CIFAR} shape: builds, predicts, and the twins start identical', () => {
  for (const name of classifiers) {
    for (const shape of SHAPES) {
      it(`${name}, input ${shape.join('×')}`, () => {
        const numClasses = 7;
        const base = buildModel(name, { conv: 'conv', inputShape: shape, numClasses, seed: 3 });
        const over = buildModel(name, { conv: 'doconv', inputShape: shape, numClasses, seed: 3 });
        try {
          const expected = CONV_COUNTS[name]!;
          // The conv twin: exactly the table's convs, no DO layer.
          expect(count(base, (l) => l instanceof DOConvBase)).toBe(0);
          expect(count(base, (l) => isConvKxK(l) && l.getClassName() === 'Conv2D')).toBe(
            expected.kxk,
          );
          expect(count(base, (l) => isConvKxK(l) && l.getClassName() === 'DepthwiseConv2D')).toBe(
            expected.depthwise,
          );
          expect(count(base, (l) => l.getClassName() === 'Conv2D' && !isConvKxK(l))).toBe(
            expected.pointwise,
          );
          // The doconv twin: a DO layer wherever the conv twin has a k×k conv, and 1×1 convs plain.
          expect(count(over, (l) => l instanceof DOConv2D)).toBe(expected.kxk);
          expect(count(over, (l) => l instanceof DODepthwiseConv2D)).toBe(expected.depthwise);
          expect(count(over, isConvKxK)).toBe(0);
          expect(count(over, (l) => l.getClassName() === 'Conv2D')).toBe(expected.pointwise);

          // Layer for layer: same names; DO layers where k×k convs are, everything else the same class.
          expect(over.layers.map((l) => l.name)).toEqual(base.layers.map((l) => l.name));
          const baseWeights = weightValues(base);
          const overWeights = weightValues(over);
          base.layers.forEach((b, i) => {
            const o = over.layers[i];
            if (isConvKxK(b)) {
              const isDepthwise = b.getClassName() === 'DepthwiseConv2D';
              expect(o).toBeInstanceOf(isDepthwise ? DODepthwiseConv2D : DOConv2D);
              const area = (o as DOConvBase).kernelArea;
              expect((o as DOConvBase).dMul, `${o.name} dMul`).toBe(area);
              // DO-Conv's init property: D = 0 and W is the baseline kernel, reshaped [M,N,C,F] → [M·N,C,F].
              const kernelName = isDepthwise ? 'depthwise_kernel' : 'kernel';
              const w = o.weights.find((v) => v.originalName.endsWith(`/${kernelName}`))!;
              const kernelShape = b.weights[0].shape as number[];
              expect(w.shape).toEqual([area, ...kernelShape.slice(2)]);
              expect(
                sameValues(
                  overWeights.get(`${o.name}/${kernelName}`),
                  baseWeights.get(`${b.name}/${kernelName}`),
                ),
                `${o.name} W`,
              ).toBe(true);
              expect(
                overWeights.get(`${o.name}/D`)!.every((v) => v === 0),
                `${o.name} D`,
              ).toBe(true);
              if (b.weights.length > 1)
                expect(
                  sameValues(overWeights.get(`${o.name}/bias`), baseWeights.get(`${b.name}/bias`)),
                ).toBe(true);
            } else {
              expect(o.getClassName(), o.name).toBe(b.getClassName());
              for (const w of b.weights) {
                const key = `${b.name}/${w.originalName.split('/').pop()}`;
                expect(sameValues(overWeights.get(key), baseWeights.get(key)), key).toBe(true);
              }
            }
          });

          // So a fresh doconv model computes what its conv twin computes.
          const x = input(shape, 11);
          const yBase = base.predict(x) as tf.Tensor;
          const yOver = over.predict(x) as tf.Tensor;
          expect(yBase.shape).toEqual([1, numClasses]);
          expect(yOver.shape).toEqual([1, numClasses]);
          const values = yBase.dataSync() as Float32Array;
          expect(values.every(Number.isFinite)).toBe(true);
          if (zooModelInfo(name).output === 'softmax')
            expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          expectClose(yOver.dataSync(), values, 1e-5, `${name} doconv vs conv output`);
          tf.dispose([x, yBase, yOver]);
        } finally {
          base.dispose();
          over.dispose();
        }
      });
    }
  }
});

describe('seeding: the same seed gives identical weights, another seed different ones', () => {
  for (const name of zooModelNames) {
    it(name, () => {
      const options = { conv: 'doconv', inputShape: [32, 32, 3], numClasses: 10 } as const;
      const [a, b, c] = [5, 5, 6].map((seed) => buildModel(name, { ...options, seed }));
      const [wa, wb, wc] = [a, b, c].map(weightValues);
      expect([...wb.keys()]).toEqual([...wa.keys()]);
      expect(sameWeights(wa, wb)).toBe(true);
      // Every randomly initialised weight (kernels, and pt-mnist-sample's biases) changes with the seed;
      // no two layers share a random stream.
      // (a constant initialiser, e.g. a detector's heatmap prior bias, is not random)
      const random = [...wa.keys()].filter(
        (k) => /(kernel|bias)$/.test(k) && wa.get(k)!.some((v) => v !== wa.get(k)![0]),
      );
      expect(random.length).toBeGreaterThan(0);
      for (const key of random) expect(sameValues(wc.get(key), wa.get(key)), key).toBe(false);
      const streams = new Set(random.map((k) => wa.get(k)!.slice(0, 4).join()));
      expect(streams.size).toBe(random.length);
      [a, b, c].forEach((m) => m.dispose());
    });
  }

  it('without a seed, two builds differ', () => {
    const options = { conv: 'conv', inputShape: [28, 28, 1], numClasses: 10 } as const;
    const [a, b] = [buildModel('tf-mnist-sample', options), buildModel('tf-mnist-sample', options)];
    expect(
      sameValues(weightValues(a).get('conv1/kernel'), weightValues(b).get('conv1/kernel')),
    ).toBe(false);
    [a, b].forEach((m) => m.dispose());
  });
});

/** Random D (the fold test at D = 0 proves nothing) and random BN statistics (so fusion is not the identity). */
function randomizeDAndBatchNorm(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const isDO = layer instanceof DOConvBase;
    const isBN = layer.getClassName() === 'BatchNormalization';
    if (!isDO && !isBN) continue;
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      switch (w.originalName.split('/').pop()) {
        case 'D':
          return tf.randomNormal(shape, 0, 0.3, 'float32', ++s);
        case 'gamma':
          return tf.randomUniform(shape, 0.5, 1.5, 'float32', ++s);
        case 'beta':
        case 'moving_mean':
          return tf.randomNormal(shape, 0, 0.2, 'float32', ++s);
        case 'moving_variance':
          return tf.randomUniform(shape, 0.5, 2, 'float32', ++s);
        default:
          return w.read().clone();
      }
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

describe('foldModel(doconv zoo model, {fuseBatchNorm: true}) computes the same outputs (random D and BN stats)', () => {
  for (const name of ['resnet-20', 'mobilenet-v2'] as const) {
    it(name, () => {
      const model = buildModel(name, {
        conv: 'doconv',
        inputShape: [32, 32, 3],
        numClasses: 10,
        seed: 1,
      });
      randomizeDAndBatchNorm(model, 100);
      const folded = foldModel(model, { fuseBatchNorm: true });
      try {
        expect(count(folded, (l) => l instanceof DOConvBase)).toBe(0);
        // Every BN directly after a conv with one consumer is fused; pre-activation BNs would remain.
        expect(count(folded, (l) => l.getClassName() === 'BatchNormalization')).toBe(0);
        const x = input([32, 32, 3], 12);
        const y = model.predict(x) as tf.Tensor;
        const yFolded = folded.predict(x) as tf.Tensor;
        expect(yFolded.shape).toEqual(y.shape);
        expectClose(yFolded.dataSync(), y.dataSync(), 1e-5, `${name} folded vs DO-Conv`);
        tf.dispose([x, y, yFolded]);
      } finally {
        model.dispose();
        folded.dispose();
      }
    });
  }
});

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
}

describe('architecture details', () => {
  it('resnet-20 (conv, CIFAR-10) has ~0.27M parameters: 270 256 in convs, BN and a 64→10 dense', () => {
    const model = buildModel('resnet-20', {
      conv: 'conv',
      inputShape: [32, 32, 3],
      numClasses: 10,
    });
    const trainable = trainableCount(model);
    // convs 270 256 (incl. 2 projections 512 + 2048), BN γ/β 1 568, dense 650; BN moving stats 1 568.
    expect(trainable).toBe(272_474);
    expect(model.countParams()).toBe(274_042);
    expect(Math.abs(trainable / 0.27e6 - 1)).toBeLessThan(0.01);
    model.dispose();
  });

  it('resnet-32 and resnet-56 have ~0.47M and ~0.86M parameters', () => {
    for (const [name, millions] of [
      ['resnet-32', 0.47],
      ['resnet-56', 0.86],
    ] as const) {
      const model = buildModel(name, { conv: 'conv', inputShape: [32, 32, 3], numClasses: 10 });
      const trainable = trainableCount(model);
      expect(Math.abs(trainable / (millions * 1e6) - 1), name).toBeLessThan(0.01);
      model.dispose();
    }
  });

  it('convs followed by BN have no bias and a linear activation (so BN can be fused)', () => {
    for (const name of [
      'plain-20',
      'resnet-20',
      'preresnet-20',
      'mobilenet-v1',
      'mobilenet-v2',
    ] as const) {
      const model = buildModel(name, { conv: 'doconv', inputShape: [32, 32, 3], numClasses: 10 });
      for (const layer of model.layers) {
        const cls = layer.getClassName();
        if (!/Conv2D$/.test(cls)) continue;
        const config = layer.getConfig();
        expect(config.useBias, `${name}/${layer.name}`).toBe(false);
        expect(config.activation, `${name}/${layer.name}`).toBe('linear');
      }
      model.dispose();
    }
  });

  it('pt-mnist-sample pads symmetrically (ZeroPadding2D(1) + valid) and starts with PyTorch init bounds', () => {
    const model = buildModel('pt-mnist-sample', {
      conv: 'conv',
      inputShape: [28, 28, 1],
      numClasses: 10,
      seed: 2,
    });
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'ZeroPadding2D',
      'Conv2D',
      'ZeroPadding2D',
      'Conv2D',
      'ZeroPadding2D',
      'Conv2D',
      'GlobalAveragePooling2D',
    ]);
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (const [layer, fanIn] of [
      ['conv1', 9],
      ['conv2', 144],
      ['conv3', 144],
    ] as const) {
      const [kernel, bias] = model
        .getLayer(layer)
        .getWeights()
        .map((w) => w.dataSync() as Float32Array);
      expect(model.getLayer(layer).getConfig().padding).toBe('valid');
      // kaiming_uniform(a=√5) and the bias default are both U(±1/√fan_in).
      for (const values of [kernel, bias]) {
        expect(maxAbs(values)).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
        expect(maxAbs(values)).toBeGreaterThan(0.5 / Math.sqrt(fanIn));
      }
    }
    model.dispose();
  });

  it('every conv comes from the injected factory (no global switch)', () => {
    const calls: string[] = [];
    const inner = convFactory('conv');
    const recording: ConvFactory = {
      kind: 'conv',
      conv2d: (args) => (calls.push(`conv2d ${args.name}`), inner.conv2d(args)),
      depthwiseConv2d: (args) => (
        calls.push(`depthwise ${args.name}`),
        inner.depthwiseConv2d(args)
      ),
    };
    for (const name of zooModelNames) {
      calls.length = 0;
      const model = buildModel(name, { conv: recording, inputShape: [32, 32, 3], numClasses: 10 });
      const convs = model.layers.filter((l) => /Conv2D$/.test(l.getClassName()));
      expect(calls.length, name).toBe(convs.length);
      model.dispose();
    }
  });
});

describe('bad arguments fail naming the argument and the value', () => {
  const ok = { conv: 'conv', inputShape: [28, 28, 1], numClasses: 10 } as const;
  it('unknown model: names it and lists the known ones', () => {
    expect(() => buildModel('resnet-18', ok)).toThrow(
      /Unknown model "resnet-18"; known models: tf-mnist-sample, .*mobilenet-v2/,
    );
  });
  it.each([
    ['inputShape', { ...ok, inputShape: [28, 28] }, /inputShape .* got \[28,28\]/],
    ['inputShape', { ...ok, inputShape: [28, 0, 1] }, /inputShape .* got \[28,0,1\]/],
    ['numClasses', { ...ok, numClasses: 0 }, /numClasses .* got 0/],
    ['seed', { ...ok, seed: 1.5 }, /seed .* got 1.5/],
    ['conv', { ...ok, conv: 'dconv' }, /kind must be one of 'conv', 'doconv', got "dconv"/],
  ])('%s: %j', (_arg, options, message) => {
    expect(() => buildModel('resnet-20', options as never)).toThrow(message);
  });
});

afterAll(() => {
  // Every model above is disposed where it was built: nothing (weights, D_diag constants) leaks.
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
});
