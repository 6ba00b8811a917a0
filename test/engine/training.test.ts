/**
 * Training on wasm with doconv's kernels — on both engines: its wasm kernels and the native one
 * (oneDNN, when the addon is built) — checked against the cpu backend as the independent
 * reference: gradients through tf.grads, the loss curve of a small CNN from identical weights,
 * and memory staying flat over repeated steps.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableNativeEngine } from '../../src/engine/native/enableNative.js';
import { doConv2d } from '../../src/index.js';
import { dilateFilter, host, relativeError, undilateFilter } from './helpers.js';
import { addon, skipReason, startNativeEngine } from './nativeSetup.js';

type Backend = 'cpu' | 'wasm' | 'doconv-native';

async function gradsOn(
  backend: Backend,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  args: Array<{ values: Float32Array; shape: number[] }>,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const ts = args.map((a) => tf.tensor(a.values, a.shape));
  const gs = tf.grads(f)(ts);
  const out = await Promise.all(gs.map((g) => g.data() as Promise<Float32Array>));
  tf.dispose([...ts, ...gs]);
  return out;
}

// Each op's output is multiplied by fixed random weights before summing, so every output element
// gets a distinct upstream gradient (a plain sum would hide index errors).
const probes: Array<{ name: string; shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor }> = [
  {
    name: 'conv2d 3x3 stride 2 same',
    shapes: [
      [2, 9, 9, 3],
      [3, 3, 3, 5],
    ],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
  },
  {
    name: 'fused conv2d + bias + relu, stride 1 valid',
    shapes: [[2, 8, 7, 4], [3, 3, 4, 6], [6]],
    f: (x, w, b) =>
      tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: w as tf.Tensor4D,
        bias: b,
        strides: 1,
        pad: 'valid',
        activation: 'relu',
      }),
  },
  {
    name: 'depthwiseConv2d multiplier 2 stride 2',
    shapes: [
      [2, 8, 8, 3],
      [3, 3, 3, 2],
    ],
    f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
  },
  {
    name: 'separableConv2d',
    shapes: [
      [1, 7, 7, 3],
      [3, 3, 3, 1],
      [1, 1, 3, 4],
    ],
    f: (x, d, p) =>
      tf.separableConv2d(x as tf.Tensor4D, d as tf.Tensor4D, p as tf.Tensor4D, 1, 'same'),
  },
  {
    name: 'conv2dTranspose stride 2',
    shapes: [
      [2, 4, 4, 5],
      [3, 3, 3, 5],
    ],
    f: (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 8, 3], 2, 'same'),
  },
  // BatchNorm in training mode as tfjs-layers runs it: tf.moments, then FusedBatchNorm. Exercises
  // doconv's wasm gradients for FusedBatchNorm and Mean and the kernels they use. (Without a scale
  // tfjs-core cannot take this gradient on any backend: it saves the missing scale for backprop;
  // nor with [1,1,1,C] statistics: its scale gradient reshapes without summing.)
  {
    name: 'batchNorm with batch moments (training mode)',
    shapes: [[4, 5, 3, 6], [6], [6]],
    f: (x, gamma, beta) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
    },
  },
  {
    name: 'batchNorm with given statistics (inference-mode gradient)',
    shapes: [[2, 3, 3, 4], [4], [4], [4], [4]],
    f: (x, mean, v, beta, gamma) => tf.batchNorm(x, mean, tf.add(tf.square(v), 0.5), beta, gamma),
  },
  {
    name: 'mean over spatial axes and over the batch',
    shapes: [[3, 4, 5, 6]],
    f: (x) => tf.add(tf.mean(x, [1, 2], true), tf.mean(x, 0)),
  },
];

/** A small CNN touching every layer kind whose gradient needs a conv backprop kernel. */
function buildNet(): tf.LayersModel {
  const m = tf.sequential();
  // conv → BN → relu → maxPool, the usual order. (relu → BN → maxPool would make max-pool ties
  // matter, and wasm's MaxPoolGrad sends a tie's gradient to the last max where cpu/TF pick the first.)
  m.add(tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 6, kernelSize: 3, padding: 'same' }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(
    tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }));
  m.add(tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  return m;
}

