/**
 * BatchNorm in training then ReLU / ReLU6 as one op (util/batchNormTrainingOp.ts:
 * BATCH_NORM_RELU_TRAINING, engine/native/nativeBatchNormRelu.ts): output, batch statistics and
 * the gradients of x, γ and β against TF.js's own ops on the cpu backend (tf.moments, tf.batchNorm,
 * tf.relu and the ReLU layer's clip), with values of y exactly at 0 and at the cap; and bit for bit
 * against the native engine's unfused BatchNorm op followed by its ReLU.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import {
  BATCH_NORM_RELU_GRAD_INPUT,
  BATCH_NORM_RELU_GRAD_SUMS,
  BATCH_NORM_RELU_TRAINING,
  BATCH_NORM_TRAINING,
} from '../../src/util/batchNormTrainingOp.js';
import {
  batchNormReluTrainingGradConfig,
  unfusedGradient,
} from '../../src/engine/native/nativeBatchNormRelu.js';
import { host, relativeError, type HostTensor } from './helpers.js';
import { describeNative, nativeEngineForThisFile, skipReason, NATIVE_HOST } from './nativeSetup.js';

nativeEngineForThisFile();

type Way = 'fused' | 'unfused op' | 'tf ops';

/** z = relu(BatchNorm(x)) (clipped at cap), its statistics, and ∂Σz·R/∂(x, γ, β), one way. */
function bnRelu(way: Way, cap: number, eps: number) {
  return (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor[] => {
    if (way === 'fused') {
      return tf
        .engine()
        .runKernel(
          BATCH_NORM_RELU_TRAINING,
          { x, scale, offset },
          { varianceEpsilon: eps, cap },
        ) as tf.Tensor[];
    }
    let y: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor;
    if (way === 'unfused op') {
      [y, mean, variance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAINING,
          { x, scale, offset },
          { varianceEpsilon: eps },
        ) as tf.Tensor[];
    } else {
      ({ mean, variance } = tf.moments(x, [...Array(x.rank - 1).keys()]));
      y = tf.batchNorm(x, mean, variance, offset, scale, eps);
    }
    // What TF.js's ReLU layer computes: relu, then the clip when it has a maxValue.
    const z = cap === Infinity ? tf.relu(y) : tf.clipByValue(tf.relu(y), 0, cap);
    return [z, mean, variance];
  };
}

interface Run {
  z: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  grads: Float32Array[];
}

async function run(
  backend: string,
  way: Way,
  cap: number,
  x: HostTensor,
  scale: HostTensor,
  offset: HostTensor,
): Promise<Run> {
  await tf.setBackend(backend);
  const eps = 1e-3;
  const inputs = [x, scale, offset].map((h) => tf.tensor(h.values, h.shape));
  const r = tf.tensor(host(x.shape, 31).values, x.shape);
  const f = bnRelu(way, cap, eps);
  const [z, mean, variance] = f(inputs[0], inputs[1], inputs[2]);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(f(a, b, c)[0], r)),
  )(inputs);
  const data = (t: tf.Tensor) => t.data() as Promise<Float32Array>;
  const out: Run = {
    z: await data(z),
    mean: await data(mean),
    variance: await data(variance),
    grads: await Promise.all(grads.map(data)),
  };
  tf.dispose([...inputs, r, z, mean, variance, ...grads]);
  await tf.setBackend(NATIVE_HOST);
  return out;
}

/**
 * x [..., C] away from mean 0 / variance 1, γ and β seeded, and two channels made to hit the
 * ReLU's corners exactly: channel 0 has γ = 0 and β = `tie` (y = tie everywhere: 0 for ReLU, the
 * cap for ReLU6); channel 1 holds −2, 0, 2 in turn with β = 0 (its mean is 0, so y = 0 wherever x = 0).
 */
function corners(shape: number[], tie: number): [HostTensor, HostTensor, HostTensor] {
  const c = shape[shape.length - 1];
  const x = host(shape, 40);
  x.values.forEach((v, i) => (x.values[i] = 3 * v + 1));
  const rows = x.values.length / c;
  for (let r = 0; r < rows - (rows % 3); r++) x.values[r * c + 1] = ((r % 3) - 1) * 2;
  for (let r = rows - (rows % 3); r < rows; r++) x.values[r * c + 1] = 0;
  const scale = host([c], 41);
  const offset = host([c], 42);
  scale.values[0] = 0;
  offset.values[0] = tie;
  offset.values[1] = 0;
  return [x, scale, offset];
}

