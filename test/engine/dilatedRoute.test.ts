/**
 * Dilated convs on wasm run as TF.js's dilated conv ops (doconv's engine gives them gradients),
 * elsewhere through space-to-batch: values and gradients for x, kernel and bias must agree across
 * the two routes (wasm vs cpu), for plain, depthwise and grouped kernels, on whichever engine runs.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableNativeEngine } from '../../src/engine/native/enableNative.js';
import { convolve, type ConvolveOptions } from '../../src/algebra/convolve.js';
import { hasDilatedConvGradients } from '../../src/util/dilatedConvGradients.js';
import { engineRoutes } from '../../src/util/engineRoutes.js';
import { host, relativeError } from './helpers.js';
import { addon, startNativeEngine } from './nativeSetup.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number, number, number];
  groups: number;
  padding: 'same' | 'valid';
  dilationRate: [number, number];
}

const cases: Case[] = [
  {
    name: 'plain 3×3 d2 same',
    x: [2, 9, 10, 4],
    k: [3, 3, 4, 5],
    groups: 1,
    padding: 'same',
    dilationRate: [2, 2],
  },
  {
    name: 'plain 3×2 d(3,1) valid',
    x: [1, 11, 7, 3],
    k: [3, 2, 3, 2],
    groups: 1,
    padding: 'valid',
    dilationRate: [3, 1],
  },
  {
    name: 'depthwise 3×3 d2 same',
    x: [2, 8, 8, 3],
    k: [3, 3, 1, 6],
    groups: 3,
    padding: 'same',
    dilationRate: [2, 2],
  },
  {
    name: 'grouped 3×3 d3 same',
    x: [1, 10, 9, 4],
    k: [3, 3, 2, 6],
    groups: 2,
    padding: 'same',
    dilationRate: [3, 3],
  },
];

/** y, and the gradients of Σ y·r with respect to x, kernel and bias, plus the kernels that ran. */
async function run(backend: string, c: Case) {
  await tf.setBackend(backend);
  const x = tf.tensor(host(c.x, 1).values, c.x) as tf.Tensor4D;
  const k = tf.tensor(host(c.k, 2).values, c.k) as tf.Tensor4D;
  const bias = tf.tensor1d(host([c.k[3]], 3).values);
  const options: ConvolveOptions = {
    strides: [1, 1],
    padding: c.padding,
    dilationRate: c.dilationRate,
    groups: c.groups,
    bias,
    activation: 'relu',
    // As the layers call it: the fused paths this backend offers.
    routes: engineRoutes(),
  };
  const y = convolve(x, k, options);
  const r = tf.tensor(host(y.shape, 4).values, y.shape);
  const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
    tf.sum(
      tf.mul(
        convolve(a as tf.Tensor4D, b as tf.Tensor4D, { ...options, bias: d as tf.Tensor1D }),
        r,
      ),
    );
  const kernels = new Set<string>();
  const profile = await tf.profile(() => tf.dispose(tf.grads(f)([x, k, bias])));
  for (const p of profile.kernels) kernels.add(p.name);
  const grads = tf.grads(f)([x, k, bias]);
  const out = {
    y: await y.data(),
    grads: await Promise.all(grads.map((g) => g.data())),
    kernels,
  };
  tf.dispose([x, k, bias, y, r, ...grads]);
  return out;
}

// The wasm engine, the native engine over wasm's heap, and the native engine's own backend.
const engines: Array<[engine: string, backend: string]> =
  addon != null
    ? [
        ['wasm', 'wasm'],
        ['native', 'wasm'],
        ['native', 'doconv-native'],
      ]
    : [['wasm', 'wasm']];

describe.each(engines)(
  'dilated convs: direct on doconv’s engine (engine %s on %s), space-to-batch elsewhere',
  (engine, backend) => {
    beforeAll(() => {
      if (engine === 'native') expect(startNativeEngine(backend as 'wasm')).toBe(true);
    });
    afterAll(() => disableNativeEngine());

    it(`${backend} has the engine’s dilated-conv gradients, cpu does not`, async () => {
      await tf.setBackend(backend);
      expect(hasDilatedConvGradients(backend)).toBe(true);
      expect(hasDilatedConvGradients('cpu')).toBe(false);
    });

    it.each(cases.map((c) => [c.name, c] as const))(
      '%s: same values and gradients',
      async (_, c) => {
        const ours = await run(backend, c);
        const cpu = await run('cpu', c);
        await tf.setBackend(backend);
        expect(ours.kernels.has('SpaceToBatchND')).toBe(false);
        expect(cpu.kernels.has('SpaceToBatchND')).toBe(true);
        expect(relativeError(ours.y, cpu.y)).toBeLessThan(1e-5);
        ours.grads.forEach((g, i) => expect(relativeError(g, cpu.grads[i])).toBeLessThan(1e-5));
      },
    );
  },
);
