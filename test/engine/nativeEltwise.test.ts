/**
 * The native engine's element-wise kernels (src/engine/native/nativeEltwise.ts) against the cpu
 * backend's: every broadcast pattern they take, the ones they hand back to wasm, sizes past the
 * point where the loops go multi-threaded, NaN, and the same answer for every thread count up to
 * float32 rounding (bit for bit for a given count).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { binaryPlan, reducePlan, tilePlan } from '../../src/engine/native/nativeEltwise.js';
import { host, relativeError, runKernelOn, type HostTensor } from './helpers.js';
import {
  addon,
  describeNative,
  nativeEngineForThisFile,
  skipReason,
  NATIVE_HOST,
} from './nativeSetup.js';

const d = describeNative;
nativeEngineForThisFile();

// The cases below past 32 768 elements are there to run the threaded loops: use the thresholds of a
// spinning team (the default with passive waits is 1 M elements, native/src/common.cc).
let parallelMin: [number, number] | undefined;
beforeAll(() => {
  parallelMin = addon?.getParallelMin();
  addon?.setParallelMin(2 ** 15, 2 ** 22);
});
afterAll(() => {
  if (parallelMin) addon?.setParallelMin(...parallelMin);
});

/** The kernel on wasm (native engine on) and on cpu, with the relative error between them. */
async function compare(
  kernel: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown> = {},
): Promise<{ native: HostTensor; cpu: HostTensor; error: number }> {
  const native = await runKernelOn(NATIVE_HOST, kernel, inputs, attrs);
  const cpu = await runKernelOn('cpu', kernel, inputs, attrs);
  await tf.setBackend(NATIVE_HOST);
  expect(native.shape).toEqual(cpu.shape);
  return { native, cpu, error: relativeError(native.values, cpu.values) };
}

// [a shape, b shape, runs natively]; 128·16·16·8 = 32 768 elements reach the threaded loops.
const binaryCases: Array<[number[], number[], boolean]> = [
  [[2, 3, 4, 5], [2, 3, 4, 5], true],
  [[2, 3, 4, 5], [5], true],
  [[5], [2, 3, 4, 5], true],
  [[2, 3, 4, 5], [1, 1, 1, 5], true],
  [[2, 3, 4, 5], [], true],
  [[], [2, 3, 4, 5], true],
  [[1], [7], true],
  [[128, 16, 16, 8], [128, 16, 16, 8], true],
  [[128, 16, 16, 8], [8], true],
  [[6, 11], [6, 1], true], // one value per row: softmax's x − max(x)
  [[6, 1], [6, 11], true],
  [[2, 3, 4, 5], [2, 3, 4, 1], true],
  [[128, 16, 16, 8], [128, 16, 16, 1], true],
  [[2, 3, 4, 1], [1], true],
  [[2, 3, 4, 5], [2, 1, 4, 1], false], // not one value per row
  [[3, 1, 1, 1], [3, 4, 5, 6], false], // a batch-wise broadcast: the fallback's
  [[2, 3, 4, 5], [4, 5], false],
  [[2, 1, 5], [2, 3, 1], false],
];

d(`native Add, Sub, Multiply, RealDiv match cpu${skipReason}`, () => {
  for (const kernel of [tf.Add, tf.Sub, tf.Multiply, tf.RealDiv]) {
    it.each(
      binaryCases.map(([a, b, n]) => [JSON.stringify(a), JSON.stringify(b), a, b, n] as const),
    )(`${kernel} %s, %s`, async (_, __, a, b, native) => {
      expect(binaryPlan(a, b) !== null).toBe(native);
      const { error } = await compare(kernel, { a: host(a, 1), b: host(b, 2) });
      expect(error).toBeLessThan(1e-6);
    });
  }
});

