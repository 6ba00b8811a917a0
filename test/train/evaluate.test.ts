/** Evaluation numbers, the logits view of a softmax model, and the DO vs folded difference. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/index.js';
import { buildModel } from '../../src/models/index.js';
import {
  crossEntropy,
  detectOutputKind,
  evaluate,
  evaluateFolded,
  logitsModel,
  maxAbsLogitDifference,
} from '../../src/train/index.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { foldModel } from '../../src/fold/foldModel.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function digits(count: number): Dataset {
  const images = Uint8Array.from({ length: count * 28 * 28 }, (_, i) => (i * 7919) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return {
    name: 'digits',
    images,
    labels,
    count,
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
  };
}

describe('evaluate', () => {
  it('accuracy and loss agree with a direct computation, whatever the batch size', () => {
    const model = buildModel('pt-mnist-sample', {
      conv: 'doconv',
      inputShape: [28, 28, 1],
      numClasses: 10,
      seed: 1,
    });
    randomizeModel(model, 3);
    const ds = digits(10);
    const a = evaluate(model, ds, { batchSize: 3 });
    const b = evaluate(model, ds, { batchSize: 10 });
    expect(a.count).toBe(10);
    expect(a.accuracy).toBe(b.accuracy);
    expect(a.loss).toBeCloseTo(b.loss, 5);
    const x = tf.tensor4d(
      Float32Array.from(ds.images, (p) => p / 255),
      [10, 28, 28, 1],
    );
    const y = tf.oneHot(tf.tensor1d(Array.from(ds.labels), 'int32'), 10);
    const out = model.predict(x) as tf.Tensor;
    const pred = (out.argMax(-1).dataSync() as Int32Array).map((p, i) =>
      p === ds.labels[i] ? 1 : 0,
    );
    expect(a.accuracy).toBeCloseTo(pred.reduce((s, v) => s + v, 0) / 10, 10);
    expect(a.loss).toBeCloseTo(crossEntropy(y, out, 'logits').dataSync()[0], 5);
    tf.dispose([x, y, out]);
    model.dispose();
  });
});

describe('logitsModel', () => {
  it('a softmax head becomes linear; softmax of its output is the original output', () => {
    const model = buildModel('tf-mnist-sample', {
      conv: 'doconv',
      inputShape: [28, 28, 1],
      numClasses: 10,
      seed: 2,
    });
    randomizeModel(model, 5);
    expect(detectOutputKind(model)).toBe('probabilities');
    const logits = logitsModel(model);
    expect(logits).not.toBe(model);
    expect(detectOutputKind(logits)).toBe('logits');
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 9);
    const p = model.predict(x) as tf.Tensor;
    const z = logits.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(tf.softmax(z), p))).dataSync()[0];
    expect(diff).toBeLessThan(1e-6);
    tf.dispose([x, p, z]);
    logits.dispose();
    model.dispose();
  });

  it('a logits model is returned as it is', () => {
    const model = buildModel('gluon-lenet', {
      conv: 'conv',
      inputShape: [28, 28, 1],
      numClasses: 10,
      seed: 1,
    });
    expect(logitsModel(model)).toBe(model);
    model.dispose();
  });
});

describe('maxAbsLogitDifference', () => {
  it('0 for a model against itself; float rounding only for a DO model with random D against its fold', () => {
    const model = buildModel('pt-mnist-sample', {
      conv: 'doconv',
      inputShape: [28, 28, 1],
      numClasses: 10,
      seed: 1,
    });
    randomizeModel(model, 11);
    const ds = digits(6);
    expect(maxAbsLogitDifference(model, model, ds)).toBe(0);
    const folded = foldModel(model, { fuseBatchNorm: true });
    const d = maxAbsLogitDifference(model, folded, ds);
    expect(d).toBeLessThan(1e-4);
    folded.dispose();
    model.dispose();
  });
});

describe('evaluateFolded', () => {
  for (const name of ['pt-mnist-sample', 'tf-mnist-sample']) {
    it(`${name}: the same numbers as evaluate(b) and maxAbsLogitDifference(a, b), in one pass`, () => {
      const build = (conv: 'conv' | 'doconv', seed: number) =>
        buildModel(name, { conv, inputShape: [28, 28, 1], numClasses: 10, seed });
      const model = build('doconv', 2);
      randomizeModel(model, 5);
      const folded = foldModel(model, { fuseBatchNorm: true });
      // Another net entirely, so the logits differ by more than rounding.
      const other = build('conv', 3);
      const ds = digits(7);
      const opts = { batchSize: 3 };
      for (const b of [folded, other]) {
        const got = evaluateFolded(model, b, ds, opts);
        const want = evaluate(b, ds, opts);
        expect(got.accuracy).toBe(want.accuracy);
        expect(got.loss).toBeCloseTo(want.loss, 6);
        expect(got.count).toBe(7);
        expect(got.maxAbsLogitDiff).toBe(maxAbsLogitDifference(model, b, ds, opts));
      }
      expect(evaluateFolded(model, folded, ds, opts).maxAbsLogitDiff).toBeLessThan(1e-4);
      expect(evaluateFolded(model, other, ds, opts).maxAbsLogitDiff).toBeGreaterThan(1e-3);
      for (const m of [folded, other, model]) m.dispose();
    });
  }
});
