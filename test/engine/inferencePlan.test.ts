/**
 * compileInference (the native inference plan) against TF.js's model.predict on the cpu backend:
 * every classification zoo net folded (random weights, D and BatchNorm statistics), each op kind
 * alone, the errors, and memory (tensors and the addon's own bytes) over create/run/dispose.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { doConv2d, foldModel } from '../../src/index.js';
import { buildModel, zooModelNames, zooModelTask } from '../../src/models/index.js';
import { compileInference } from '../../src/engine/native/inferencePlan.js';
import { expectClose } from '../helpers/tolerance.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import {
  addon,
  describeNative as describeAddon,
  skipReason as addonSkipReason,
} from './nativeSetup.js';

// An addon built before inference plans (a stale local build) skips, saying so; CI builds it fresh.
const stale =
  addon != null &&
  typeof (addon as unknown as Record<string, unknown>).createInferencePlan !== 'function';
const describeNative = stale ? describe.skip : describeAddon;
const skipReason = stale
  ? ' (SKIPPED: the native addon predates inference plans; npm run build:native)'
  : addonSkipReason;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The plan's and model.predict's outputs for x, compared. */
const BATCH1_WAYS = ['one thread', 'output channels split', 'rows split'];

function expectPlanMatches(
  model: tf.LayersModel,
  x: tf.Tensor,
  batchSize = x.shape[0],
  threads?: number,
) {
  const compiled = compileInference(model, { batchSize, threads });
  try {
    const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync().slice());
    // Batch 1 on two threads runs three ways in turn, in bursts of 4 runs, on its first runs (one
    // thread, each conv's output channels split, each conv's rows split): each must give the
    // model's output.
    const runs = batchSize === 1 && (threads ?? 1) >= 2 ? 4 * BATCH1_WAYS.length : 1;
    for (let run = 0; run < runs; run++) {
      const got = compiled.predict(x);
      expect(got.shape).toEqual(
        (model.outputs[0].shape as number[]).map((d, i) => (i === 0 ? x.shape[0] : d)),
      );
      const way = runs > 1 ? `, ${BATCH1_WAYS[Math.floor(run / 4)]}` : '';
      const what = `${model.name} batch ${x.shape[0]}${way}`;
      expectClose(got.dataSync(), expected, 1e-4, what);
      got.dispose();
    }
  } finally {
    compiled.dispose();
  }
}

const classificationNets = zooModelNames.filter((n) => zooModelTask(n) === 'classification');

describeNative(
  `compileInference: every folded classification zoo net = model.predict on cpu${skipReason}`,
  () => {
    classificationNets.forEach((name, m) => {
      it(`${name}, batch 1 and 3`, () => {
        const mnist = name.includes('mnist') || name === 'gluon-lenet';
        const inputShape: [number, number, number] = mnist ? [28, 28, 1] : [16, 16, 3];
        const model = buildModel(name, { conv: 'doconv', inputShape, numClasses: 10, seed: m });
        randomizeModel(model, 100 + m, { weights: 0.05, d: 0.1 });
        const folded = foldModel(model, { fuseBatchNorm: true });
        if (name === 'resnet-20') {
          // every Add and ReLU fused into a conv (its sum and eltwise post-ops)
          const ops = compileInference(folded, { batchSize: 1 });
          expect(ops.ops.filter((op) => !op.startsWith('conv')).length).toBe(2); // pool, dense
          expect(ops.ops.filter((op) => op.includes(" + Add '")).length).toBe(9);
          ops.dispose();
        }
        for (const batch of [1, 3]) {
          const x = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', batch + m);
          expectPlanMatches(folded, x);
          if (batch === 1) expectPlanMatches(folded, x, 1, 2); // each conv split over 2 threads
          x.dispose();
        }
        model.dispose();
        folded.dispose();
      });
    });
  },
);

/** A one-input functional model around `body`, weights randomized. */
function modelOf(
  inputShape: number[],
  body: (x: tf.SymbolicTensor) => tf.SymbolicTensor,
  seed = 1,
) {
  const input = tf.input({ shape: inputShape });
  const model = tf.model({ inputs: input, outputs: body(input) });
  randomizeModel(model, seed);
  return model;
}

const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
  layer.apply(x) as tf.SymbolicTensor;

