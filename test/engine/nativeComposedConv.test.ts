/**
 * DO-Conv's fused convolution on the native engine (K composed inside the conv kernels): a DOConv2D
 * layer's output and every gradient (x, D, W, bias) against the same layer on the cpu backend, where
 * the composition and the conv are TF.js ops; that training takes it (and runs no more kernels
 * than a conv layer), that a frozen layer and inference keep the composed-kernel path, and that
 * nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { doConv2d } from '../../src/index.js';
import {
  COMPOSE_KERNEL,
  COMPOSE_KERNEL_GRAD,
  COMPOSED_CONV,
  COMPOSED_CONV_GRAD_INPUT,
  COMPOSED_CONV_GRAD_WEIGHTS,
} from '../../src/util/composeKernelOp.js';
import { diagIdentity } from '../../src/algebra/diagIdentity.js';
import { identityDiagTensor } from '../../src/engine/native/nativeCompose.js';
import type { KernelArgs } from '../../src/engine/native/operands.js';
import { host, relativeError } from './helpers.js';
import {
  addon,
  describeNative,
  nativeEngineForThisFile,
  skipReason,
  NATIVE_HOST,
} from './nativeSetup.js';

nativeEngineForThisFile();

interface Case {
  padding: 'same' | 'valid';
  strides: number;
  kernelSize: [number, number];
  dMul?: number;
  useBias: boolean;
  activation: 'relu' | 'linear';
}

/** The layer's output and the gradients of Σ y·R with respect to x and every weight. */
async function layerWithGrads(backend: string, c: Case, trainable = true) {
  await tf.setBackend(backend);
  const xShape = [2, 7, 6, 3];
  const layer = doConv2d({ filters: 5, ...c });
  const x = tf.variable(tf.tensor(host(xShape, 11).values, xShape));
  layer.apply(x); // build
  layer.setWeights(
    layer.weights.map((w, i) =>
      tf.tensor(host(w.shape as number[], 20 + i).values, w.shape as number[]),
    ),
  );
  layer.trainable = trainable;
  const yShape = (layer.apply(x) as tf.Tensor).shape;
  const r = tf.tensor(host(yShape, 3).values, yShape);
  const vars = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
  let y: Float32Array | undefined;
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = layer.apply(x) as tf.Tensor;
      y = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, r)) as tf.Scalar;
    }, vars);
    const values = vars.map((v) => grads[v.name].dataSync().slice());
    tf.dispose([value, ...Object.values(grads)]);
    return values;
  });
  const grads = vars.map(() => null as Float32Array | null);
  // tf.profile returns the function's result in `result`
  const result = (profile as unknown as { result: Float32Array[] }).result;
  result.forEach((g, i) => (grads[i] = g));
  const out = { y: y!, grads, kernelNames: profile.kernelNames };
  tf.dispose([x, r]);
  layer.dispose();
  await tf.setBackend(NATIVE_HOST);
  return out;
}

