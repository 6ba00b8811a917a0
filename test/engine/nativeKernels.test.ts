/**
 * Each native kernel (oneDNN over the wasm heap) against the cpu backend's kernel: the conv sweep
 * the wasm kernels run too (./convSweep.ts), then what only the native engine has (fused conv
 * epilogues, BatchMatMul, its fallbacks, its errors, the strided 1×1 thread regression).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  nativeBackendKernelConfigs,
  nativeKernelConfigs,
} from '../../src/engine/native/nativeKernels.js';
import { TOL, forwardCases, sweepConvKernels } from './convSweep.js';
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

d(`native engine registration${skipReason}`, () => {
  it(`registers the conv, matmul and element-wise kernels on ${NATIVE_HOST}`, () => {
    const ours = new Set(
      (NATIVE_HOST === 'wasm' ? nativeKernelConfigs : nativeBackendKernelConfigs).map(
        (c) => c.kernelFunc,
      ),
    );
    const running = tf
      .getKernelsForBackend(NATIVE_HOST)
      .filter((c) => ours.has(c.kernelFunc))
      .map((c) => c.kernelName);
    expect(running.sort()).toEqual(
      [
        ...(NATIVE_HOST === 'wasm' ? [] : ['_FusedMatMul', 'Softmax']),
        'Conv2D',
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'DepthwiseConv2dNative',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'FusedConv2D',
        'FusedDepthwiseConv2D',
        'BatchMatMul',
        'Add',
        'Sub',
        'Multiply',
        'RealDiv',
        'Relu',
        'Step',
        'Square',
        'Neg',
        'Exp',
        'Tanh',
        'Log',
        'Sum',
        'Mean',
        'Max',
        'Tile',
        'FusedBatchNorm',
        'Concat',
        'SplitV',
        'Slice',
        'PadV2',
        'ResizeBilinear',
        'ResizeBilinearGrad',
        'MaxPool',
        'MaxPoolGrad',
        'ClipByValue',
        'Relu6',
        'DoconvReluGrad',
        'DoconvAddRelu',
        'DoconvClipGrad',
        'DoconvBatchNormGradSums',
        'DoconvBatchNormTraining',
        'DoconvBatchNormTrainingGradInput',
        'DoconvBatchNormReluTraining',
        'DoconvBatchNormReluGradSums',
        'DoconvBatchNormReluGradInput',
        'DoconvSoftmaxCrossEntropy',
        'DoconvSoftmaxCrossEntropyGrad',
        'DoconvComposeKernel',
        'DoconvComposeKernelGrad',
        'DoconvComposedConv2D',
        'DoconvComposedConv2DBackpropInput',
        'DoconvComposedConv2DBackpropWeights',
      ].sort(),
    );
  });

  it.runIf(NATIVE_HOST === 'doconv-native')(
    'has every cpu kernel: the ones without a native kernel are cpu’s own',
    () => {
      const native = new Set(nativeBackendKernelConfigs.map((c) => c.kernelName));
      for (const cpu of tf.getKernelsForBackend('cpu')) {
        const k = tf.getKernel(cpu.kernelName, 'doconv-native');
        expect(k, cpu.kernelName).toBeDefined();
        if (!native.has(cpu.kernelName)) expect(k!.kernelFunc).toBe(cpu.kernelFunc);
      }
    },
  );
});

sweepConvKernels({ name: 'native', backend: NATIVE_HOST, describe: d, skipReason, forward: true });

// Fused bias + activation, as tf.fused.conv2d / tf.layers' conv2dWithBiasActivation call it.
for (const depthwise of [false, true]) {
  const kernel = depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D';
  d(`${kernel} (native) matches cpu${skipReason}`, () => {
    const acts = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'];
    const fusedCases = forwardCases(3).filter((_, i) => i % 5 === 0);
    it.each(fusedCases.flatMap((c) => acts.map((a) => [`${c.name} act=${a}`, c, a] as const)))(
      '%s',
      async (_, c, activation) => {
        const [ci, m] = [3, 2];
        const x = host(c.xShape, 9);
        const filter = host([c.k[0], c.k[1], ci, depthwise ? m : 4], 10);
        const bias = host([depthwise ? ci * m : 4], 11);
        const attrs = {
          strides: c.s,
          pad: c.pad,
          dataFormat: 'NHWC',
          dilations: c.d,
          activation,
          leakyreluAlpha: 0.3,
        };
        const got = await runKernelOn(NATIVE_HOST, kernel, { x, filter, bias }, attrs);
        const want = await runKernelOn('cpu', kernel, { x, filter, bias }, attrs);
        expect(got.shape).toEqual(want.shape);
        expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
      },
    );
  });
}

d(`BatchMatMul (native) matches cpu${skipReason}`, () => {
  // [a shape, b shape] as stored (before the transposes): ranks 2–4, a single matrix broadcast.
  const shapes: Array<[string, number[], number[]]> = [
    ['2-D', [5, 3], [3, 4]],
    ['batched', [6, 5, 3], [6, 3, 4]],
    ['a broadcast', [1, 5, 3], [6, 3, 4]],
    ['b broadcast, rank 2', [6, 5, 3], [3, 4]],
    ['rank 4', [2, 3, 5, 3], [2, 3, 3, 4]],
    ['DO-Conv composition', [16, 9, 9], [16, 9, 32]],
    ['dense gradient', [32, 300], [300, 10]],
  ];
  const t = (s: number[]) => [...s.slice(0, -2), s.at(-1)!, s.at(-2)!];
  const cases = shapes.flatMap(([name, as, bs]) =>
    [false, true].flatMap((ta) =>
      [false, true].map(
        (tb) => [`${name} transposeA=${ta} transposeB=${tb}`, as, bs, ta, tb] as const,
      ),
    ),
  );
  it.each(cases)('%s', async (_, as, bs, transposeA, transposeB) => {
    const a = host(transposeA ? t(as) : as, 31);
    const b = host(transposeB ? t(bs) : bs, 32);
    const attrs = { transposeA, transposeB };
    const got = await runKernelOn(NATIVE_HOST, 'BatchMatMul', { a, b }, attrs);
    const want = await runKernelOn('cpu', 'BatchMatMul', { a, b }, attrs);
    expect(got.shape).toEqual(want.shape);
    expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
  });

  it('inner dimensions that differ are named with both shapes', async () => {
    await expect(
      runKernelOn(
        NATIVE_HOST,
        'BatchMatMul',
        { a: host([2, 5, 3], 1), b: host([2, 4, 4], 2) },
        {
          transposeA: false,
          transposeB: false,
        },
      ),
    ).rejects.toThrow(
      /native BatchMatMul: inner dimensions differ: a \[2,5,3\] has 3, b \[2,4,4\] has 4/,
    );
  });
});

// doconv-native's own: over wasm's heap wasm's fused product runs (nativeKernels.ts).
describe.skipIf(addon == null || NATIVE_HOST === 'wasm')(
  `_FusedMatMul (native: product, bias, activation) matches cpu${skipReason}`,
  () => {
    it.each([
      ['linear', true, false, false],
      ['relu', true, false, true],
      ['relu', false, true, false],
      ['linear', false, false, false],
      ['sigmoid', true, false, false], // another activation: the fallback's
    ] as const)(
      '%s, bias %s, transposeA %s, transposeB %s',
      async (activation, withBias, ta, tb) => {
        const [m, k, n] = [32, 300, 10];
        const a = host(ta ? [k, m] : [m, k], 33);
        const b = host(tb ? [n, k] : [k, n], 34);
        const inputs: Record<string, HostTensor> = withBias
          ? { a, b, bias: host([n], 35) }
          : { a, b };
        const attrs = { transposeA: ta, transposeB: tb, activation };
        const got = await runKernelOn(NATIVE_HOST, '_FusedMatMul', inputs, attrs);
        const want = await runKernelOn('cpu', '_FusedMatMul', inputs, attrs);
        expect(got.shape).toEqual([m, n]);
        expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
      },
    );
  },
);

d(`native kernels hand what they do not run to the wasm kernel${skipReason}`, () => {
  it('PReLU and a 1×1 depthwise scale (wasm kernels) still give cpu’s answer', async () => {
    const x = host([2, 6, 6, 3], 1);
    const filter = host([3, 3, 3, 4], 2);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const prelu = { ...attrs, activation: 'prelu' };
    const alpha = host([4], 3);
    const inputs = { x, filter, preluActivationWeights: alpha };
    const got = await runKernelOn(NATIVE_HOST, 'FusedConv2D', inputs, prelu);
    const want = await runKernelOn('cpu', 'FusedConv2D', inputs, prelu);
    expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
    const scale = { x, filter: host([1, 1, 3, 1], 4) };
    const got2 = await runKernelOn(NATIVE_HOST, 'DepthwiseConv2dNative', scale, attrs);
    const want2 = await runKernelOn('cpu', 'DepthwiseConv2dNative', scale, attrs);
    expect(relativeError(got2.values, want2.values)).toBeLessThan(TOL);
  });
});

d(`native kernels reject bad shapes naming the kernel and the shape${skipReason}`, () => {
  it('channel mismatch', async () => {
    await expect(
      runKernelOn(
        NATIVE_HOST,
        'Conv2D',
        { x: host([1, 5, 5, 3], 1), filter: host([3, 3, 2, 4], 2) },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 },
      ),
    ).rejects.toThrow(
      /native Conv2D: x has 3 channels \(shape \[1,5,5,3\]\) but the filter expects 2/,
    );
  });

  it('dy of the wrong shape', async () => {
    await expect(
      runKernelOn(
        NATIVE_HOST,
        'Conv2DBackpropFilter',
        { x: host([1, 5, 5, 3], 1), dy: host([1, 4, 4, 2], 2) },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 2] },
      ),
    ).rejects.toThrow(
      /native Conv2DBackpropFilter: dy has shape \[1,4,4,2\], the conv's output is \[1,5,5,2\]/,
    );
  });

  it('a number pad with unequal axes, which TF.js sizes wrongly', async () => {
    await expect(
      runKernelOn(
        NATIVE_HOST,
        'Conv2D',
        { x: host([1, 7, 5, 3], 1), filter: host([3, 1, 3, 4], 2) },
        { strides: 1, pad: 1, dataFormat: 'NHWC', dilations: 1 },
      ),
    ).rejects.toThrow(
      /native Conv2D: pad 1 with filter 3×1.*explicit padding \[\[0, 0\], \[1, 1\], \[1, 1\], \[0, 0\]\]/,
    );
  });

  it('rank-3 input', async () => {
    await expect(
      runKernelOn(
        NATIVE_HOST,
        'Conv2DBackpropInput',
        { dy: host([1, 5, 5, 2], 1), filter: host([3, 3, 3, 2], 2) },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [5, 5, 3] },
      ),
    ).rejects.toThrow(
      /native Conv2DBackpropInput: inputShape must be rank 4 \(NHWC \/ HWIO\), got shape \[5,5,3\]/,
    );
  });

  it('the addon checks offsets and geometry itself', () => {
    const heap = new ArrayBuffer(1024);
    const geom = Int32Array.from([1, 4, 4, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(() => addon!.convForward(heap, geom, 0, 128, -1, 2000, 0)).toThrow(
      /native convForward: y at byte offset 2000 with 32 float32 elements is outside the heap \(1024 bytes\)/,
    );
    const bad = geom.slice();
    bad[4] = 5;
    expect(() => addon!.convForward(heap, bad, 0, 128, -1, 512, 0)).toThrow(
      /native convForward: bad geometry: output 5x4 does not follow/,
    );
    expect(() => addon!.convForward(heap, new Int32Array(3), 0, 0, -1, 0, 0)).toThrow(
      /native convForward: geometry must be an Int32Array of 20 fields/,
    );
  });
});

d(`native engine: oneDNN 2.6's strided 1×1 convs on two threads${skipReason}`, () => {
  // Its jit_1x1 backward-weights pass corrupted the process heap on two threads in about half of
  // such runs (glibc abort: the worker dies and this test with it); the engine runs them on one.
  it('3 000 backward-weights calls of x [3,8,8,3], strides [1,2] on 2 threads stay right', async () => {
    const x = tf.tensor(host([3, 8, 8, 3], 1).values, [3, 8, 8, 3]);
    const dy = tf.tensor(host([3, 8, 4, 4], 2).values, [3, 8, 4, 4]);
    const attrs = { strides: [1, 2], pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 3, 4] };
    const run = () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs as never) as tf.Tensor;
    const before = addon!.getThreads();
    try {
      addon!.setThreads(1);
      const ref = run();
      const want = await ref.data();
      ref.dispose();
      addon!.setThreads(2);
      let worst = 0;
      for (let i = 0; i < 3000; i++) {
        const t = run();
        worst = Math.max(worst, relativeError(t.dataSync(), want));
        t.dispose();
      }
      expect(worst).toBe(0);
    } finally {
      addon!.setThreads(before);
      tf.dispose([x, dy]);
    }
  });
});
