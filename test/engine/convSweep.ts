/**
 * The conv parameter sweep shared by the wasm and native kernel tests: kernel sizes (incl. 1×1 and
 * 3×1), strides, dilations, same/valid/explicit padding, odd sizes and batch 1; and the sweep of
 * each conv kernel against the cpu backend's, run by both engines' tests (sweepConvKernels).
 * Dilated backprops: TF.js's own backprop kernels ignore dilations, so the reference is the cpu
 * kernel on the zero-stuffed filter (a dilated conv is a dense conv with that filter).
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import {
  Shape4,
  convOutShape,
  dilateFilter,
  host,
  relativeError,
  runKernelOn,
  undilateFilter,
} from './helpers.js';

export const TOL = 2e-5;
export type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

const kernelSizes: Array<[number, number]> = [
  [1, 1],
  [2, 2],
  [3, 3],
  [5, 5],
  [3, 1],
];
const pads: Pad[] = [
  'same',
  'valid',
  1,
  [
    [0, 0],
    [2, 1],
    [0, 3],
    [0, 0],
  ],
];
const stridesDilations: Array<{ s: [number, number]; d: [number, number] }> = [
  { s: [1, 1], d: [1, 1] },
  { s: [2, 2], d: [1, 1] },
  { s: [1, 2], d: [1, 1] },
  { s: [1, 1], d: [2, 2] },
  { s: [1, 1], d: [1, 2] },
];
const inputs: Array<{ b: number; h: number; w: number }> = [
  { b: 1, h: 7, w: 5 },
  { b: 3, h: 8, w: 8 },
];

export interface Case {
  name: string;
  xShape: Shape4;
  k: [number, number];
  s: [number, number];
  d: [number, number];
  pad: Pad;
}

/** All valid combinations for a filter with `ci` input channels (the name says which). */
export function cases(ci: number): Case[] {
  const out: Case[] = [];
  for (const k of kernelSizes)
    for (const { s, d } of stridesDilations)
      for (const pad of pads)
        for (const { b, h, w } of inputs) {
          // Skip filters that do not fit (no forward output): not a conv anyone can run.
          const y = convOutShape([b, h, w, ci], [k[0], k[1], ci, 1], s, d, pad, false);
          if (y[1] < 1 || y[2] < 1) continue;
          out.push({
            name: `k=${k.join('x')} s=${s.join(',')} d=${d.join(',')} pad=${JSON.stringify(pad)} x=${b}x${h}x${w}x${ci}`,
            xShape: [b, h, w, ci],
            k,
            s,
            d,
            pad,
          });
        }
  return out;
}

/**
 * Forward cases: TF.js sizes both output axes with the filter's height and stride when the pad is
 * a number (computeConv2DInfo), so numeric pads with unequal axes have no right answer — wasm's
 * stock kernel writes out of bounds there; the native one refuses (nativeKernels.test.ts).
 */
export const forwardCases = (ci: number): Case[] =>
  cases(ci).filter(
    (c) =>
      typeof c.pad !== 'number' || (c.k[0] === c.k[1] && c.s[0] === c.s[1] && c.d[0] === c.d[1]),
  );

/** The engine whose kernels the sweep runs (on the wasm backend, as registered by the caller). */
export interface SweepEngine {
  name: 'wasm' | 'native';
  /** The backend its kernels run on: wasm, or doconv-native for the native engine's own backend. */
  backend: 'wasm' | 'doconv-native';
  /** describe, or describe.skip when the engine is not available. */
  describe: (name: string, body: () => void) => void;
  /** Appended to every describe() name: why it is skipped, or ''. */
  skipReason: string;
  /** Sweep the forward kernels too (on wasm they are TF.js's own, not doconv's). */
  forward: boolean;
}

/** One conv family of the sweep: plain (filter [k, k, ci, co]) or depthwise ([k, k, ci, m]). */
interface Family {
  depthwise: boolean;
  ci: number;
  /** The filter's last axis: output channels, or the depthwise multiplier. */
  last: number;
  /** In the describe name. */
  label: string;
  /** Kernel names: forward, backprop filter, backprop input. */
  kernels: [string, string, string];
  /** Offset of the tensors' seeds: the plain convs draw seeds 1–4, the depthwise ones 5–8. */
  seed: number;
}

const families: Family[] = [
  // Ci < Co and Ci > Co; and Ci = 1, which wasm's Conv2DBackpropFilter runs as a depthwise conv.
  ...[
    [3, 4],
    [5, 2],
    [1, 3],
  ].map(([ci, co]): Family => ({
    depthwise: false,
    ci,
    last: co,
    label: `${ci}→${co} channels`,
    kernels: ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    seed: 0,
  })),
  ...[1, 2].map((m): Family => ({
    depthwise: true,
    ci: 3,
    last: m,
    label: `multiplier ${m}`,
    kernels: [
      'DepthwiseConv2dNative',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
    ],
    seed: 4,
  })),
];