d(`native Relu, Step, Square, Neg, Exp, Tanh match cpu${skipReason}`, () => {
  for (const shape of [[7], [2, 3, 4, 5], [128, 16, 16, 8]]) {
    for (const [kernel, attrs] of [
      [tf.Relu, {}],
      [tf.Step, { alpha: 0 }],
      [tf.Step, { alpha: 0.25 }],
      [tf.Square, {}],
      [tf.Neg, {}],
      [tf.Exp, {}],
      [tf.Tanh, {}],
    ] as const) {
      it(`${kernel} ${JSON.stringify(attrs)} on ${JSON.stringify(shape)}`, async () => {
        const x = host(shape, 3);
        x.values[0] = NaN; // passes through, so the trainer's non-finite check sees it
        x.values[1] = 0;
        const { native, cpu } = await compare(kernel, { x }, attrs);
        expect(Number.isNaN(native.values[0])).toBe(true);
        expect(relativeError(native.values.slice(1), cpu.values.slice(1))).toBe(0);
      });
    }
  }
});

const reduceCases: Array<[number[], number | number[], boolean, boolean]> = [
  [[2, 3, 4, 5], [0, 1, 2], false, true],
  [[2, 3, 4, 5], [0, 1, 2], true, true],
  [[2, 3, 4, 5], [2, 1, 0], false, true],
  [[2, 3, 4, 5], [0, 1, 2, 3], false, true],
  [[2, 3, 4, 5], -4, false, true],
  [[128, 16, 16, 8], [0, 1, 2], false, true],
  [[128, 16, 16, 8], [0, 1, 2, 3], true, true],
  [[1000], 0, false, true],
  [[2, 3, 4, 5], 3, false, true], // the last axis: outer 24, rows 5, inner 1
  [[2, 3, 4, 5], [1, 2], false, true], // global average pooling: [2, 12, 5]
  [[2, 3, 4, 5], [1, 2], true, true],
  [[8, 8, 8, 64], [1, 2], false, true],
  [[2, 3, 4, 5], [0, 2], false, false], // not adjacent: the fallback's
  [[2, 3, 4, 5], [1, 3], false, false],
];

d(`native Sum and Mean match cpu${skipReason}`, () => {
  for (const kernel of [tf.Sum, tf.Mean]) {
    it.each(
      reduceCases.map((c) => [JSON.stringify(c[0]), JSON.stringify(c[1]), c[2], ...c] as const),
    )(`${kernel} %s over %s keepDims %s`, async (_, __, ___, shape, axis, keepDims, native) => {
      expect(reducePlan(shape, axis, keepDims) !== null).toBe(native);
      const { error } = await compare(kernel, { x: host(shape, 4) }, { axis, keepDims });
      expect(error).toBeLessThan(1e-5);
    });
  }
});

d(`native Tile matches cpu${skipReason}`, () => {
  it.each([
    [[1, 1, 1, 5], [2, 3, 4, 1], true],
    [[1, 1, 8], [128, 256, 1], true],
    [[2, 3], [1, 1], true],
    [[1, 3], [4, 2], false], // repeats inside the block: the fallback's
    [[2, 1, 3], [2, 3, 1], false],
    [[8, 1, 1, 64], [1, 8, 8, 1], true], // global average pooling's gradient: outer 8
    [[2, 1, 3], [1, 4, 1], true],
    [[2, 1, 1, 3], [1, 2, 1, 1], true],
    [[2, 1, 3, 1], [1, 2, 1, 2], false], // two runs of repeated axes
  ] as Array<[number[], number[], boolean]>)('%j by %j', async (shape, reps, native) => {
    expect(tilePlan(shape, reps) !== null).toBe(native);
    const { error } = await compare(tf.Tile, { x: host(shape, 5) }, { reps });
    expect(error).toBe(0);
  });
});