async function lossCurve(
  backend: Backend,
  weights: Array<{ values: Float32Array; shape: number[] }>,
  optimizer: () => tf.Optimizer,
  steps: number,
): Promise<number[]> {
  await tf.setBackend(backend);
  const model = buildNet();
  model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
  model.compile({ optimizer: optimizer(), loss: 'categoricalCrossentropy' });
  const x = tf.tensor(host([6, 10, 10, 3], 5).values, [6, 10, 10, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32'), 4);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await model.trainOnBatch(x, y)) as number);
  model.dispose();
  tf.dispose([x, y]);
  return losses;
}

/** Tiny (a 1 000-step test stays fast) but touching every doconv wasm kernel and gradient, and a DO-Conv layer. */
function tinyNet(): tf.LayersModel {
  const m = tf.sequential();
  m.add(doConv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, padding: 'same' }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }));
  m.add(tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }));
  m.add(tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return m;
}

// The wasm engine, the native engine over wasm's heap, and the native engine's own backend.
const ENGINES = [
  { engine: 'wasm', backend: 'wasm' },
  { engine: 'native', backend: 'wasm' },
  { engine: 'native', backend: 'doconv-native' },
] as const;

for (const { engine, backend } of ENGINES) {
  const run = engine === 'native' && addon == null ? describe.skip : describe;
  run(`${engine} engine on ${backend}${engine === 'native' ? skipReason : ''}`, () => {
    beforeAll(async () => {
      if (engine === 'native') expect(startNativeEngine(backend)).toBe(true);
      else disableNativeEngine();
      await tf.setBackend(backend);
    });
    afterAll(() => disableNativeEngine());

    describe('tf.grads on wasm matches cpu', () => {
      it.each(probes.map((p) => [p.name, p] as const))('%s', async (_, p) => {
        const args = p.shapes.map((s, i) => host(s, 10 + i));
        // Shape of the op's output, for the probe weights.
        await tf.setBackend('cpu');
        const outShape = tf.tidy(() => p.f(...args.map((a) => tf.tensor(a.values, a.shape))).shape);
        const r = host(outShape, 99);
        const loss = (...xs: tf.Tensor[]) =>
          tf.sum(tf.mul(p.f(...xs), tf.tensor(r.values, r.shape)));
        const want = await gradsOn('cpu', loss, args);
        const got = await gradsOn(backend, loss, args);
        got.forEach((g, i) =>
          expect(relativeError(g, want[i]), `gradient ${i}`).toBeLessThan(1e-4),
        );
      });

      it.each([
        ['conv2d', false],
        ['depthwiseConv2d', true],
      ] as const)(
        'dilated %s gradients (tfjs-core refuses them) match cpu on the zero-stuffed filter',
        async (_, depthwise) => {
          const x = host([2, 9, 8, 3], 21);
          const w = host([3, 2, 3, 2], 22);
          const dense = dilateFilter(w, 2, 2);
          const conv = (a: tf.Tensor, b: tf.Tensor, dl: number) =>
            depthwise
              ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', dl)
              : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', dl);
          await tf.setBackend('cpu');
          const outShape = tf.tidy(
            () => conv(tf.tensor(x.values, x.shape), tf.tensor(dense.values, dense.shape), 1).shape,
          );
          const r = host(outShape, 23);
          const probe = (dl: number) => (a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(conv(a, b, dl), tf.tensor(r.values, r.shape)));
          const [wantX, wantDense] = await gradsOn('cpu', probe(1), [x, dense]);
          const wantW = undilateFilter({ values: wantDense, shape: dense.shape }, 3, 2, 2, 2);
          const [gotX, gotW] = await gradsOn(backend, probe(2), [x, w]);
          expect(relativeError(gotX, wantX), 'dx').toBeLessThan(1e-4);
          expect(relativeError(gotW, wantW.values), 'dw').toBeLessThan(1e-4);
        },
      );

      it('conv2d gradient on wasm agrees with finite differences (independent of cpu)', async () => {
        await tf.setBackend(backend);
        const x = host([1, 6, 6, 2], 1);
        const w = host([3, 3, 2, 3], 2);
        const r = host([1, 3, 3, 3], 3);
        // Linear in w, so a central difference is exact up to rounding.
        const f = (wv: Float32Array) =>
          tf.tidy(
            () =>
              tf
                .sum(
                  tf.mul(
                    tf.conv2d(
                      tf.tensor4d(x.values, x.shape as [1, 6, 6, 2]),
                      tf.tensor4d(wv, [3, 3, 2, 3]),
                      2,
                      'same',
                    ),
                    tf.tensor(r.values, r.shape),
                  ),
                )
                .arraySync() as number,
          );
        const [, gw] = await gradsOn(
          backend,
          (a, b) =>
            tf.sum(
              tf.mul(
                tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'),
                tf.tensor(r.values, r.shape),
              ),
            ),
          [x, w],
        );
        for (const i of [0, 7, 20, 33, 53]) {
          const plus = w.values.slice();
          const minus = w.values.slice();
          plus[i] += 0.5;
          minus[i] -= 0.5;
          expect(gw[i]).toBeCloseTo(f(plus) - f(minus), 3);
        }
      });
    });

    describe('a small CNN follows the same loss curve on wasm as on cpu', () => {
      const optimizers: Array<[string, () => tf.Optimizer]> = [
        ['adam', () => tf.train.adam(0.01)],
        ['sgd momentum', () => tf.train.momentum(0.05, 0.9)],
      ];
      it.each(optimizers)('%s', async (_, optimizer) => {
        await tf.setBackend('cpu');
        const init = buildNet();
        const weights = await Promise.all(
          init
            .getWeights()
            .map(async (w) => ({ values: (await w.data()) as Float32Array, shape: w.shape })),
        );
        init.dispose();
        const cpu = await lossCurve('cpu', weights, optimizer, 6);
        const wasm = await lossCurve(backend, weights, optimizer, 6);
        expect(cpu[cpu.length - 1]).toBeLessThan(cpu[0]); // the net learns at all
        expect(relativeError(wasm, cpu)).toBeLessThan(1e-4);
      });
    });

    describe(`memory on ${backend}`, () => {
      it('tensors, bytes, backend data, the wasm heap and the addon’s buffers stay flat over 1000 training steps', async () => {
        await tf.setBackend(backend);
        const model = tinyNet();
        model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
        const x = tf.tensor(host([2, 6, 6, 2], 6).values, [2, 6, 6, 2]);
        const y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
        const kernels = tf.backend() as unknown as {
          numDataIds(): number;
          wasm?: { HEAPU8: Uint8Array };
        };
        const snapshot = () => ({
          ...tf.memory(),
          dataIds: kernels.numDataIds(),
          // Native memory too: XNNPACK operators created for fresh filters must be freed with them.
          heapBytes: kernels.wasm?.HEAPU8.length,
          native: engine === 'native' ? addon!.stats() : undefined,
        });
        // Step 1 creates the optimizer's slots; measure from step 10 on.
        for (let i = 0; i < 10; i++) await model.trainOnBatch(x, y);
        const before = snapshot();
        for (let i = 0; i < 1000; i++) await model.trainOnBatch(x, y);
        const after = snapshot();
        expect(after.numTensors).toBe(before.numTensors);
        expect(after.numBytes).toBe(before.numBytes);
        expect(after.dataIds).toBe(before.dataIds);
        expect(after.heapBytes).toBe(before.heapBytes);
        // The addon's own buffers (cached primitives' scratch) and primitive cache, when it runs.
        if (engine === 'native') {
          expect(after.native).toEqual(before.native);
          expect(before.native?.cacheEntries).toBeGreaterThan(0);
        }
        model.dispose();
        tf.dispose([x, y]);
      }, 60_000);
    });
  });
}
