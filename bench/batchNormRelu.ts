/**
 * The BatchNorm+ReLU op (DoconvBatchNormReluTraining) against the ops it replaces — the BatchNorm
 * op, Relu, and backward ReluGrad, BatchNorm's sums and dx — pass by pass, on the shapes the zoo's
 * nets give it. Each round times every variant (20 calls); the median of the rounds is printed, one
 * JSON line per shape (ms a call).
 *
 *   DOCONV_NATIVE_THREADS=1 npx tsx bench/batchNormRelu.ts [--rounds 5] [--calls 20]
 * Not a test: never asserts.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { useBestBackend } from '../src/engine/useBestBackend.js';
import { BATCH_NORM_GRAD_SUMS, RELU_GRAD } from '../src/engine/fusedGradientOps.js';
import {
  BATCH_NORM_RELU_GRAD_INPUT,
  BATCH_NORM_RELU_GRAD_SUMS,
  BATCH_NORM_RELU_TRAINING,
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD_INPUT,
} from '../src/util/batchNormTrainingOp.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '20' } },
});
const rounds = Number(values.rounds);
const calls = Number(values.calls);
const selection = await useBestBackend();
console.error(`backend ${selection.backend}`);

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) =>
  tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];

/** ms a call of `f` (its outputs disposed), after one warm-up call. */
function msPerCall(f: () => tf.Tensor | tf.Tensor[]): number {
  tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) tf.dispose(f());
  return (performance.now() - t0) / calls;
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

for (const shape of [
  [128, 32, 32, 16],
  [128, 16, 16, 32],
  [64, 16, 16, 64],
  [64, 4, 4, 512],
]) {
  const c = shape[3];
  const [x, dy] = [tf.randomNormal(shape), tf.randomNormal(shape)];
  const [scale, offset, zeros] = [tf.randomNormal([c]), tf.randomNormal([c]), tf.zeros([c])];
  const eps = { varianceEpsilon: 1e-5 };
  const relu = { varianceEpsilon: 1e-5, cap: Infinity };
  const [, mean, variance] = run(BATCH_NORM_TRAINING, { x, scale, offset }, eps) as tf.Tensor[];
  const perChannel = { mean, variance, scale, offset };
  const sums = { sumDy: scale, sumDyXc: offset, dMean: zeros, dVariance: zeros };
  const variants: Record<string, () => tf.Tensor | tf.Tensor[]> = {
    forwardFused: () => run(BATCH_NORM_RELU_TRAINING, { x, scale, offset }, relu),
    forwardUnfused: () =>
      tf.tidy(() => {
        const [y, m, v] = run(BATCH_NORM_TRAINING, { x, scale, offset }, eps) as tf.Tensor[];
        return [tf.relu(y), m, v];
      }),
    sumsFused: () => run(BATCH_NORM_RELU_GRAD_SUMS, { dy, x, ...perChannel }, relu),
    sumsUnfused: () =>
      tf.tidy(() => {
        const masked = run(RELU_GRAD, { dy, x }, {}) as tf.Tensor;
        return run(BATCH_NORM_GRAD_SUMS, { dy: masked, x, mean }, {});
      }),
    dxFused: () => run(BATCH_NORM_RELU_GRAD_INPUT, { dy, x, ...perChannel, ...sums }, relu),
    dxUnfused: () =>
      run(BATCH_NORM_TRAINING_GRAD_INPUT, { dy, x, mean, variance, scale, ...sums }, eps),
  };
  const times: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of Object.entries(variants)) (times[name] ??= []).push(msPerCall(f));
  }
  const ms = Object.fromEntries(
    Object.entries(times).map(([k, v]) => [k, Number(median(v).toFixed(3))]),
  );
  console.log(JSON.stringify({ shape, msPerCall: ms }));
  tf.dispose([x, dy, scale, offset, zeros, mean, variance]);
}
