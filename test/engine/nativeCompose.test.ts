/**
 * The native engine's fused DO-Conv composition (one kernel forward, one backward) against the
 * definition in plain loops and against the algebra's TF.js-op composition on cpu, values and
 * gradients; and that the algebra picks it only where the kernel is registered.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { composeKernel, composeKernelFromParts } from '../../src/algebra/composeKernel.js';
import { disableNativeEngine } from '../../src/engine/native/enableNative.js';
import { COMPOSE_KERNEL, COMPOSE_KERNEL_GRAD } from '../../src/util/composeKernelOp.js';
import { diagIdentity } from '../../src/algebra/diagIdentity.js';
import { doConv2d } from '../../src/index.js';
import { engineRoutes } from '../../src/util/engineRoutes.js';
import { host, relativeError } from './helpers.js';
import {
  describeNative,
  nativeEngineForThisFile,
  skipReason,
  NATIVE_HOST,
  startNativeEngine,
} from './nativeSetup.js';

const d = describeNative;
nativeEngineForThisFile();

/**
 * K[m, j, o] = Σ_s D̂[m, s, c] · W[s, j, o] with c = ⌊o / (F/g)⌋ · (C/g) + j, straight from the
 * definition (g groups; j < C/g).
 */
function composeByLoops(
  dv: Float32Array,
  wv: Float32Array,
  [A, S, C, F]: number[],
  g = 1,
): Float64Array {
  const Cg = C / g;
  const k = new Float64Array(A * Cg * F);
  for (let m = 0; m < A; m++)
    for (let j = 0; j < Cg; j++)
      for (let o = 0; o < F; o++) {
        const c = Math.floor(o / (F / g)) * Cg + j;
        for (let s = 0; s < S; s++)
          k[(m * Cg + j) * F + o] += dv[(m * S + s) * C + c] * wv[(s * Cg + j) * F + o];
      }
  return k;
}

/** The engine routes the layers pass on the active backend. */
function routesHere() {
  return engineRoutes();
}

/** The kernels a composition ran here. */
async function composedByOneKernel(): Promise<boolean> {
  const d = tf.zeros([4, 2, 6]) as tf.Tensor3D;
  const w = tf.zeros([2, 3, 4]) as tf.Tensor3D;
  const { kernelNames } = await tf.profile(() =>
    tf.dispose(
      composeKernelFromParts(w, d, d, { kernelSize: [2, 2], groups: 2, routes: routesHere() }),
    ),
  );
  tf.dispose([d, w]);
  return kernelNames.length === 1 && kernelNames[0] === COMPOSE_KERNEL;
}

/** K, and the gradients of Σ K·R with respect to D̂ and W, on `backend`. */
async function composeWithGrads(backend: string, [A, S, C, F]: number[], M: number, groups = 1) {
  await tf.setBackend(backend);
  const Cg = C / groups;
  const dv = host([A, S, C], 1);
  const wv = host([S, Cg, F], 2);
  const rv = host([M, A / M, Cg, F], 3);
  const d = tf.tensor3d(dv.values, [A, S, C]);
  // Any constant, not only the identity: the op must add whatever D_diag it is given.
  const dDiag = tf.tensor3d(host([A, S, C], 5).values, [A, S, C]);
  const weight = tf.tensor3d(wv.values, [S, Cg, F]);
  const r = tf.tensor(rv.values, rv.shape);
  const options = { kernelSize: [M, A / M] as [number, number], groups, routes: routesHere() };
  const k = composeKernelFromParts(weight, d, dDiag, options);
  const [gd, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(composeKernelFromParts(b as tf.Tensor3D, a as tf.Tensor3D, dDiag, options), r)),
  )([d, weight]);
  const dHat = tf.add(d, dDiag);
  const dHatValues = (await dHat.data()) as Float32Array;
  const out = {
    k: await k.data(),
    gd: await gd.data(),
    gw: await gw.data(),
    fused: tf.getKernel(COMPOSE_KERNEL, backend) != null && (await composedByOneKernel()),
    dv: dHatValues,
    wv: wv.values,
  };
  tf.dispose([d, dDiag, dHat, weight, r, k, gd, gw]);
  await tf.setBackend(NATIVE_HOST);
  return out;
}