d(`native Softmax gives cpu's bits${skipReason}`, () => {
  const special = (shape: number[], seed: number, put: Array<[number, number]>): HostTensor => {
    const t = host(shape, seed);
    for (const [i, v] of put) t.values[i] = v;
    return t;
  };
  it.each([
    ['the TF MNIST sample output', host([32, 10], 3), -1],
    ['rank 3, dim given', host([3, 4, 5], 4), 2],
    ['one class', host([6, 1], 5), -1],
    ['wide rows past the block of 512, threaded', host([1100, 40], 6), -1],
    [
      'large logits (exp would overflow without the max)',
      special([2, 3], 7, [
        [0, 500],
        [4, -800],
      ]),
      -1,
    ],
    [
      'NaN, ±∞ in rows',
      special([4, 3], 8, [
        [0, NaN],
        [3, Infinity],
        [7, -Infinity],
        [8, -Infinity],
      ]),
      -1,
    ],
    [
      'a row all −∞',
      special([2, 2], 9, [
        [0, -Infinity],
        [1, -Infinity],
      ]),
      -1,
    ],
  ] as Array<[string, HostTensor, number]>)('%s', async (_name, logits, dim) => {
    const { native, cpu } = await compare(tf.Softmax, { logits }, { dim });
    // the native-on-wasm engine keeps wasm's own Softmax; doconv-native gives cpu's bits
    if (NATIVE_HOST === 'doconv-native') expect(native.values).toEqual(cpu.values); // NaN = NaN here
  });

  it.skipIf(NATIVE_HOST !== 'doconv-native')('runs natively on doconv-native', () => {
    expect(tf.getKernel(tf.Softmax, NATIVE_HOST)?.kernelFunc).not.toBe(
      tf.getKernel(tf.Softmax, 'cpu')?.kernelFunc,
    );
  });

  it("a softmax over another axis is the fallback's (cpu refuses it, naming the dimension)", async () => {
    await expect(compare(tf.Softmax, { logits: host([3, 4], 1) }, { dim: 0 })).rejects.toThrow(
      /Softmax along a non-last dimension/,
    );
    await tf.setBackend(NATIVE_HOST);
  });
});

d(`native Slice and PadV2 match cpu${skipReason}`, () => {
  it.each([
    [
      [4, 5, 6, 3],
      [1, 0, 2, 0],
      [2, 5, 3, 3],
    ],
    [
      [4, 5, 6, 3],
      [0, 0, 0, 0],
      [-1, -1, -1, -1],
    ],
    [[10], [3], [4]],
    [
      [2, 2, 3, 2, 3, 4],
      [1, 0, 1, 0, 1, 1],
      [1, 2, 2, 2, 2, 3],
    ],
    [
      [4, 5, 6, 3],
      [1, 1, 1, 1],
      [0, 2, 2, 2],
    ],
    [
      [32, 16, 16, 16],
      [0, 1, 1, 0],
      [32, 14, 14, 16],
    ], // ZeroPadding2D's gradient, threaded
  ])('Slice %j from %j size %j', async (shape, begin, size) => {
    const { error } = await compare(tf.Slice, { x: host(shape, 6) }, { begin, size });
    expect(error).toBe(0);
  });

  it.each([
    [
      [32, 14, 14, 16],
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      0,
    ],
    [
      [3, 4],
      [
        [2, 0],
        [0, 3],
      ],
      0,
    ],
    [
      [2, 1, 2, 1, 2, 2],
      [
        [1, 0],
        [0, 1],
        [1, 1],
        [0, 0],
        [2, 0],
        [0, 1],
      ],
      0,
    ],
    [
      [3, 4],
      [
        [1, 1],
        [1, 1],
      ],
      2.5,
    ], // another constant: the fallback's
  ])('PadV2 %j by %j with %d', async (shape, paddings, constantValue) => {
    const { error } = await compare(tf.PadV2, { x: host(shape, 7) }, { paddings, constantValue });
    expect(error).toBe(0);
  });

  // The addon collapses dimensions the box spans whole into the one outside them; a plain loop over
  // every element of the box is the reference. Shapes mix whole and partial dimensions at every
  // position (a whole innermost one is ZeroPadding2D of a one-channel image).
  it.each([
    [
      [32, 30, 30, 1],
      [32, 28, 28, 1],
      [0, 1, 1, 0],
    ],
    [
      [3, 6, 6, 4],
      [3, 4, 4, 4],
      [0, 1, 1, 0],
    ],
    [
      [3, 6, 6, 4],
      [2, 6, 6, 4],
      [1, 0, 0, 0],
    ],
    [
      [3, 6, 6, 4],
      [3, 6, 2, 4],
      [0, 0, 3, 0],
    ],
    [
      [3, 6, 6, 4],
      [3, 6, 6, 2],
      [0, 0, 0, 1],
    ],
    [
      [3, 6, 6, 4],
      [3, 6, 6, 4],
      [0, 0, 0, 0],
    ],
    [
      [2, 3, 1, 4, 1, 5],
      [2, 2, 1, 4, 1, 3],
      [0, 1, 0, 0, 0, 2],
    ],
    [
      [2, 3, 2, 4, 3, 5],
      [1, 3, 1, 4, 3, 5],
      [1, 0, 1, 0, 0, 0],
    ],
    [[7], [3], [2]],
  ])('boxCopy of big %j, box %j at %j matches a plain loop both ways', (big, box, at) => {
    const rank = big.length;
    const padded = (v: number[]) => [...v, ...new Array(6 - rank).fill(0)];
    const bigN = big.reduce((a, b) => a * b, 1);
    const boxN = box.reduce((a, b) => a * b, 1);
    // Flat index in big of the box's element `k` (row-major over the box).
    const bigIndex = (k: number) => {
      let index = 0;
      for (let i = 0, rest = k, stride = boxN; i < rank; i++) {
        stride /= box[i];
        const coord = Math.floor(rest / stride);
        rest -= coord * stride;
        index = index * big[i] + at[i] + coord;
      }
      return index;
    };
    const geom = (toBig: boolean) =>
      Int32Array.from([rank, ...padded(big), ...padded(box), ...padded(at), toBig ? 1 : 0]);
    const bigValues = Float32Array.from({ length: bigN }, (_, i) => i + 0.5);
    const small = new Float32Array(boxN).fill(-1);
    addon!.boxCopy(null, geom(false), bigValues, small);
    expect(small).toEqual(Float32Array.from({ length: boxN }, (_, k) => bigValues[bigIndex(k)]));

    const target = new Float32Array(bigN).fill(-7);
    const values = Float32Array.from({ length: boxN }, (_, k) => k + 1);
    addon!.boxCopy(null, geom(true), target, values);
    const want = new Float32Array(bigN).fill(-7);
    for (let k = 0; k < boxN; k++) want[bigIndex(k)] = values[k];
    expect(target).toEqual(want);
  });

  it('refuses a box outside the tensor in the addon itself, naming the dimension', () => {
    const heap = new ArrayBuffer(256);
    const geom = Int32Array.from([2, 3, 4, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0]);
    expect(() => addon!.boxCopy(heap, geom, 0, 128)).toThrow(
      /native boxCopy: bad geometry: dimension 0: the box \[2, \+2\) must lie in 0\.\.3/,
    );
  });
});