/**
 * Whether TF.js sizes this conv's output (numeric pads size both axes with the filter's height)
 * so that the far padding would have to be negative: tfjs-backend-cpu reads out of range there,
 * so doconv-native, whose fallback it is, refuses such a call by name.
 */
function tfSizesPastTheInput(c: Case, filterShape: Shape4, depthwise: boolean): boolean {
  if (typeof c.pad !== 'number') return false;
  const info = tf.backend_util.computeConv2DInfo(
    c.xShape,
    filterShape,
    c.s,
    c.d,
    c.pad,
    undefined,
    depthwise,
  );
  const far = (out: number, inLen: number, k: number, s: number, d: number, near: number) =>
    (out - 1) * s + (k - 1) * d + 1 - inLen - near;
  const p = info.padInfo;
  return (
    far(
      info.outHeight,
      info.inHeight,
      info.filterHeight,
      info.strideHeight,
      info.dilationHeight,
      p.top,
    ) < 0 ||
    far(
      info.outWidth,
      info.inWidth,
      info.filterWidth,
      info.strideWidth,
      info.dilationWidth,
      p.left,
    ) < 0
  );
}

/** Each conv kernel of `engine` against the cpu backend's, on the sweep above. */
export function sweepConvKernels(engine: SweepEngine): void {
  const d = engine.describe;
  const named = (cs: Case[]) => cs.map((c) => [c.name, c] as const);
  for (const { depthwise, ci, last, label, kernels, seed } of families) {
    const [forward, backpropFilter, backpropInput] = kernels;
    const title = (kernel: string) =>
      `${kernel} (${engine.name}) matches cpu, ${label}${engine.skipReason}`;
    // TF.js's depthwise gradients pass no dataFormat.
    const format = depthwise ? {} : { dataFormat: 'NHWC' };

    if (engine.forward) {
      d(title(forward), () => {
        it.each(named(forwardCases(ci)))('%s', async (_, c) => {
          const x = host(c.xShape, seed + 1);
          const filter = host([c.k[0], c.k[1], ci, last], seed + 2);
          const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: c.d };
          const got = await runKernelOn(engine.backend, forward, { x, filter }, attrs);
          const want = await runKernelOn('cpu', forward, { x, filter }, attrs);
          expect(got.shape).toEqual(want.shape);
          expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
        });
      });
    }

    d(title(backpropFilter), () => {
      it.each(named(cases(ci)))('%s', async (_, c) => {
        const filterShape: Shape4 = [c.k[0], c.k[1], ci, last];
        const effShape: Shape4 = [(c.k[0] - 1) * c.d[0] + 1, (c.k[1] - 1) * c.d[1] + 1, ci, last];
        const dyShape = convOutShape(c.xShape, filterShape, c.s, c.d, c.pad, depthwise);
        const x = host(c.xShape, seed + 1);
        const dy = host(dyShape, seed + 2);
        const common = { strides: c.s, pad: c.pad, ...format, dimRoundingMode: undefined };
        const run = () =>
          runKernelOn(
            engine.backend,
            backpropFilter,
            { x, dy },
            { ...common, filterShape, dilations: c.d },
          );
        if (engine.backend === 'doconv-native' && tfSizesPastTheInput(c, filterShape, depthwise)) {
          await expect(run()).rejects.toThrow(/pass explicit padding/);
          return;
        }
        const got = await run();
        const ref = await runKernelOn(
          'cpu',
          backpropFilter,
          { x, dy },
          { ...common, filterShape: effShape, dilations: [1, 1] },
        );
        const want = undilateFilter(ref, c.k[0], c.k[1], c.d[0], c.d[1]);
        expect(got.shape).toEqual(filterShape);
        expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
      });
    });

    d(title(backpropInput), () => {
      it.each(named(cases(ci)))('%s', async (_, c) => {
        const filter = host([c.k[0], c.k[1], ci, last], seed + 3);
        const dense = dilateFilter(filter, c.d[0], c.d[1]);
        const dyShape = convOutShape(c.xShape, filter.shape as Shape4, c.s, c.d, c.pad, depthwise);
        const dy = host(dyShape, seed + 4);
        const common = {
          strides: c.s,
          pad: c.pad,
          ...format,
          dimRoundingMode: undefined,
          inputShape: c.xShape,
        };
        const run = () =>
          runKernelOn(engine.backend, backpropInput, { dy, filter }, { ...common, dilations: c.d });
        if (
          engine.backend === 'doconv-native' &&
          tfSizesPastTheInput(c, filter.shape as Shape4, depthwise)
        ) {
          await expect(run()).rejects.toThrow(/pass explicit padding/);
          return;
        }
        const got = await run();
        const want = await runKernelOn(
          'cpu',
          backpropInput,
          { dy, filter: dense },
          { ...common, dilations: [1, 1] },
        );
        expect(got.shape).toEqual(c.xShape);
        expect(relativeError(got.values, want.values)).toBeLessThan(TOL);
      });
    });
  }
}