describeNative(`BatchNorm then ReLU in training as one op${skipReason}`, () => {
  for (const [name, cap] of [
    ['relu', Infinity],
    ['relu6', 6],
  ] as const) {
    it.each([[[6, 5, 4, 3]], [[64, 8, 8, 16]], [[30, 7]], [[3, 7, 130]]])(
      `${name} on %j: z, statistics and gradients as TF.js's ops on cpu`,
      async (shape) => {
        const [x, scale, offset] = corners(shape, cap === Infinity ? 0 : cap);
        const ours = await run(NATIVE_HOST, 'fused', cap, x, scale, offset);
        const tfjs = await run('cpu', 'tf ops', cap, x, scale, offset);
        expect(relativeError(ours.z, tfjs.z)).toBeLessThan(2e-5);
        expect(relativeError(ours.mean, tfjs.mean)).toBeLessThan(1e-5);
        expect(relativeError(ours.variance, tfjs.variance)).toBeLessThan(2e-5);
        ours.grads.forEach((g, i) =>
          expect(relativeError(g, tfjs.grads[i]), `grad ${i}`).toBeLessThan(5e-5),
        );
        // The corners: dβ of channel 0 is Σ dy·R over masked rows — 0 where y sits at 0 (ReLU's
        // Step(0) = 0), all of them where y sits at the cap (the clip passes y ≤ cap).
        const dOffset0 = ours.grads[2][0];
        if (cap === Infinity) expect(dOffset0).toBe(0);
        else expect(Math.abs(dOffset0 - tfjs.grads[2][0])).toBeLessThan(1e-4 * Math.abs(dOffset0));
        expect(Math.abs(dOffset0) > 0).toBe(cap !== Infinity);
      },
    );
  }

  it.each([
    ['relu', Infinity],
    ['relu6', 6],
  ])('%s: bit for bit the native BatchNorm op followed by the ReLU kernels', async (_, cap) => {
    const [x, scale, offset] = corners([32, 6, 6, 8], cap === Infinity ? 0 : cap);
    const fused = await run(NATIVE_HOST, 'fused', cap, x, scale, offset);
    const unfused = await run(NATIVE_HOST, 'unfused op', cap, x, scale, offset);
    expect(fused.z).toEqual(unfused.z);
    fused.grads.forEach((g, i) => expect(g, `grad ${i}`).toEqual(unfused.grads[i]));
  });

  it.each([
    ['relu', Infinity],
    ['relu6', 6],
  ])(
    '%s: the gradient a stale addon falls back to equals the fused one bit for bit',
    async (_, cap) => {
      const [xh, scaleh, offseth] = corners([16, 5, 5, 8], cap === Infinity ? 0 : cap);
      const t = (h: HostTensor) => tf.tensor(h.values, h.shape);
      const [x, scale, offset, dy] = [xh, scaleh, offseth, host(xh.shape, 50)].map(t);
      const attrs = { varianceEpsilon: 1e-3, cap };
      const [, mean, variance] = tf
        .engine()
        .runKernel(BATCH_NORM_RELU_TRAINING, { x, scale, offset }, attrs) as tf.Tensor[];
      const dStats = [t(host([8], 51)), t(host([8], 52))];
      const dys = [dy, ...dStats];
      const saved = [x, scale, offset, mean, variance];
      const fusedGrads = batchNormReluTrainingGradConfig.gradFunc(dys, saved, attrs);
      const unfusedGrads = unfusedGradient(dys, saved, attrs);
      for (const name of ['x', 'scale', 'offset']) {
        const [a, b] = [fusedGrads[name](), unfusedGrads[name]()];
        expect(await a.data(), name).toEqual(await b.data());
        tf.dispose([a, b]);
      }
      tf.dispose([...saved, ...dys]);
    },
  );

  it('errors name the kernel, the argument and its value; nothing leaks', () => {
    const x = tf.zeros([2, 3, 4]);
    const c4 = tf.zeros([4]);
    const c3 = tf.zeros([3]);
    const before = tf.memory().numTensors;
    const fused = (inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) => () =>
      tf.engine().runKernel(BATCH_NORM_RELU_TRAINING, inputs, attrs);
    expect(fused({ x, scale: c3, offset: c4 }, { varianceEpsilon: 1e-3, cap: 6 })).toThrow(
      /doconv native DoconvBatchNormReluTraining: .*got x float32 \[2,3,4\], scale float32 \[3\], offset float32 \[4\]/,
    );
    expect(fused({ x, scale: c4, offset: c4 }, { varianceEpsilon: 1e-3, cap: 0 })).toThrow(
      /DoconvBatchNormReluTraining: cap must be a number > 0 .*got 0/,
    );
    expect(fused({ x, scale: c4, offset: c4 }, { varianceEpsilon: -1, cap: 6 })).toThrow(
      /DoconvBatchNormReluTraining: varianceEpsilon must be a number ≥ 0, got -1/,
    );
    const attrs = { varianceEpsilon: 1e-3, cap: Infinity };
    const perChannel = { mean: c4, variance: c4, scale: c4, offset: c4 };
    expect(() =>
      tf.engine().runKernel(BATCH_NORM_RELU_GRAD_SUMS, { dy: c4, x, ...perChannel }, attrs),
    ).toThrow(
      /DoconvBatchNormReluGradSums: dy must be float32 of x's shape \[2,3,4\], got float32 \[4\]/,
    );
    expect(() =>
      tf
        .engine()
        .runKernel(
          BATCH_NORM_RELU_GRAD_INPUT,
          { dy: x, x, ...perChannel, sumDy: c4, sumDyXc: c4, dMean: c4, dVariance: c3 },
          attrs,
        ),
    ).toThrow(/DoconvBatchNormReluGradInput: .*dVariance float32 \[3\]/);
    expect(tf.memory().numTensors).toBe(before);
    const scale = tf.ones([4]);
    tf.dispose(fused({ x, scale, offset: c4 }, attrs)() as tf.Tensor[]);
    for (let i = 0; i < 3; i++) {
      tf.dispose(
        tf.grads((a: tf.Tensor, s: tf.Tensor) => tf.sum(bnRelu('fused', 6, 1e-3)(a, s, c4)[0]))([
          x,
          scale,
        ]),
      );
    }
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, c4, c3, scale]);
  });
});