d(`native MaxPool and its gradient match cpu${skipReason}`, () => {
  it.each([
    [[2, 8, 8, 3], 2, 2, 'valid'],
    [[2, 7, 9, 5], 3, 2, 'same'],
    [[1, 6, 6, 2], [2, 3], [1, 2], 'valid'],
    [[32, 24, 24, 20], 2, 2, 'valid'], // LeNet's first pool, threaded
    [[2, 5, 5, 3], 3, 1, 'same'],
  ] as const)('%j, filter %j, strides %j, %s', async (shape, filterSize, strides, pad) => {
    const x = host([...shape], 8);
    x.values[0] = NaN; // never the max (an all-NaN window would give −∞)
    x.values[3] = x.values[3 + shape[3]]; // a tie: the first one wins
    const attrs = { filterSize, strides, pad, dimRoundingMode: undefined };
    const pooled = await compare(tf.MaxPool, { x }, attrs);
    expect(relativeError(pooled.native.values, pooled.cpu.values)).toBe(0);
    const dy = host(pooled.cpu.shape, 9);
    const inputs = { dy, input: x, output: pooled.cpu };
    const { error } = await compare(tf.MaxPoolGrad, inputs, attrs);
    // Overlapping windows add several dy into one dx, in another order than cpu's.
    expect(error).toBeLessThan(1e-6);
  });
});

d(`native FusedBatchNorm matches cpu${skipReason}`, () => {
  it.each([
    [[2, 3, 4, 5], true, true],
    [[2, 3, 4, 5], false, true],
    [[2, 3, 4, 5], true, false],
    [[128, 16, 16, 8], true, true],
    [[6, 5], true, true],
  ] as Array<[number[], boolean, boolean]>)('%j scale %s offset %s', async (shape, s, o) => {
    const c = shape[shape.length - 1];
    const variance = host([c], 7);
    variance.values = variance.values.map((v) => v + 1.5);
    const inputs: Record<string, HostTensor> = { x: host(shape, 6), mean: host([c], 8), variance };
    if (s) inputs.scale = host([c], 9);
    if (o) inputs.offset = host([c], 10);
    const { error } = await compare(tf.FusedBatchNorm, inputs, { varianceEpsilon: 1e-3 });
    expect(error).toBeLessThan(1e-6);
  });

  it('hands a non-per-channel mean to wasm', async () => {
    const { error } = await compare(
      tf.FusedBatchNorm,
      { x: host([2, 3, 4], 6), mean: host([3, 4], 8), variance: host([3, 4], 7) },
      { varianceEpsilon: 2 },
    );
    expect(error).toBeLessThan(1e-6);
  });
});