const OP_CASES: [string, number[], (x: tf.SymbolicTensor) => tf.SymbolicTensor][] = [
  [
    'conv same, stride 2 (asymmetric padding), relu',
    [8, 8, 3],
    (x) =>
      apply(
        L.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
        x,
      ),
  ],
  [
    'conv valid, 2×3 kernel, strides [2, 1], no bias, tanh',
    [9, 7, 2],
    (x) =>
      apply(
        L.conv2d({
          filters: 4,
          kernelSize: [2, 3],
          strides: [2, 1],
          useBias: false,
          activation: 'tanh',
        }),
        x,
      ),
  ],
  [
    'dilated conv same, sigmoid',
    [10, 10, 2],
    (x) =>
      apply(
        L.conv2d({
          filters: 3,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          activation: 'sigmoid',
        }),
        x,
      ),
  ],
  [
    // whole channel blocks (8, or 16 with AVX-512) in the blocked layout: the batch-1 channel split
    'blocked convs: depthwise ×16 on the input, 1×1 strided, residual add, depthwise, 48 channels',
    [9, 9, 2],
    (x) => {
      const d = apply(
        L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 16, padding: 'same' }),
        x,
      );
      const a = apply(
        L.conv2d({ filters: 48, kernelSize: 3, padding: 'same', activation: 'relu' }),
        d,
      );
      const b = apply(L.conv2d({ filters: 48, kernelSize: 1, strides: 2 }), a);
      const c = apply(L.conv2d({ filters: 48, kernelSize: 3, strides: 2, padding: 'same' }), a);
      const sum = apply(L.reLU(), apply(L.add(), [c, b]));
      return apply(L.globalAveragePooling2d({}), apply(L.depthwiseConv2d({ kernelSize: 3 }), sum));
    },
  ],
  [
    'strided 1×1 conv (gathered) with a residual add',
    [8, 8, 4],
    (x) => {
      const a = apply(L.conv2d({ filters: 6, kernelSize: 1, strides: 2 }), x);
      const b = apply(L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same' }), x);
      return apply(L.reLU(), apply(L.add(), [b, a]));
    },
  ],
  [
    'depthwise, multiplier 2, stride 2 same, elu',
    [7, 7, 3],
    (x) =>
      apply(
        L.depthwiseConv2d({
          kernelSize: 3,
          depthMultiplier: 2,
          strides: 2,
          padding: 'same',
          activation: 'elu',
        }),
        x,
      ),
  ],
  [
    'separable conv',
    [6, 6, 3],
    (x) =>
      apply(
        L.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
        x,
      ),
  ],
  [
    'ReLU maxValue 6 and LeakyReLU and ELU layers',
    [5, 5, 2],
    (x) => apply(L.elu(), apply(L.leakyReLU({ alpha: 0.2 }), apply(L.reLU({ maxValue: 6 }), x))),
  ],
  [
    'Activation relu6, tanh, sigmoid',
    [4, 4, 3],
    (x) =>
      apply(
        L.activation({ activation: 'sigmoid' }),
        apply(
          L.activation({ activation: 'tanh' }),
          apply(L.activation({ activation: 'relu6' }), x),
        ),
      ),
  ],
  [
    'BatchNormalization alone, then relu',
    [4, 4, 3],
    (x) => apply(L.reLU(), apply(L.batchNormalization({ epsilon: 1e-3 }), x)),
  ],
  [
    'Add of three (no conv), Concatenate',
    [4, 4, 2],
    (x) => {
      const a = apply(L.reLU(), x);
      const b = apply(L.activation({ activation: 'tanh' }), x);
      return apply(L.concatenate(), [apply(L.add(), [a, b, x]), b]);
    },
  ],
  [
    'max and average pooling, same and valid',
    [9, 9, 2],
    (x) =>
      apply(
        L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        apply(
          L.maxPooling2d({ poolSize: 2, padding: 'same' }),
          apply(L.maxPooling2d({ poolSize: [2, 3], strides: 1 }), x),
        ),
      ),
  ],
  [
    'ZeroPadding2D before a pool (a real pad) and before a conv (fused)',
    [5, 5, 2],
    (x) => {
      const p = apply(
        L.zeroPadding2d({
          padding: [
            [1, 2],
            [0, 1],
          ],
        }),
        x,
      );
      const pooled = apply(L.maxPooling2d({ poolSize: 2, strides: 1 }), p);
      const padded = apply(L.zeroPadding2d({ padding: 1 }), pooled);
      return apply(L.conv2d({ filters: 3, kernelSize: 3 }), padded);
    },
  ],
  [
    'global average and max pooling, dense relu, dense softmax',
    [6, 6, 3],
    (x) => {
      const g = apply(L.concatenate(), [
        apply(L.globalAveragePooling2d({}), x),
        apply(L.globalMaxPooling2d({}), x),
      ]);
      return apply(
        L.dense({ units: 4, activation: 'softmax' }),
        apply(L.dense({ units: 5, activation: 'relu' }), g),
      );
    },
  ],
  [
    'flatten, dropout, dense, Softmax layer',
    [3, 4, 2],
    (x) =>
      apply(
        L.softmax(),
        apply(L.dense({ units: 6 }), apply(L.dropout({ rate: 0.5 }), apply(L.flatten(), x))),
      ),
  ],
  [
    'dense on a rank-4 tensor, reshape',
    [3, 3, 4],
    (x) =>
      apply(
        L.reshape({ targetShape: [9, 5] }),
        apply(L.dense({ units: 5, activation: 'relu' }), x),
      ),
  ],
];

