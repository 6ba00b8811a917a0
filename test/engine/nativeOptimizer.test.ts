/**
 * The native engine's optimizer update (every variable in one addon call, slots in place) against
 * the TF.js op sequence on cpu, bit for bit, over variables small and large (threaded); that it
 * never writes into a buffer another tensor shares; that kernels keeping weights packed per tensor
 * (wasm's XNNPACK matmul) see the new weights; no leaks; bad calls named.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { createRng } from '../../src/data/prng.js';
import { ADAM_STEP, SGD_STEP } from '../../src/engine/kernels/optimizerSteps.js';
import { Adam, SGD, type ScheduledOptimizer } from '../../src/train/index.js';
import {
  addon,
  describeNative,
  nativeEngineForThisFile,
  skipReason,
  NATIVE_HOST,
} from './nativeSetup.js';

nativeEngineForThisFile();

const makers: Array<[string, () => ScheduledOptimizer]> = [
  ['SGD momentum', () => new SGD({ learningRate: 0.1, momentum: 0.9 })],
  ['SGD plain', () => new SGD({ learningRate: 0.1 })],
  ['Adam', () => new Adam({ learningRate: 0.1 })],
];
/** Values over many magnitudes (and signs), so rounding differences would show. */
const values = (n: number, seed: number) => {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng() - 0.5) * 10 ** Math.floor(rng() * 8 - 4));
};
// a bias-sized one, one below and one above the size the addon splits over threads (2^15)
const sizes = [7, 999, 40_000];

/** 4 steps of every variable from the same start on `backend`; final weights and kernels run. */
async function steps(backend: string, make: () => ScheduledOptimizer) {
  await tf.setBackend(backend);
  const vars = sizes.map((n, i) => tf.variable(tf.tensor1d(values(n, 1 + i))));
  const opt = make();
  const kernels: string[] = [];
  for (let k = 0; k < 4; k++) {
    opt.learningRate = 0.1 / (k + 1);
    const grads = vars.map((v, i) => ({
      name: v.name,
      tensor: tf.tensor1d(values(v.size, 10 * k + i)),
    }));
    const info = await tf.profile(() => opt.applyGradients(grads));
    kernels.push(...info.kernels.map((x) => x.name));
    tf.dispose(grads.map((g) => g.tensor));
  }
  const w = await Promise.all(vars.map(async (v) => Array.from(await v.data())));
  opt.dispose();
  tf.dispose(vars);
  await tf.setBackend(NATIVE_HOST);
  return { w, kernels };
}