d(`native Concat and SplitV match cpu${skipReason}`, () => {
  it.each([
    [
      [
        [2, 3, 4, 5],
        [2, 3, 4, 7],
      ],
      3,
    ],
    [
      [
        [2, 3, 4, 5],
        [2, 3, 1, 5],
        [2, 3, 2, 5],
      ],
      2,
    ],
    [
      [
        [2, 3, 4, 5],
        [1, 3, 4, 5],
      ],
      0,
    ],
    [
      [
        [2, 3, 4, 5],
        [2, 3, 4, 0],
        [2, 3, 4, 2],
      ],
      -1,
    ],
    [
      [
        [32, 16, 16, 64],
        [32, 16, 16, 64],
      ],
      3,
    ],
  ] as Array<[number[][], number]>)('Concat %j on axis %i', async (shapes, axis) => {
    const native = await runConcat(NATIVE_HOST, shapes, axis);
    const cpu = await runConcat('cpu', shapes, axis);
    expect(native.shape).toEqual(cpu.shape);
    expect(relativeError(native.values, cpu.values)).toBe(0);
  });

  it.each([
    [[2, 3, 4, 12], 3, 3],
    [[2, 3, 4, 12], [5, -1, 2], 3],
    [[2, 6, 4, 5], [1, 5], 1],
    [[32, 16, 16, 128], 2, 3],
  ] as Array<[number[], number | number[], number]>)(
    'SplitV %j by %j on axis %i',
    async (shape, splits, axis) => {
      const x = host(shape, 30);
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const t = tf.tensor(x.values, x.shape);
        const parts = tf.split(t, splits, axis);
        const out = await Promise.all(
          parts.map(async (p) => ({ shape: p.shape, values: await p.data() })),
        );
        tf.dispose([t, ...parts]);
        return out;
      };
      const native = await run(NATIVE_HOST);
      const cpu = await run('cpu');
      await tf.setBackend(NATIVE_HOST);
      expect(native.map((p) => p.shape)).toEqual(cpu.map((p) => p.shape));
      native.forEach((p, i) => expect(relativeError(p.values, cpu[i].values)).toBe(0));
    },
  );
});

/** tf.concat of seeded parts on `backend`. */
async function runConcat(backend: string, shapes: number[][], axis: number) {
  await tf.setBackend(backend);
  const ts = shapes.map((s, i) => tf.tensor(host(s, 20 + i).values, s));
  const y = tf.concat(ts, axis);
  const out = { shape: y.shape, values: await y.data() };
  tf.dispose([y, ...ts]);
  await tf.setBackend(NATIVE_HOST);
  return out;
}

