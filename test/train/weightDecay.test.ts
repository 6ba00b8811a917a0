/**
 * Weight decay applies where documented: λ·w is added to the gradient of kernels (W, dense kernels) and
 * of D unless decayD is false; never to biases or BatchNorm parameters.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/index.js';
import { createOptimizer, decayMask, trainEpoch, type LoopConfig } from '../../src/train/index.js';
import { shortWeightName } from '../../src/layers/weightNames.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { tinyModel } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shape: [number, number, number] = [9, 9, 1];

function tinyData(count: number): Dataset {
  const images = Uint8Array.from({ length: count * 81 }, (_, i) => (i * 37) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { name: 'tiny', images, labels, count, height: 9, width: 9, channels: 1, numClasses: 3 };
}

function build(): tf.LayersModel {
  const model = tinyModel({ conv: 'doconv', inputShape: shape, numClasses: 3, seed: 1 });
  randomizeModel(model, 7); // D ≠ 0, so decaying it shows
  return model;
}

describe('decayMask', () => {
  it('kernels and D decay; biases and BatchNorm gamma/beta do not', () => {
    const model = build();
    const names = model.trainableWeights.map(shortWeightName);
    expect(names).toEqual([
      'kernel',
      'D',
      'gamma',
      'beta',
      'kernel',
      'D',
      'bias',
      'kernel',
      'bias',
    ]);
    expect(decayMask(model)).toEqual([true, true, false, false, true, true, false, true, false]);
    expect(decayMask(model, { decayD: false })).toEqual([
      true,
      false,
      false,
      false,
      true,
      false,
      false,
      true,
      false,
    ]);
    model.dispose();
  });
});

describe('weight decay in a training step', () => {
  const lr = 0.1;
  const lambda = 0.05;

  /** Weights by short name after one SGD step (no momentum) from identical starts. */
  async function stepOnce(weightDecay: number, decayD: boolean) {
    const model = build();
    const before = model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    const config: LoopConfig = {
      epochs: 1,
      batchSize: 4,
      evalBatchSize: 4,
      seed: 1,
      learningRate: lr,
      schedule: { kind: 'constant' },
      scheduleUnit: 'epoch',
      weightDecay,
      decayD,
      augment: false,
      outputKind: 'logits',
    };
    const opt = createOptimizer({ kind: 'sgd', learningRate: lr, momentum: 0 });
    await trainEpoch(model, opt, tinyData(4), 0, config);
    const after = model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    const names = model.trainableWeights.map(shortWeightName);
    opt.dispose();
    model.dispose();
    return { before, after, names };
  }

  for (const decayD of [true, false]) {
    it(`decayD=${decayD}: w(λ) − w(0) = −lr·λ·w₀ exactly on the decayed weights`, async () => {
      const plain = await stepOnce(0, decayD);
      const decayed = await stepOnce(lambda, decayD);
      plain.names.forEach((name, i) => {
        const expectDecay = name === 'kernel' || (decayD && name === 'D');
        decayed.after[i].forEach((v, k) => {
          const delta = v - plain.after[i][k];
          const want = expectDecay ? -lr * lambda * plain.before[i][k] : 0;
          expect(Math.abs(delta - want), `${name}[${k}]`).toBeLessThan(1e-6);
        });
        if (expectDecay) expect(decayed.after[i]).not.toEqual(plain.after[i]);
        else expect(decayed.after[i]).toEqual(plain.after[i]);
      });
    });
  }
});
