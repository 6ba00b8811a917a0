/**
 * Softmax cross-entropy as one op (util/softmaxCrossEntropyOp.ts, engine/native/
 * nativeSoftmaxCrossEntropy.ts) and the trainer's losses that run it (train/losses.ts): per-row
 * losses and gradients against a plain-loop reference in double, and the trainer's losses against
 * TF.js's own ops on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { crossEntropy, pixelCrossEntropy, rowCrossEntropy } from '../../src/train/losses.js';
import { SOFTMAX_CROSS_ENTROPY } from '../../src/util/softmaxCrossEntropyOp.js';
import { host, relativeError } from './helpers.js';
import { describeNative, nativeEngineForThisFile, skipReason, NATIVE_HOST } from './nativeSetup.js';

nativeEngineForThisFile();

/** Per-row loss and dLoss/dLogits of Σ_r w_r · loss_r, in double, by the definition. */
function reference(labels: Float32Array, logits: Float32Array, w: Float32Array, classes: number) {
  const rows = logits.length / classes;
  const loss = new Float64Array(rows);
  const grad = new Float64Array(logits.length);
  for (let r = 0; r < rows; r++) {
    const x = Array.from(logits.subarray(r * classes, (r + 1) * classes));
    const l = Array.from(labels.subarray(r * classes, (r + 1) * classes));
    const m = Math.max(...x);
    const sum = x.reduce((s, v) => s + Math.exp(v - m), 0);
    const lse = m + Math.log(sum);
    const labelSum = l.reduce((s, v) => s + v, 0);
    loss[r] = l.reduce((s, v, j) => s + v * (lse - x[j]), 0);
    x.forEach((v, j) => (grad[r * classes + j] = w[r] * (Math.exp(v - lse) * labelSum - l[j])));
  }
  return { loss, grad };
}

/** The op's loss and the gradient of Σ w · loss with respect to the logits, on NATIVE_HOST. */
async function runOp(labels: Float32Array, logits: Float32Array, w: Float32Array, shape: number[]) {
  const l = tf.tensor(labels, shape);
  const x = tf.tensor(logits, shape);
  const weights = tf.tensor(w, shape.slice(0, -1));
  const f = (xi: tf.Tensor) => tf.sum(tf.mul(rowCrossEntropy(l, xi), weights));
  let kernels: string[] = [];
  const { value, grad } = tf.valueAndGrad(f)(x);
  const profiled = await tf.profile(() => rowCrossEntropy(l, x));
  kernels = profiled.kernelNames;
  const loss = rowCrossEntropy(l, x);
  const out = {
    loss: (await loss.data()) as Float32Array,
    grad: (await grad.data()) as Float32Array,
    value: (await value.data())[0],
    kernels,
  };
  tf.dispose([l, x, weights, value, grad, loss, profiled.result as tf.Tensor]);
  return out;
}

function labelsOf(kind: 'one-hot' | 'soft' | 'ignored', rows: number, classes: number) {
  const v = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    if (kind === 'one-hot' || (kind === 'ignored' && r % 3 !== 0))
      v[r * classes + (r % classes)] = 1;
    if (kind === 'soft') for (let j = 0; j < classes; j++) v[r * classes + j] = ((r + j) % 4) / 3;
  }
  return v;
}

describeNative(`softmax cross-entropy as one op${skipReason}`, () => {
  it.each([
    ['one-hot', [6, 10]],
    ['soft', [6, 10]], // row sums other than 1: TF.js's op assumes 1, the gradient here does not
    ['ignored', [2, 5, 5, 11]], // every third pixel's row all zeros (segmentation's ignore label)
    ['one-hot', [32, 64, 64, 11]], // deeplab-mini's per-pixel loss, past the threaded loops
  ] as const)('%s labels on %j: loss and gradient as the definition', async (kind, shape) => {
    const classes = shape[shape.length - 1];
    const rows = shape.reduce((a, b) => a * b, 1) / classes;
    const logits = host([...shape], 1).values.map((v) => 4 * v);
    const labels = labelsOf(kind, rows, classes);
    const w = host([rows], 2).values;
    const got = await runOp(labels, logits, w, [...shape]);
    expect(got.kernels).toEqual([SOFTMAX_CROSS_ENTROPY]);
    const want = reference(labels, logits, w, classes);
    expect(relativeError(got.loss, Float32Array.from(want.loss))).toBeLessThan(1e-6);
    expect(relativeError(got.grad, Float32Array.from(want.grad))).toBeLessThan(1e-6);
  });

  it('stays finite for logits of ±1e4, and a NaN logit makes its row NaN', async () => {
    const logits = new Float32Array([1e4, -1e4, 0, 5, -3e3, 1e4, NaN, 1, 2]);
    const labels = new Float32Array([0, 1, 0, 1, 0, 0, 0, 0, 1]);
    const got = await runOp(labels, logits, new Float32Array([1, 1, 1]), [3, 3]);
    expect(got.loss[0]).toBeCloseTo(2e4, 0);
    expect(got.loss[1]).toBeCloseTo(1e4 - 5, 0);
    expect(Number.isNaN(got.loss[2])).toBe(true);
    expect(Array.from(got.grad.subarray(0, 6)).every(Number.isFinite)).toBe(true);
  });

  it('the trainer’s losses give what TF.js’s ops give on cpu, with their gradients', async () => {
    const logits = host([4, 3, 3, 5], 3).values.map((v) => 3 * v);
    const intLabels = Int32Array.from({ length: 36 }, (_, i) => (i * 7) % 6); // 5 is ignored (≥ K)
    const oneHot = labelsOf('one-hot', 36, 5);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.tensor(logits, [4, 3, 3, 5]);
      const labels = tf.tensor(intLabels, [4, 3, 3], 'int32');
      const ys = tf.tensor(oneHot, [36, 5]);
      const seg = tf.valueAndGrad((xi: tf.Tensor) => pixelCrossEntropy(labels, xi))(x);
      const cls = tf.valueAndGrad((xi: tf.Tensor) => crossEntropy(ys, xi, 'logits'))(
        tf.reshape(x, [36, 5]),
      );
      const out = await Promise.all(
        [seg.value, seg.grad, cls.value, cls.grad].map((t) => t.data() as Promise<Float32Array>),
      );
      tf.dispose([x, labels, ys, seg.value, seg.grad, cls.value, cls.grad]);
      return out;
    };
    const native = await run(NATIVE_HOST);
    const cpu = await run('cpu');
    await tf.setBackend(NATIVE_HOST);
    native.forEach((v, i) => expect(relativeError(v, cpu[i]), `output ${i}`).toBeLessThan(1e-5));
  });

  it('leaks no tensor over repeated training steps', async () => {
    const x = tf.tensor(host([8, 10], 4).values, [8, 10]);
    const ys = tf.tensor(labelsOf('one-hot', 8, 10), [8, 10]);
    const step = () => {
      const { value, grad } = tf.valueAndGrad((xi: tf.Tensor) => crossEntropy(ys, xi, 'logits'))(x);
      tf.dispose([value, grad]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ys]);
  });

  it('names the kernel and the shapes when labels and logits disagree', () => {
    const labels = tf.zeros([4, 5]);
    const logits = tf.zeros([4, 6]);
    expect(() => tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { labels, logits })).toThrow(
      /DoconvSoftmaxCrossEntropy: labels, logits must be float32 of one shape .* got labels float32 \[4,5\], logits float32 \[4,6\]/,
    );
    tf.dispose([labels, logits]);
  });
});