d(`native element-wise kernels and thread counts${skipReason}`, () => {
  it('gives the same sums bit for bit on repeat, and within rounding across thread counts', async () => {
    const x = host([128, 32, 32, 16], 11);
    const attrs = { axis: [0, 1, 2], keepDims: false };
    const before = addon!.getThreads();
    const results: Float32Array[] = [];
    try {
      for (const threads of [1, 2, 2, 3]) {
        addon!.setThreads(threads);
        results.push((await runKernelOn(NATIVE_HOST, tf.Sum, { x }, attrs)).values);
      }
    } finally {
      addon!.setThreads(before);
    }
    expect(results[2]).toEqual(results[1]);
    expect(relativeError(results[1], results[0])).toBeLessThan(1e-6);
    expect(relativeError(results[3], results[0])).toBeLessThan(1e-6);
  });

  it('refuses a region outside the heap, naming the kernel and the argument', () => {
    const heap = new ArrayBuffer(64);
    expect(() => addon!.binary(heap, Int32Array.of(0, 5, 4, 0, 0), 0, 0, 0)).toThrow(
      /native binary: a at byte offset 0 with 20 float32 elements is outside the heap \(64 bytes\)/,
    );
    expect(() => addon!.reduceRows(heap, Int32Array.of(-1, 4, 1), 0, 0, 1)).toThrow(
      /native reduceRows: bad geometry: rows, inner and outer must be ≥ 0/,
    );
    expect(() =>
      addon!.reduceRows(heap, Int32Array.of(2 ** 30, 2 ** 30, 2 ** 30), 0, 0, 1),
    ).toThrow(/native reduceRows: bad geometry: outer · rows · inner is too large/);
    expect(() => addon!.tile(heap, Int32Array.of(4, 2, 3), 0, 16)).toThrow(
      /native tile: y at byte offset 16 with 24 float32 elements is outside the heap \(64 bytes\)/,
    );
    expect(() => addon!.unary(heap, Int32Array.of(9, 4), 0, 16, 0)).toThrow(
      /native unary: bad geometry: unknown op 9/,
    );
  });
});

d(`native one-pass gradients (ReLU, BatchNorm sums) match cpu's${skipReason}`, () => {
  /** Gradients of Σ f(inputs)·r on `backend`. */
  async function grads(
    backend: string,
    f: (...xs: tf.Tensor[]) => tf.Tensor,
    inputs: HostTensor[],
  ): Promise<Float32Array[]> {
    await tf.setBackend(backend);
    const ts = inputs.map((h) => tf.tensor(h.values, h.shape));
    const y = f(...ts);
    const r = tf.tensor(host(y.shape, 40).values, y.shape);
    const gs = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(ts);
    const out = await Promise.all(gs.map((g) => g.data() as Promise<Float32Array>));
    tf.dispose([...ts, y, r, ...gs]);
    await tf.setBackend(NATIVE_HOST);
    return out;
  }

  it.each([[[7]], [[2, 3, 4, 5]], [[128, 16, 16, 8]]])(
    'ReLU on %j (NaN and 0 included)',
    async (shape) => {
      const x = host(shape, 41);
      x.values[0] = NaN;
      x.values[1] = 0;
      const [native] = await grads(NATIVE_HOST, (t) => tf.relu(t), [x]);
      const [cpu] = await grads('cpu', (t) => tf.relu(t), [x]);
      expect(Number.isNaN(native[0])).toBe(true);
      expect(native[1]).toBe(0);
      expect(relativeError(native.slice(1), cpu.slice(1))).toBe(0);
    },
  );

  async function forward(backend: string, f: (x: tf.Tensor) => tf.Tensor, x: HostTensor) {
    await tf.setBackend(backend);
    const t = tf.tensor(x.values, x.shape);
    const y = f(t);
    const out = (await y.data()) as Float32Array;
    tf.dispose([t, y]);
    await tf.setBackend(NATIVE_HOST);
    return out;
  }

  // Values around both bounds, the bounds themselves, NaN: masks and clipped values alike.
  const nearBounds = (shape: number[], seed: number, scale: number) => {
    const x = host(shape, seed);
    x.values.forEach((v, i) => (x.values[i] = v * scale));
    x.values.set([NaN, 0, 6, -1, 7, 1e-3]);
    return x;
  };
  const clip = (t: tf.Tensor) => tf.clipByValue(t, -1, 6);
  it.each([
    ['ClipByValue', clip],
    ['Relu6', (t: tf.Tensor) => tf.relu6(t)],
  ] as const)('%s: forward and gradient as cpu (NaN included)', async (_, f) => {
    for (const shape of [[7], [2, 3, 4, 5], [128, 16, 16, 8]]) {
      const x = nearBounds(shape, 46, 8);
      const native = await forward(NATIVE_HOST, f, x);
      const cpu = await forward('cpu', f, x);
      expect(Number.isNaN(native[0])).toBe(true);
      expect(relativeError(native.slice(1), cpu.slice(1))).toBe(0);
      const [gNative] = await grads(NATIVE_HOST, f, [x]);
      const [gCpu] = await grads('cpu', f, [x]);
      expect(Object.is(gNative[0], gCpu[0]) || (isNaN(gNative[0]) && isNaN(gCpu[0]))).toBe(true);
      expect(relativeError(gNative.slice(1), gCpu.slice(1))).toBe(0);
    }
  });

  it('runs ClipByValue and Relu6 and their gradients as one kernel each', async () => {
    await tf.setBackend(NATIVE_HOST);
    const x = tf.tensor(nearBounds([8, 4, 4, 3], 47, 8).values, [8, 4, 4, 3]);
    const { kernelNames } = await tf.profile(() => {
      tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(tf.relu6(clip(t))))(x));
    });
    expect(kernelNames).toEqual(expect.arrayContaining(['ClipByValue', 'Relu6', 'DoconvClipGrad']));
    for (const name of ['GreaterEqual', 'LessEqual', 'LogicalAnd', 'Select', 'Step']) {
      expect(kernelNames).not.toContain(name);
    }
    x.dispose();
  });

  it.each([[[4, 5, 6, 3]], [[64, 16, 16, 16]]])(
    'BatchNorm in training (moments, then batchNorm) on %j: x, scale and offset',
    async (shape) => {
      const c = shape[3];
      const bn = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.batchNorm(x, mean, variance, offset, scale, 1e-3);
      };
      const inputs = [host(shape, 42), host([c], 43), host([c], 44)];
      const native = await grads(NATIVE_HOST, bn, inputs);
      const cpu = await grads('cpu', bn, inputs);
      native.forEach((g, i) => expect(relativeError(g, cpu[i])).toBeLessThan(2e-5));
    },
  );

  it('runs them as one kernel each (no Step, no Sub in the backward pass)', async () => {
    await tf.setBackend(NATIVE_HOST);
    const x = tf.tensor(host([8, 4, 4, 3], 45).values, [8, 4, 4, 3]);
    const { kernelNames } = await tf.profile(() => {
      const { mean } = tf.moments(x, [0, 1, 2]);
      const f = (t: tf.Tensor) =>
        tf.sum(
          tf.relu(
            tf.batchNorm(t, mean, tf.onesLike(mean), tf.zerosLike(mean), tf.onesLike(mean), 1e-3),
          ),
        );
      tf.dispose(tf.grad(f)(x));
    });
    expect(kernelNames).toEqual(
      expect.arrayContaining(['DoconvReluGrad', 'DoconvBatchNormGradSums']),
    );
    expect(kernelNames).not.toContain('Step');
    x.dispose();
  });

  it('the BatchNorm sums kernel names itself and the shapes on a mismatch', () => {
    const dy = tf.zeros([2, 3, 4]);
    const x = tf.zeros([2, 3, 4]);
    const mean = tf.zeros([3]);
    expect(() => tf.engine().runKernel('DoconvBatchNormGradSums', { dy, x, mean }, {})).toThrow(
      /doconv native DoconvBatchNormGradSums: dy and x must be float32 \[\.\.\., C\] of one shape and mean \[C\], got dy \[2,3,4\], x \[2,3,4\], mean \[3\]/,
    );
    tf.dispose([dy, x, mean]);
  });
});