describeNative(`compileInference: each op kind alone = model.predict on cpu${skipReason}`, () => {
  OP_CASES.forEach(([what, inputShape, body], i) => {
    it(what, () => {
      const model = modelOf(inputShape, body, 10 + i);
      for (const batch of [1, 3]) {
        const x = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', i);
        expectPlanMatches(model, x);
        if (batch === 1) expectPlanMatches(model, x, 1, 2); // convs split over 2 threads
        x.dispose();
      }
      model.dispose();
    });
  });

  it('batches other than batchSize: chunks and a remainder plan; a batch split over threads', () => {
    const model = buildModel('resnet-20', {
      conv: 'conv',
      inputShape: [8, 8, 3],
      numClasses: 10,
      seed: 3,
    });
    randomizeModel(model, 3);
    const folded = foldModel(model, { fuseBatchNorm: true });
    const x = tf.randomNormal([9, 8, 8, 3], 0, 1, 'float32', 9);
    expectPlanMatches(folded, x, 4); // 4 + 4 + 1
    expectPlanMatches(folded, x, 9, 2); // 9 ≥ 4 · 2 threads: chunks of 4, 4 and 1 on two threads
    const one = x.slice([0, 0, 0, 0], [1, 8, 8, 3]);
    expectPlanMatches(folded, one, 1, 2); // batch 1 on two threads: each conv split in two
    one.dispose();
    const flat = compileInference(folded, { batchSize: 2 });
    const y = flat.predict(x.dataSync() as Float32Array);
    expectClose(y, (folded.predict(x) as tf.Tensor).dataSync(), 1e-4, 'Float32Array input');
    flat.dispose();
    tf.dispose(x);
    model.dispose();
    folded.dispose();
  });
});