d(`native DO-Conv composition${skipReason}`, () => {
  it.each([
    [[9, 9, 3, 5], 3],
    [[9, 9, 16, 16], 3],
    // F = 2 register blocks of 16 filters and a tail of 5 (native/src/compose.cc's acc[] blocks)
    [[9, 9, 5, 37], 3],
    [[4, 6, 2, 7], 2],
    [[1, 3, 4, 2], 1],
    [[15, 15, 1, 1], 3],
  ])(
    '[M·N, dMul, C, F] = %j matches the definition and the op-built composition',
    async (dims, M) => {
      const native = await composeWithGrads(NATIVE_HOST, dims, M);
      const cpu = await composeWithGrads('cpu', dims, M);
      expect(native.fused).toBe(true);
      expect(cpu.fused).toBe(false);
      expect(relativeError(native.k, composeByLoops(native.dv, native.wv, dims))).toBeLessThan(
        1e-6,
      );
      expect(relativeError(native.k, cpu.k)).toBeLessThan(1e-6);
      expect(relativeError(native.gd, cpu.gd)).toBeLessThan(1e-6);
      expect(relativeError(native.gw, cpu.gw)).toBeLessThan(1e-6);
    },
  );

  it.each([
    // DO-DConv: g = C, one filter per channel (multiplier 1) and two (multiplier 2)
    [[9, 9, 16, 16], 3, 16],
    [[9, 9, 8, 16], 3, 8],
    // multiplier 1 runs its sums along the channels (compose.cc): a tail of 3 after two blocks of
    // 8, and dMul ≠ M·N
    [[9, 9, 19, 19], 3, 19],
    [[4, 6, 11, 11], 2, 11],
    // DO-GConv: 1 < g < C, several channels and filters a group (blocks of 16 and a tail)
    [[9, 9, 12, 24], 3, 4],
    [[9, 9, 6, 42], 3, 2],
    [[4, 3, 6, 9], 2, 3],
  ])(
    'grouped: [M·N, dMul, C, F] = %j in %i×… taps, groups %i match the definition and the op-built composition',
    async (dims, M, groups) => {
      const native = await composeWithGrads(NATIVE_HOST, dims, M, groups);
      const cpu = await composeWithGrads('cpu', dims, M, groups);
      expect(native.fused).toBe(true);
      expect(
        relativeError(native.k, composeByLoops(native.dv, native.wv, dims, groups)),
      ).toBeLessThan(1e-6);
      expect(relativeError(native.k, cpu.k)).toBeLessThan(1e-6);
      expect(relativeError(native.gd, cpu.gd)).toBeLessThan(1e-6);
      expect(relativeError(native.gw, cpu.gw)).toBeLessThan(1e-6);
    },
  );

  it('a DOConv2D layer composes its kernel with it outside training: one op, D + D_diag inside', async () => {
    // (Under a tape the layer runs the fused DO-Conv convolution instead: nativeComposedConv.test.ts.)
    const layer = doConv2d({ filters: 4, kernelSize: 3, padding: 'same' });
    const x = tf.tensor(host([2, 6, 6, 3], 7).values, [2, 6, 6, 3]);
    layer.apply(x); // build
    const { kernelNames } = await tf.profile(() => tf.dispose(layer.apply(x) as tf.Tensor));
    expect(kernelNames).toContain('DoconvComposeKernel');
    expect(kernelNames).not.toContain('BatchMatMul');
    layer.dispose();
    x.dispose();
  });

  it.each([
    { area: 9, dMul: 9, ci: 4, filters: 6, groups: 1 },
    { area: 9, dMul: 13, ci: 4, filters: 6, groups: 2 },
    { area: 4, dMul: 8, ci: 3, filters: 3, groups: 3 },
  ])(
    "%j: without a dDiag input, the addon's built-in identity pattern gives diagIdentity's bits",
    (c) => {
      const t = (shape: number[], seed: number) => tf.tensor(host(shape, seed).values, shape);
      const d = t([c.area, c.dMul, c.ci], 1);
      const weight = t([c.dMul, c.ci / c.groups, c.filters], 2);
      const dDiag = diagIdentity(c.area, c.dMul, c.ci);
      const side = Math.sqrt(c.area);
      const attrs = { kernelSize: [side, side] } as unknown as tf.NamedAttrMap;
      const e = tf.engine();
      const k = e.runKernel(COMPOSE_KERNEL, { d, weight }, attrs) as tf.Tensor;
      const kOfDiag = e.runKernel(COMPOSE_KERNEL, { d, dDiag, weight }, attrs) as tf.Tensor;
      expect(Array.from(k.dataSync())).toEqual(Array.from(kOfDiag.dataSync()));
      const dy = t(k.shape, 3);
      const grads = e.runKernel(COMPOSE_KERNEL_GRAD, { dy, d, weight }, attrs) as tf.Tensor[];
      const gradsOfDiag = e.runKernel(
        COMPOSE_KERNEL_GRAD,
        { dy, d, dDiag, weight },
        attrs,
      ) as tf.Tensor[];
      grads.forEach((g, i) =>
        expect(Array.from(g.dataSync())).toEqual(Array.from(gradsOfDiag[i].dataSync())),
      );
      tf.dispose([d, weight, dDiag, k, kOfDiag, dy, ...grads, ...gradsOfDiag]);
    },
  );

  it('names the kernel and both shapes on a mismatch', () => {
    const d = tf.zeros([9, 4, 3]);
    const weight = tf.zeros([4, 2, 5]);
    expect(() => tf.engine().runKernel(COMPOSE_KERNEL, { d, dDiag: d, weight }, {})).toThrow(
      /doconv native DoconvComposeKernel: d and dDiag must be float32 \[M·N, dMul, C\] and weight float32 \[dMul, C\/g, F\] \(g dividing C and F\), got d float32 \[9,4,3\], dDiag float32 \[9,4,3\] and weight float32 \[4,2,5\]/,
    );
    const w = tf.zeros([4, 3, 5]);
    expect(() =>
      tf.engine().runKernel(COMPOSE_KERNEL, { d, dDiag: d, weight: w }, {
        kernelSize: [2, 2],
      } as unknown as tf.NamedAttrMap),
    ).toThrow(/doconv native DoconvComposeKernel: kernelSize \[2,2\] does not fit D's 9 taps/);
    tf.dispose([d, weight, w]);
  });

  it('is gone from wasm with the native-on-wasm engine off: the algebra builds the composition from ops again', async () => {
    await tf.setBackend('wasm');
    disableNativeEngine();
    try {
      expect(tf.getKernel(COMPOSE_KERNEL, 'wasm')).toBeUndefined();
      const w = tf.ones([2, 3, 4]) as tf.Tensor3D;
      const dHat = tf.ones([4, 2, 3]) as tf.Tensor3D;
      const k = composeKernel(w, dHat, { kernelSize: [2, 2] });
      expect(k.shape).toEqual([2, 2, 3, 4]);
      expect(Array.from(k.dataSync()).every((v) => v === 2)).toBe(true);
      tf.dispose([w, dHat, k]);
    } finally {
      startNativeEngine();
      await tf.setBackend(NATIVE_HOST);
    }
  });
});