/** Bit patterns equal, every NaN counted equal to every NaN. */
function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (isNaN(v) && isNaN(b[i])))
  );
}

d(`native Exp and Log over their whole range match cpu bit for bit${skipReason}`, () => {
  // Exp's polynomial is checked where float's exp under- and overflows, at ±∞ and NaN, and over
  // a dense sweep; Log at 0, below 0, at denormals and ∞.
  const specials = [0, -0, 1, -1, 88.72, 88.73, 89, 100, -87.3, -103.97, -104, -110, -200];
  const sweep = Array.from({ length: 300_000 }, (_, i) => -120 + (i * 220) / 300_000);
  const values = new Float32Array([...specials, Infinity, -Infinity, NaN, 1e-45, 3e38, ...sweep]);
  it.each([tf.Exp, tf.Log])('%s', async (kernel) => {
    const x = { values, shape: [values.length] };
    const { native, cpu } = await compare(kernel, { x });
    expect(sameFloats(native.values, cpu.values)).toBe(true);
  });
});

d(`native Tanh over its whole range matches cpu bit for bit${skipReason}`, () => {
  // The fast path (a polynomial near 0, exp(−2|x|) beyond) hands a value to libm's tanh when it
  // lies too near a float rounding boundary to be sure: checked over every 2 011th bit pattern
  // (both signs, denormals, ±∞, NaN), a dense sweep across both paths and their border, and where
  // tanh reaches ±1.
  const specials = [0, -0, 0.0625, -0.0625, 0.06249999, 0.06250001, 9, 9.02, 20, 1e-45, 3e38];
  const sweep = Array.from({ length: 200_000 }, (_, i) => -12 + (i * 24) / 200_000);
  const bits = new Uint32Array(Math.ceil(2 ** 32 / 2011));
  for (let i = 0; i < bits.length; i++) bits[i] = i * 2011;
  const patterns = new Float32Array(bits.buffer);
  const values = new Float32Array([...specials, Infinity, -Infinity, NaN, ...sweep, ...patterns]);
  it('Tanh', async () => {
    const x = { values, shape: [values.length] };
    const { native, cpu } = await compare(tf.Tanh, { x });
    expect(sameFloats(native.values, cpu.values)).toBe(true);
  });
});