describeNative(`native optimizer update, in place${skipReason}`, () => {
  for (const [name, make] of makers) {
    it(`${name}: the same bits as the op sequence on cpu, no kernel after the first step`, async () => {
      const onCpu = await steps('cpu', make);
      const native = await steps(NATIVE_HOST, make);
      expect(native.w).toEqual(onCpu.w);
      // The first step's slots share their buffers with the zeros they came from: that step goes
      // through the per-variable kernel; from then on nothing but the addon call.
      const kernel = name === 'Adam' ? ADAM_STEP : SGD_STEP;
      const perStep = native.kernels.filter((k) => k === kernel).length;
      expect(perStep).toBeLessThanOrEqual(sizes.length);
    });
  }

  it('never writes into a buffer a clone shares: a clone of a slot sends that variable to the kernel', async () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const opt = new SGD({ learningRate: 0.5, momentum: 0.5 });
    const g = tf.tensor1d([1, 1, 1]);
    opt.applyGradients([{ name: v.name, tensor: g }]);
    const valueBefore = tf.clone(v);
    const [, slot] = await opt.getWeights(); // [iterations, the velocity]
    const velocityBefore = tf.clone(slot.tensor); // shares the velocity's buffer (refcounted)
    const { kernelNames } = await tf.profile(() =>
      opt.applyGradients([{ name: v.name, tensor: g }]),
    );
    expect(kernelNames).toContain(SGD_STEP);
    expect(Array.from(await velocityBefore.data())).toEqual([1, 1, 1]);
    expect(Array.from(await valueBefore.data())).toEqual([0.5, 1.5, 2.5]);
    // v ← 0.5·1 + 1 = 1.5; w ← w − 0.5·1.5
    expect(Array.from(await v.data())).toEqual([-0.25, 0.75, 1.75]);
    // alone again: the one-call update, no kernel
    velocityBefore.dispose();
    const again = await tf.profile(() => opt.applyGradients([{ name: v.name, tensor: g }]));
    expect(again.kernelNames).toEqual([]);
    expect(Array.from(await valueBefore.data())).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(await v.data())).toEqual([-1.125, -0.125, 0.875]); // v 1.75
    tf.dispose([v, g, valueBefore]);
    opt.dispose();
  });

  // On doconv-native a weight nothing else holds is updated in its own buffer (from the second
  // step: the first one's initial values are not the backend's own buffers); on wasm never.
  const inPlace = NATIVE_HOST === 'doconv-native';

  /** `count` steps of `v` with gradient `g`, each through applyGradients. */
  const applySteps = (opt: ScheduledOptimizer, v: tf.Variable, g: tf.Tensor, count: number) => {
    for (let k = 0; k < count; k++) opt.applyGradients([{ name: v.name, tensor: g }]);
  };

  it(`updates a weight nothing else holds ${inPlace ? 'in place' : 'into a fresh buffer'}, the same bits as cpu`, async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const v = tf.variable(tf.tensor1d(values(999, 5)));
      const g = tf.tensor1d(values(999, 6));
      const opt = new Adam({ learningRate: 0.1 });
      applySteps(opt, v, g, 2);
      const id = v.dataId;
      applySteps(opt, v, g, 3);
      const out = { same: v.dataId === id, w: Array.from(await v.data()) };
      tf.dispose([v, g]);
      opt.dispose();
      await tf.setBackend(NATIVE_HOST);
      return out;
    };
    const cpu = await run('cpu');
    const native = await run(NATIVE_HOST);
    expect(native.same).toBe(inPlace);
    expect(native.w).toEqual(cpu.w);
  });

  it('never writes into an array a caller read out, nor into a snapshot taken before the step', async () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const g = tf.tensor1d([1, 1, 1]);
    const opt = new SGD({ learningRate: 0.5 });
    applySteps(opt, v, g, 2); // from here on the weight's buffer is the backend's own: [0, 1, 2]
    const readOut = v.dataSync(); // on doconv-native the tensor's own array
    applySteps(opt, v, g, 1);
    expect(Array.from(readOut)).toEqual([0, 1, 2]);
    const snapshot = tf.clone(v); // shares v's buffer until the step
    const reshaped = v.reshape([3, 1]); // so does a reshape
    applySteps(opt, v, g, 1);
    expect(Array.from(await snapshot.data())).toEqual([-0.5, 0.5, 1.5]);
    expect(Array.from(await reshaped.data())).toEqual([-0.5, 0.5, 1.5]);
    expect(Array.from(await v.data())).toEqual([-1, 0, 1]);
    tf.dispose([v, g, snapshot, reshaped]);
    opt.dispose();
  });

  it("never writes into a user's array a weight was made from", () => {
    const users = Float32Array.of(1, 2, 3);
    const made = tf.tensor1d(users); // holds `users` itself (TF.js does not copy a Float32Array)
    const v = tf.variable(made);
    made.dispose(); // the variable alone holds it now
    const g = tf.tensor1d([1, 1, 1]);
    const opt = new SGD({ learningRate: 0.5 });
    applySteps(opt, v, g, 1);
    expect(Array.from(users)).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([0.5, 1.5, 2.5]);
    tf.dispose([v, g]);
    opt.dispose();
  });

  it('a variable listed twice is updated twice in list order, as on cpu', async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const v = tf.variable(tf.tensor1d(values(40, 7)));
      const other = tf.variable(tf.tensor1d(values(7, 8)));
      const g = [
        tf.tensor1d(values(40, 9)),
        tf.tensor1d(values(7, 10)),
        tf.tensor1d(values(40, 11)),
      ];
      const opt = new Adam({ learningRate: 0.1 });
      for (let k = 0; k < 3; k++) {
        opt.applyGradients([
          { name: v.name, tensor: g[0] },
          { name: other.name, tensor: g[1] },
          { name: v.name, tensor: g[2] },
        ]);
      }
      const w = [Array.from(await v.data()), Array.from(await other.data())];
      tf.dispose([v, other, ...g]);
      opt.dispose();
      await tf.setBackend(NATIVE_HOST);
      return w;
    };
    expect(await run(NATIVE_HOST)).toEqual(await run('cpu'));
  });

  it('a dense layer (wasm XNNPACK matmul, weights packed per tensor) trains as on cpu', async () => {
    const lossesOn = async (backend: string) => {
      await tf.setBackend(backend);
      const model = tf.sequential({
        layers: [tf.layers.dense({ units: 3, inputShape: [5], kernelInitializer: 'ones' })],
      });
      model.compile({ optimizer: new Adam({ learningRate: 0.05 }), loss: 'meanSquaredError' });
      const x = tf.tensor2d(values(20, 3), [4, 5]);
      const y = tf.tensor2d(values(12, 4), [4, 3]);
      const losses: number[] = [];
      for (let k = 0; k < 12; k++) losses.push((await model.trainOnBatch(x, y)) as number);
      tf.dispose([x, y]);
      model.dispose();
      await tf.setBackend(NATIVE_HOST);
      return losses;
    };
    const cpu = await lossesOn('cpu');
    const native = await lossesOn(NATIVE_HOST);
    native.forEach((l, k) => expect(Math.abs(l - cpu[k])).toBeLessThan(1e-5 * Math.max(1, cpu[k])));
  });

  it('leaks nothing over steps', () => {
    const vars = sizes.map((n, i) => tf.variable(tf.tensor1d(values(n, 1 + i))));
    const grads = vars.map((v, i) => ({ name: v.name, tensor: tf.tensor1d(values(v.size, i)) }));
    const opt = new Adam({ learningRate: 1e-3 });
    opt.applyGradients(grads);
    const before = tf.memory();
    for (let k = 0; k < 10; k++) opt.applyGradients(grads);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    opt.dispose();
    tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
  });

  it('names a bad call: operand counts, a region outside the heap, an unknown kind', () => {
    const heap = new ArrayBuffer(64);
    const sizesOf = Float64Array.of(4);
    const params = Float64Array.of(0.1);
    expect(() => addon!.optimizerStep(heap, 1, sizesOf, Float64Array.of(0), params)).toThrow(
      'native optimizerStep: 1 variables need 3 operands and 1 params, got 1 and 1',
    );
    expect(() =>
      addon!.optimizerStep(heap, 1, sizesOf, Float64Array.of(0, 60, 32), params),
    ).toThrow(
      'native optimizerStep: a gradient at byte offset 60 with 4 float32 elements is outside the heap (64 bytes)',
    );
    expect(() => addon!.optimizerStep(heap, 7, sizesOf, Float64Array.of(0, 16), params)).toThrow(
      'native optimizerStep: unknown optimizer kind 7',
    );
  });
});
