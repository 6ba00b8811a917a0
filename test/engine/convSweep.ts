/**
 * The conv parameter sweep shared by the wasm and native kernel tests: kernel sizes (incl. 1×1 and
 * 3×1), strides, dilations, same/valid/explicit padding, odd sizes and batch 1.
 */
import { Shape4, convOutShape } from './helpers.js';

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