d(`native Max matches cpu${skipReason}`, () => {
  it.each([
    [[2, 3, 4, 11], -1, false], // softmax's row max
    [[2, 3, 4, 11], [3], true],
    [[2, 3, 4, 5], [1, 2], false],
    [[128, 16, 16, 8], 3, true], // past the threaded-loop threshold
    [[1000], 0, false],
    [[7, 1], 1, false], // one row: a copy
  ] as Array<[number[], number | number[], boolean]>)(
    '%j over %j keepDims %s',
    async (shape, reductionIndices, keepDims) => {
      expect(reducePlan(shape, reductionIndices, keepDims)).not.toBeNull();
      const x = host(shape, 6);
      x.values[3] = NaN; // sticks, wherever in the run it comes
      x.values[x.values.length - 1] = Infinity;
      const { native, cpu } = await compare(tf.Max, { x }, { reductionIndices, keepDims });
      expect(sameFloats(native.values, cpu.values)).toBe(true);
    },
  );
});

d(`native ResizeBilinear and its gradient match cpu${skipReason}`, () => {
  const cases: Array<[number[], [number, number], boolean, boolean]> = [
    [[2, 4, 4, 3], [8, 8], false, false], // DeepLab's 2× upsampling
    [[2, 4, 4, 3], [8, 8], true, false],
    [[2, 4, 4, 3], [8, 8], false, true],
    [[1, 5, 5, 2], [3, 3], false, false], // downsampling
    [[1, 5, 5, 2], [1, 1], true, false], // alignCorners with one output pixel
    [[1, 1, 1, 4], [4, 4], false, false],
    [[32, 32, 32, 11], [64, 64], false, false], // past the threaded-loop threshold
  ];
  it.each(cases)('%j to %j alignCorners %s halfPixelCenters %s', async (shape, size, ac, hp) => {
    const attrs = { size, alignCorners: ac, halfPixelCenters: hp };
    const images = host(shape, 7);
    const fwd = await compare(tf.ResizeBilinear, { images }, attrs);
    expect(sameFloats(fwd.native.values, fwd.cpu.values)).toBe(true);
    const dy = host([shape[0], ...size, shape[3]], 8);
    const grad = await compare(tf.ResizeBilinearGrad, { images, dy }, attrs);
    expect(sameFloats(grad.native.values, grad.cpu.values)).toBe(true);
  });

  it('gives the gradient the images’ shape when they are not square (cpu swaps height and width)', async () => {
    const attrs = { size: [6, 10], alignCorners: false, halfPixelCenters: false };
    const images = host([2, 3, 5, 2], 9);
    const dy = host([2, 6, 10, 2], 10);
    const native = await runKernelOn(NATIVE_HOST, tf.ResizeBilinearGrad, { images, dy }, attrs);
    const cpu = await runKernelOn('cpu', tf.ResizeBilinearGrad, { images, dy }, attrs);
    await tf.setBackend(NATIVE_HOST);
    expect(native.shape).toEqual([2, 3, 5, 2]);
    expect(cpu.shape).toEqual([2, 5, 3, 2]); // TF.js 4.22's cpu kernel; the values are laid out as ours
    expect(sameFloats(native.values, cpu.values)).toBe(true);
  });
});