describeNative(`native fused DO-Conv convolution${skipReason}`, () => {
  const cases: Case[] = [
    { padding: 'same', strides: 1, kernelSize: [3, 3], useBias: true, activation: 'relu' },
    { padding: 'valid', strides: 2, kernelSize: [3, 3], useBias: false, activation: 'linear' },
    {
      padding: 'same',
      strides: 2,
      kernelSize: [1, 3],
      dMul: 5,
      useBias: true,
      activation: 'linear',
    },
    { padding: 'valid', strides: 1, kernelSize: [2, 2], useBias: true, activation: 'relu' },
  ];
  it.each(cases)(
    '%j: output and gradients of x, D, W, bias match the op-built layer on cpu',
    async (c) => {
      const native = await layerWithGrads(NATIVE_HOST, c);
      const cpu = await layerWithGrads('cpu', c);
      expect(native.kernelNames).toEqual(
        expect.arrayContaining([
          COMPOSED_CONV,
          COMPOSED_CONV_GRAD_INPUT,
          COMPOSED_CONV_GRAD_WEIGHTS,
        ]),
      );
      expect(native.kernelNames).not.toContain(tf.Conv2D);
      expect(relativeError(native.y, cpu.y)).toBeLessThan(1e-5);
      expect(native.grads.length).toBe(cpu.grads.length);
      native.grads.forEach((g, i) => expect(relativeError(g!, cpu.grads[i]!)).toBeLessThan(1e-5));
    },
  );

  it('runs as many kernels per training step as a conv layer does', async () => {
    const x = tf.tensor(host([2, 6, 6, 3], 7).values, [2, 6, 6, 3]);
    const count = async (layer: tf.layers.Layer) => {
      layer.apply(x);
      const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const { kernels } = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar,
          vars,
        );
        tf.dispose([value, ...Object.values(grads)]);
      });
      layer.dispose();
      const copies = kernels.filter((k) => k.name === tf.Identity).length;
      return { copies, others: kernels.length - copies };
    };
    const args = {
      filters: 4,
      kernelSize: 3,
      padding: 'same' as const,
      activation: 'relu' as const,
    };
    const doconv = await count(doConv2d(args));
    const conv = await count(tf.layers.conv2d(args));
    expect(doconv.others).toBe(conv.others);
    // the tape's saved copies (Identity): x, D and W where a conv saves x and its filter — no D_diag
    expect(doconv.copies).toBe(conv.copies + 1);
    x.dispose();
  });

  it('a frozen layer (only dx wanted) and inference keep the composed-kernel path', async () => {
    const c: Case = {
      padding: 'same',
      strides: 1,
      kernelSize: [3, 3],
      useBias: true,
      activation: 'relu',
    };
    const native = await layerWithGrads(NATIVE_HOST, c, false);
    const cpu = await layerWithGrads('cpu', c, false);
    expect(native.kernelNames).not.toContain(COMPOSED_CONV);
    expect(native.grads.length).toBe(1);
    expect(relativeError(native.grads[0]!, cpu.grads[0]!)).toBeLessThan(1e-5);
    const layer = doConv2d({ filters: 4, kernelSize: 3 });
    const x = tf.ones([1, 5, 5, 2]);
    const { kernelNames } = await tf.profile(() => tf.dispose(layer.apply(x) as tf.Tensor));
    expect(kernelNames).not.toContain(COMPOSED_CONV);
    tf.dispose(x);
    layer.dispose();
  });

  // Each fused kernel composes K (or takes dK apart) inside one addon call, D_diag's identity
  // pattern built in; the separate kernels — the composition with the algebra's D_diag tensor, then
  // the conv pass, or the conv's dK, then the composition's gradient — must give the same bits.
  // dMul 11 leaves D_diag rows of zeros, 18 tiles the identity twice.
  it.each([
    { x: [3, 9, 8, 5], strides: [2, 2], pad: 'valid', kernelSize: [3, 3], dMul: 9, filters: 7 },
    { x: [2, 6, 7, 16], strides: [1, 1], pad: 'same', kernelSize: [3, 3], dMul: 11, filters: 10 },
    { x: [2, 8, 8, 1], strides: [2, 1], pad: 'same', kernelSize: [1, 3], dMul: 3, filters: 16 },
    { x: [1, 7, 7, 4], strides: [1, 1], pad: 'valid', kernelSize: [3, 3], dMul: 18, filters: 6 },
  ])("%j: the fused kernels give the separate kernels' bits", (c) => {
    const area = c.kernelSize[0] * c.kernelSize[1];
    const ci = c.x[3];
    const t = (shape: number[], seed: number) => tf.tensor(host(shape, seed).values, shape);
    const x = t(c.x, 1);
    const d = t([area, c.dMul, ci], 2);
    const dDiag = diagIdentity(area, c.dMul, ci);
    const weight = t([c.dMul, ci, c.filters], 3);
    const attrs = {
      kernelSize: c.kernelSize,
      strides: c.strides,
      pad: c.pad,
      dilations: [1, 1],
      dataFormat: 'NHWC',
    } as unknown as tf.NamedAttrMap;
    const e = tf.engine();
    const y = e.runKernel(COMPOSED_CONV, { x, d, weight }, attrs) as tf.Tensor;
    const k = e.runKernel(COMPOSE_KERNEL, { d, dDiag, weight }, attrs) as tf.Tensor;
    const yOfK = e.runKernel(tf.Conv2D, { x, filter: k }, attrs) as tf.Tensor;
    expect(y.dataSync()).toEqual(yOfK.dataSync());
    const dy = t(y.shape, 4);
    const backpropAttrs = { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap;
    const dx = e.runKernel(COMPOSED_CONV_GRAD_INPUT, { dy, d, weight }, backpropAttrs);
    const dxOfK = e.runKernel(tf.Conv2DBackpropInput, { dy, filter: k }, backpropAttrs);
    expect((dx as tf.Tensor).dataSync()).toEqual((dxOfK as tf.Tensor).dataSync());
    const [dd, dw] = e.runKernel(
      COMPOSED_CONV_GRAD_WEIGHTS,
      { x, dy, d, weight },
      attrs,
    ) as tf.Tensor[];
    const dk = e.runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
      ...attrs,
      filterShape: k.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const [ddOfK, dwOfK] = e.runKernel(
      COMPOSE_KERNEL_GRAD,
      { dy: dk, d, dDiag, weight },
      attrs,
    ) as tf.Tensor[];
    expect(dd.dataSync()).toEqual(ddOfK.dataSync());
    expect(dw.dataSync()).toEqual(dwOfK.dataSync());
    tf.dispose([x, d, dDiag, weight, y, k, yOfK, dy, dx, dxOfK, dd, dw, dk, ddOfK, dwOfK]);
  });

  it('refuses a dDiag input, naming the kernel (its gradient assumes the built-in pattern)', () => {
    const x = tf.ones([1, 4, 4, 2]);
    const d = tf.zeros([9, 9, 2]);
    const dDiag = diagIdentity(9, 9, 2);
    const weight = tf.ones([9, 2, 3]);
    const attrs = {
      kernelSize: [3, 3],
      strides: [1, 1],
      pad: 'valid',
      dilations: [1, 1],
      dataFormat: 'NHWC',
    } as unknown as tf.NamedAttrMap;
    expect(() => tf.engine().runKernel(COMPOSED_CONV, { x, d, dDiag, weight }, attrs)).toThrow(
      'doconv native DoconvComposedConv2D: takes no dDiag input (D_diag is the identity pattern, built in)',
    );
    tf.dispose([x, d, dDiag, weight]);
  });

  it("D_diag's pattern for an addon that cannot build it holds diagIdentity's values", () => {
    const backend = tf.backend() as unknown as KernelArgs['backend'];
    for (const [area, dMul, ci] of [
      [9, 9, 3],
      [9, 11, 2],
      [3, 6, 1],
    ] as const) {
      const info = identityDiagTensor({ backend, inputs: {}, attrs: {} }, [area, dMul, ci]);
      const t = tf.engine().makeTensorFromTensorInfo(info);
      const want = diagIdentity(area, dMul, ci);
      expect(Array.from(t.dataSync())).toEqual(Array.from(want.dataSync()));
      tf.dispose([t, want]);
    }
  });

  it('the addon refuses a conv geometry whose filter is not the composed kernel, naming both', () => {
    // conv: x [1, 4, 4, 2], out 2×2×3, 3×3 taps, strides 1, no padding, groups 1; composition:
    // 9 taps, dMul 9, C 2, F 4 (the conv says 3 filters)
    const conv = [1, 4, 4, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0];
    const geom = Int32Array.from([...conv, 9, 9, 2, 4, 1]);
    const f = (n: number) => new Float32Array(n);
    expect(() =>
      addon!.composedConvForward(null, geom, f(32), f(162), f(162), f(72), -1, f(12), 0),
    ).toThrow(
      /composedConvForward: bad geometry: the conv's filter \[3, 3, 2, 3\].*\[M·N 9, C 2, F 4\]/,
    );
  });

  it('leaks no tensor over training steps', async () => {
    const layer = doConv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' });
    const x = tf.tensor(host([2, 6, 6, 3], 7).values, [2, 6, 6, 3]);
    layer.apply(x);
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar,
        vars,
      );
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory();
    for (let i = 0; i < 20; i++) step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    layer.dispose();
    x.dispose();
  });
});
