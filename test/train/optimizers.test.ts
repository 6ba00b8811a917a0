/**
 * SGD (PyTorch form) and Adam (Keras form) against the update rules computed by hand in float64, and
 * getWeights → setWeights continuing exactly where an uninterrupted optimizer would.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { createRng } from '../../src/data/prng.js';
import {
  ADAM_STEP,
  fusedOptimizerStep,
  SGD_STEP,
} from '../../src/engine/kernels/optimizerSteps.js';
import { Adam, SGD, type ScheduledOptimizer } from '../../src/train/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const w0 = [0.5, -1.25, 2];
const gradsAt = (k: number) => [0.1 * (k + 1), -0.3, 0.05 * k - 0.2];

/** Runs `steps` updates with the fixed gradient sequence; lr changes per step to exercise schedules. */
function run(opt: ScheduledOptimizer, v: tf.Variable, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    opt.learningRate = 0.1 / (k + 1);
    const g = tf.tensor1d(gradsAt(k));
    opt.applyGradients([{ name: v.name, tensor: g }]);
    g.dispose();
  }
}

describe('SGD', () => {
  for (const momentum of [0, 0.9]) {
    it(`momentum=${momentum}: v ← μv + g; w ← w − lr·v`, () => {
      const v = tf.variable(tf.tensor1d(w0));
      const opt = new SGD({ learningRate: 0.1, momentum });
      run(opt, v, 0, 4);
      const w = [...w0];
      const vel = [0, 0, 0];
      for (let k = 0; k < 4; k++) {
        const lr = 0.1 / (k + 1);
        gradsAt(k).forEach((g, i) => {
          vel[i] = momentum * vel[i] + g;
          w[i] -= lr * vel[i];
        });
      }
      const got = Array.from(v.dataSync());
      got.forEach((x, i) => expect(x).toBeCloseTo(w[i], 5));
      opt.dispose();
      v.dispose();
    });
  }

  it('rejects momentum ≥ 1 naming the value', () => {
    expect(() => new SGD({ learningRate: 0.1, momentum: 1 })).toThrow(
      /momentum must be in \[0, 1\), got 1/,
    );
  });
});

describe('Adam', () => {
  it('matches the Keras update with float64 bias correction', () => {
    const v = tf.variable(tf.tensor1d(w0));
    const opt = new Adam({ learningRate: 0.1 });
    run(opt, v, 0, 5);
    const [b1, b2, eps] = [0.9, 0.999, 1e-7];
    const w = [...w0];
    const m = [0, 0, 0];
    const s = [0, 0, 0];
    for (let k = 0; k < 5; k++) {
      const t = k + 1;
      const alpha = ((0.1 / (k + 1)) * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      gradsAt(k).forEach((g, i) => {
        m[i] = b1 * m[i] + (1 - b1) * g;
        s[i] = b2 * s[i] + (1 - b2) * g * g;
        w[i] -= (alpha * m[i]) / (Math.sqrt(s[i]) + eps);
      });
    }
    Array.from(v.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(w[i], 5));
    expect(opt.iterations).toBe(5);
    opt.dispose();
    v.dispose();
  });
});

describe('getWeights / setWeights', () => {
  const makers: Array<[string, () => ScheduledOptimizer]> = [
    ['SGD momentum', () => new SGD({ learningRate: 0.1, momentum: 0.9 })],
    ['SGD plain', () => new SGD({ learningRate: 0.1 })],
    ['Adam', () => new Adam({ learningRate: 0.1 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: a restored optimizer continues bit-identically`, async () => {
      const straight = tf.variable(tf.tensor1d(w0));
      const a = make();
      run(a, straight, 0, 6);

      const first = tf.variable(tf.tensor1d(w0));
      const b = make();
      run(b, first, 0, 3);
      const saved = await b.getWeights();
      // A model reloaded from a checkpoint gets new variables (new names): slots follow by position.
      const resumed = tf.variable(first.clone());
      const c = make();
      await c.setWeights(saved.map((s) => ({ name: s.name, tensor: s.tensor.clone() })));
      expect(c.iterations).toBe(3);
      run(c, resumed, 3, 6);

      expect(Array.from(resumed.dataSync())).toEqual(Array.from(straight.dataSync()));
      for (const o of [a, b, c]) o.dispose();
      tf.dispose([straight, first, resumed]);
    });
  }

  it('setWeights rejects a slot count that does not fit the optimizer', async () => {
    const opt = new Adam({ learningRate: 0.1 });
    const iter = { name: 'iter', tensor: tf.scalar(1, 'int32') };
    const one = { name: 'x/m', tensor: tf.zeros([2]) };
    await expect(opt.setWeights([iter, one])).rejects.toThrow(
      /got 1 slot tensors, expected a multiple of 2/,
    );
  });
});

describe('fused updates on wasm (one kernel per variable)', () => {
  const makers: Array<[string, () => ScheduledOptimizer, string]> = [
    ['SGD momentum', () => new SGD({ learningRate: 0.1, momentum: 0.9 }), SGD_STEP],
    ['SGD plain', () => new SGD({ learningRate: 0.1 }), SGD_STEP],
    ['Adam', () => new Adam({ learningRate: 0.1 }), ADAM_STEP],
  ];
  /** Values over many magnitudes (and signs), so rounding differences would show. */
  const values = (n: number, seed: number) => {
    const rng = createRng(seed);
    return Float32Array.from({ length: n }, () => (rng() - 0.5) * 10 ** Math.floor(rng() * 8 - 4));
  };

  /** 4 steps from the same start on `backend`; returns the final weights and the kernels run. */
  async function steps(backend: string, make: () => ScheduledOptimizer) {
    await tf.setBackend(backend);
    const v = tf.variable(tf.tensor2d(values(999, 1), [27, 37]));
    const opt = make();
    const kernels: string[] = [];
    for (let k = 0; k < 4; k++) {
      opt.learningRate = 0.1 / (k + 1);
      const g = tf.tensor2d(values(999, 10 + k), [27, 37]);
      const info = await tf.profile(() => opt.applyGradients([{ name: v.name, tensor: g }]));
      kernels.push(...info.kernels.map((x) => x.name));
      g.dispose();
    }
    const w = Array.from(await v.data());
    opt.dispose();
    v.dispose();
    return { w, kernels };
  }

  for (const [name, make, kernel] of makers) {
    it(`${name}: the same bits as the op sequence on cpu`, async () => {
      const onCpu = await steps('cpu', make);
      const onWasm = await steps('wasm', make);
      expect(onCpu.kernels).not.toContain(kernel);
      // ZerosLike: the slots, made on the first step
      expect(new Set(onWasm.kernels.filter((k) => k !== 'ZerosLike'))).toEqual(new Set([kernel]));
      expect(onWasm.w).toEqual(onCpu.w);
      await tf.setBackend('cpu');
    });
  }

  it('names mismatched inputs', async () => {
    await tf.setBackend('wasm');
    const [a, b] = [tf.zeros([2, 3]), tf.zeros([3, 2])];
    expect(() =>
      fusedOptimizerStep(
        ADAM_STEP,
        { value: a, gradient: b, m: a, v: a },
        {
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-7,
          stepSize: 0.1,
        },
      ),
    ).toThrow('DoconvAdamStep: gradient has shape [3,2], value has [2,3]');
    tf.dispose([a, b]);
    await tf.setBackend('cpu');
  });
});