describeNative(`compileInference: errors${skipReason}`, () => {
  it('an unfolded DO-Conv layer is refused, naming its class and name', () => {
    const model = tf.sequential({
      layers: [
        doConv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1], name: 'my_doconv' }),
        L.flatten(),
      ],
    });
    expect(() => compileInference(model, { batchSize: 1 })).toThrow(
      /layer DOConv2D 'my_doconv'.*fold the model first.*model\.predict/,
    );
  });

  it('an unsupported layer is refused, naming it', () => {
    const model = modelOf([4, 4, 2], (x) => apply(L.upSampling2d({ size: [2, 2], name: 'up' }), x));
    expect(() => compileInference(model, { batchSize: 1 })).toThrow(/UpSampling2D 'up'/);
  });

  it('a bad input shape names the expected and the given shape; bad options are refused', () => {
    const model = modelOf([4, 4, 2], (x) => apply(L.conv2d({ filters: 2, kernelSize: 1 }), x));
    const compiled = compileInference(model, { batchSize: 2 });
    const x = tf.zeros([2, 4, 5, 2]);
    expect(() => compiled.predict(x)).toThrow(/shape \[2,4,5,2\], expected \[n, 4, 4, 2\]/);
    expect(() => compiled.predict(new Float32Array(33))).toThrow(
      /33 values, expected a positive multiple of 32/,
    );
    compiled.dispose();
    expect(() => compiled.predict(tf.zeros([1, 4, 4, 2]))).toThrow(/after dispose/);
    expect(() => compileInference(model, { batchSize: 0 })).toThrow(
      /batchSize must be a whole number ≥ 1, got 0/,
    );
    tf.dispose(x);
    model.dispose();
  });

  it('bad records are errors naming the op index and field, never a crash', () => {
    const a = addon as unknown as {
      createInferencePlan(s: Float64Array, r: Float64Array, w: Float32Array[]): object;
      runInferencePlan(p: object, x: Float32Array, y: Float32Array): void;
      freeInferencePlan(p: object): void;
    };
    const conv = (patch: Record<number, number>) => {
      // conv 3×3, 2 → 4 channels, filter weights[0], no bias
      const r = new Float64Array(24);
      r.set([1, 0, -1, 0, 0, 0, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 4, 1, 0, -1]);
      for (const [k, v] of Object.entries(patch)) r[Number(k)] = v;
      return r;
    };
    const shape = new Float64Array([1, 5, 5, 2]);
    const filter = [new Float32Array(3 * 3 * 2 * 4)];
    expect(() => a.createInferencePlan(shape, conv({ 6: 0 }), filter)).toThrow(
      /op 0 \(conv\): kh is 0/,
    );
    expect(() => a.createInferencePlan(shape, conv({ 0: 99 }), filter)).toThrow(
      /op 0 \(unknown\): unknown op code 99/,
    );
    expect(() => a.createInferencePlan(shape, conv({ 1: 5 }), filter)).toThrow(
      /op 0 \(conv\): in0 is 5/,
    );
    expect(() => a.createInferencePlan(shape, conv({}), [new Float32Array(7)])).toThrow(
      /op 0 \(conv\): filter \(weights\[0\]\) has 7 elements, want 72/,
    );
    expect(() => a.createInferencePlan(shape, conv({ 17: 3 }), filter)).toThrow(
      /op 0 \(conv\): groups 3 must divide/,
    );
    expect(() => a.createInferencePlan(shape, conv({ 6: 9 }), filter)).toThrow(
      /op 0 \(conv\): the filter .* is larger/,
    );
    const plan = a.createInferencePlan(shape, conv({}), filter);
    expect(() => a.runInferencePlan(plan, new Float32Array(10), new Float32Array(36))).toThrow(
      /x needs 50/,
    );
    a.freeInferencePlan(plan);
    a.freeInferencePlan(plan); // idempotent
    expect(() => a.runInferencePlan(plan, new Float32Array(50), new Float32Array(36))).toThrow(
      /was freed/,
    );
    expect(() => a.runInferencePlan({}, new Float32Array(50), new Float32Array(36))).toThrow(
      /plan must be a handle from createInferencePlan/,
    );
  });
});

describeNative(`compileInference: memory${skipReason}`, () => {
  it('tensors and the addon’s bytes stay flat over create / predict / dispose', () => {
    const model = buildModel('mobilenet-v2', {
      conv: 'conv',
      inputShape: [8, 8, 3],
      numClasses: 10,
      seed: 5,
    });
    const folded = foldModel(model, { fuseBatchNorm: true });
    const x = tf.randomNormal([3, 8, 8, 3]);
    const round = () => {
      const compiled = compileInference(folded, { batchSize: 2 });
      compiled.predict(x).dispose();
      compiled.predict(x.dataSync() as Float32Array);
      compiled.dispose();
      compiled.dispose();
      // batch 1 on two threads: two plans (channels and rows split), their helper threads, every
      // way of running timed
      const one = compileInference(folded, { batchSize: 1, threads: 2 });
      const first = x.dataSync().subarray(0, 8 * 8 * 3) as Float32Array;
      const want = one.predict(first);
      // (ways differ in layout and summation order: float32 rounding apart)
      for (let i = 0; i < 24; i++) expectClose(one.predict(first), want, 1e-5, `run ${i}`);
      expect(one.describe()).not.toContain('not yet timed');
      one.dispose();
    };
    round();
    const tensors = tf.memory().numTensors;
    const bytes = addon!.stats().liveBytes;
    for (let i = 0; i < 5; i++) round();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(addon!.stats().liveBytes).toBe(bytes);
    tf.dispose(x);
    model.dispose();
    folded.dispose();
  });
});
