/**
 * The wasm kernels doconv replaces for speed (Identity, Cast, Sum, Mean, FusedBatchNorm, Multiply,
 * Add, Sub) against the cpu backend, on a sweep that covers both their fast routes and the cases
 * they hand back to wasm's own kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './wasmSetup.js';
import {
  MIN_POOL_CHANNELS,
  poolReductionView,
  reducedShape,
} from '../../src/engine/reduceGeometry.js';
import { rememberStockKernel, stockKernelConfig } from '../../src/engine/stockKernels.js';
import { host, relativeError, runKernelOn, type HostTensor } from './helpers.js';

async function both(
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
): Promise<{ got: HostTensor; want: HostTensor }> {
  const got = await runKernelOn('wasm', kernelName, inputs, attrs);
  const want = await runKernelOn('cpu', kernelName, inputs, attrs);
  return { got, want };
}

describe('poolReductionView', () => {
  it('views a contiguous block of axes as [lead, P, Q, R]', () => {
    expect(poolReductionView([128, 32, 32, 16], [0, 1, 2])).toEqual({
      lead: 1,
      p: 4096,
      q: 32,
      r: 16,
    });
    expect(poolReductionView([2, 5, 7, 6], [2, 1])).toEqual({ lead: 2, p: 5, q: 7, r: 6 });
    expect(poolReductionView([9, 4], [0])).toEqual({ lead: 1, p: 1, q: 9, r: 4 });
  });
  it('declines what the pool cannot do well or at all', () => {
    expect(poolReductionView([4, 5, 6], [0, 2])).toBeNull(); // not contiguous
    expect(poolReductionView([4, 5, 6], [2])).toBeNull(); // innermost: one channel
    expect(poolReductionView([4, 5, MIN_POOL_CHANNELS - 1], [0, 1])).toBeNull(); // few channels
    expect(poolReductionView([1, 8], [0])).toBeNull(); // 1×1 window
    expect(poolReductionView([0, 8], [0])).toBeNull(); // empty
    expect(poolReductionView([3, 8], [])).toBeNull();
  });
  it('reducedShape keeps or drops the reduced axes', () => {
    expect(reducedShape([2, 3, 4], [0, 1], true)).toEqual([1, 1, 4]);
    expect(reducedShape([2, 3, 4], [0, 1], false)).toEqual([4]);
  });
});

const reductionCases: Array<{ shape: number[]; axis: number | number[]; keepDims: boolean }> = [
  { shape: [128, 8, 8, 16], axis: [0, 1, 2], keepDims: false }, // BatchNorm statistics
  { shape: [3, 5, 7, 6], axis: [0, 1, 2], keepDims: true },
  { shape: [3, 5, 7, 6], axis: [1, 2], keepDims: false }, // global average pooling
  { shape: [3, 5, 7, 6], axis: [2, 1], keepDims: true },
  { shape: [33, 10], axis: 0, keepDims: false }, // dense bias gradient
  { shape: [33, 10], axis: -2, keepDims: true },
  { shape: [4, 6, 8], axis: 1, keepDims: false },
  { shape: [1, 1, 9], axis: [0, 1], keepDims: false }, // 1×1 window: fallback
  { shape: [4, 6, 8], axis: [0, 2], keepDims: false }, // not contiguous: fallback
  { shape: [4, 6, 8], axis: 2, keepDims: false }, // innermost: fallback
  { shape: [5, 3], axis: 0, keepDims: false }, // 3 channels: fallback
  { shape: [2, 3, 4], axis: [0, 1, 2], keepDims: false }, // everything: fallback
];

for (const kernelName of ['Sum', 'Mean'])
  describe(`${kernelName} (wasm) matches cpu`, () => {
    it.each(
      reductionCases.map(
        (c) =>
          [
            `shape=${JSON.stringify(c.shape)} axis=${JSON.stringify(c.axis)} keepDims=${c.keepDims}`,
            c,
          ] as const,
      ),
    )('%s', async (_, c) => {
      const { got, want } = await both(
        kernelName,
        { x: host(c.shape, 3) },
        { axis: c.axis, keepDims: c.keepDims },
      );
      expect(got.shape).toEqual(want.shape);
      expect(relativeError(got.values, want.values)).toBeLessThan(1e-5);
    });

    it("int32 goes to wasm's own kernel", async () => {
      await tf.setBackend('wasm');
      const x = tf.tensor3d(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        [2, 2, 4],
        'int32',
      );
      const y = kernelName === 'Sum' ? tf.sum(x, [0, 1]) : tf.mean(x, [0, 1]);
      expect(y.dtype).toBe(kernelName === 'Sum' ? 'int32' : 'float32');
      expect(Array.from(await y.data())).toEqual(
        kernelName === 'Sum' ? [28, 32, 36, 40] : [7, 8, 9, 10],
      );
      tf.dispose([x, y]);
    });
  });

describe('FusedBatchNorm (wasm) matches cpu', () => {
  const c = 6;
  const params = (shape: number[], seed: number, positive = false): HostTensor => {
    const t = host(shape, seed);
    return positive ? { ...t, values: t.values.map((v) => v + 1.5) } : t;
  };
  const cases: Array<{ name: string; x: number[]; p: number[]; scale: boolean; offset: boolean }> =
    [
      { name: 'per-channel [C]', x: [2, 5, 7, c], p: [c], scale: true, offset: true },
      {
        name: 'per-channel [1,1,1,C]',
        x: [3, 4, 4, c],
        p: [1, 1, 1, c],
        scale: true,
        offset: true,
      },
      { name: 'no scale', x: [2, 3, 3, c], p: [c], scale: false, offset: true },
      { name: 'no offset', x: [2, 3, 3, c], p: [c], scale: true, offset: false },
      { name: 'scalar-size parameters', x: [2, 3, 3, c], p: [1], scale: true, offset: true },
      {
        name: 'parameters over W, not C: fallback',
        x: [2, 3, c, 4],
        p: [1, 1, c, 1],
        scale: true,
        offset: true,
      },
    ];
  it.each(cases.map((k) => [k.name, k] as const))('%s', async (_, k) => {
    const inputs: Record<string, HostTensor> = {
      x: host(k.x, 1),
      mean: params(k.p, 2),
      variance: params(k.p, 3, true),
    };
    if (k.scale) inputs.scale = params(k.p, 4);
    if (k.offset) inputs.offset = params(k.p, 5);
    const { got, want } = await both('FusedBatchNorm', inputs, { varianceEpsilon: 1e-3 });
    expect(got.shape).toEqual(k.x);
    expect(relativeError(got.values, want.values)).toBeLessThan(1e-5);
  });
});

describe('channel-broadcast Multiply, Add, Sub (wasm) are bit-identical to cpu', () => {
  const cases: Array<{ a: number[]; b: number[] }> = [
    { a: [2, 5, 7, 6], b: [6] },
    { a: [6], b: [2, 5, 7, 6] },
    { a: [1, 1, 1, 6], b: [2, 5, 7, 6] },
    { a: [9, 4], b: [1, 4] },
    { a: [2, 5, 7, 6], b: [2, 5, 7, 6] }, // same shape: wasm's own
    { a: [2, 5, 7, 6], b: [] }, // scalar: wasm's own
    { a: [2, 5, 7, 6], b: [7, 1] }, // other broadcast: wasm's own
  ];
  for (const kernelName of ['Multiply', 'Add', 'Sub'])
    it.each(
      cases.map((k) => [`${kernelName} ${JSON.stringify(k.a)} ${JSON.stringify(k.b)}`, k] as const),
    )('%s', async (_, k) => {
      const { got, want } = await both(kernelName, { a: host(k.a, 7), b: host(k.b, 8) }, {});
      expect(got.shape).toEqual(want.shape);
      // Same roundings as the plain op (±0 aside, which Array equality would distinguish).
      expect(relativeError(got.values, want.values)).toBe(0);
    });

  it("int32 goes to wasm's own kernel", async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const b = tf.tensor1d([10, 20], 'int32');
    const y = tf.sub(tf.mul(a, b), b);
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual([0, 20, 20, 60, 40, 100]);
    tf.dispose([a, b, y]);
  });
});

describe('BatchMatMul with transposed operands (wasm) matches cpu', () => {
  const shapes: Array<{
    name: string;
    m: number;
    k: number;
    n: number;
    batch?: number;
    batchB?: number;
  }> = [
    { name: 'dense weight gradient 4608×32 · 32×10', m: 4608, k: 32, n: 10 },
    { name: 'dense input gradient', m: 32, k: 10, n: 4608 },
    { name: 'square-ish', m: 7, k: 5, n: 6 },
    // Batched products go to wasm's own kernel (a plain JS loop for the small ones was measured
    // slower; results/README.md#engine-notes).
    { name: "batched (wasm's own kernel)", m: 3, k: 4, n: 5, batch: 2 },
    { name: 'DO-Conv composition 32 × [9×9]·[9×8]', m: 9, k: 9, n: 8, batch: 32 },
    { name: 'b broadcast over the batch', m: 4, k: 3, n: 5, batch: 3, batchB: 1 },
  ];
  for (const s of shapes)
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const)
      it(`${s.name} transposeA=${ta} transposeB=${tb}`, async () => {
        const lead = s.batch != null ? [s.batch] : [1];
        const leadB = s.batchB != null ? [s.batchB] : lead;
        const a = host([...lead, ...(ta ? [s.k, s.m] : [s.m, s.k])], 21);
        const b = host([...leadB, ...(tb ? [s.n, s.k] : [s.k, s.n])], 22);
        const { got, want } = await both(
          'BatchMatMul',
          { a, b },
          { transposeA: ta, transposeB: tb },
        );
        expect(got.shape).toEqual([...lead, s.m, s.n]);
        expect(got.shape).toEqual(want.shape);
        expect(relativeError(got.values, want.values)).toBeLessThan(1e-5);
      });

  it('2-D operands keep a 2-D result (tf.matMul)', async () => {
    await tf.setBackend('wasm');
    const y = tf.matMul(tf.ones([4, 3]), tf.ones([4, 2]), true, false);
    expect(y.shape).toEqual([3, 2]);
    expect(Array.from(await y.data())).toEqual([4, 4, 4, 4, 4, 4]);
    y.dispose();
  });
});

describe('Identity and Cast share the buffer instead of copying', () => {
  it('clone and same-dtype cast keep values, survive disposing the source, free their data', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const before = backend.numDataIds();
    const x = tf.tensor2d([1.5, -2, 3, 4], [2, 2]);
    const c = tf.clone(x);
    const k = tf.cast(x, 'float32');
    expect(backend.numDataIds()).toBe(before + 1); // one buffer, three tensors
    x.dispose();
    expect(Array.from(await c.data())).toEqual([1.5, -2, 3, 4]);
    c.dispose();
    expect(Array.from(await k.data())).toEqual([1.5, -2, 3, 4]);
    k.dispose();
    expect(backend.numDataIds()).toBe(before);
  });

  it('other casts convert as wasm does', async () => {
    const { got, want } = await both('Cast', { x: host([2, 3], 1) }, { dtype: 'int32' });
    expect(Array.from(got.values)).toEqual(Array.from(want.values));
    await tf.setBackend('wasm');
    const s = tf.clone(tf.tensor1d(['a', 'bc'], 'string'));
    expect(await s.data()).toEqual(['a', 'bc']);
    s.dispose();
  });
});

describe("the fast routes do not call wasm's own kernels", () => {
  const routes: Array<[string, () => tf.Tensor]> = [
    ['Sum', () => tf.sum(tf.ones([8, 4, 4, 8]), [0, 1, 2])],
    ['Mean', () => tf.mean(tf.ones([8, 4, 4, 8]), [1, 2])],
    ['FusedBatchNorm', () => tf.batchNorm(tf.ones([2, 3, 3, 8]), tf.zeros([8]), tf.ones([8]))],
    ['Multiply', () => tf.mul(tf.ones([2, 3, 3, 8]), tf.ones([8]))],
    ['Add', () => tf.add(tf.ones([8]), tf.ones([2, 3, 3, 8]))],
    ['Sub', () => tf.sub(tf.ones([2, 3, 3, 8]), tf.ones([1, 1, 1, 8]))],
    ['Identity', () => tf.clone(tf.ones([4]))],
    ['Cast', () => tf.cast(tf.ones([4]), 'float32')],
  ];
  it.each(routes)('%s', async (kernelName, op) => {
    await tf.setBackend('wasm');
    const original = stockKernelConfig(kernelName)!;
    expect(original).toBeDefined();
    rememberStockKernel({
      ...original,
      kernelFunc: () => {
        throw new Error(`stock ${kernelName} called`);
      },
    });
    try {
      tf.tidy(op);
    } finally {
      rememberStockKernel(original);
    }
  });
});
