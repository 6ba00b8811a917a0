/**
 * The addon itself, below TF.js: grouped convs (no TF.js kernel asks for groups other than 1 and
 * depthwise, so they are checked against plain loops here), determinism per thread count, and
 * its buffers staying flat.
 */
import { describe, expect, it } from 'vitest';
import { convGeomArray, type ConvGeomFields } from '../../src/engine/native/nativeConvGeometry.js';
import { convOf, type ConvSpec } from './convSpec.js';
import { relativeError, seededValues } from './helpers.js';
import { addon, skipReason } from './nativeSetup.js';

const d = addon == null ? describe.skip : describe;

/** y, dx, dw of a grouped NHWC conv by plain loops; filter [kh, kw, ci/groups, co]. */
function reference(g: ConvGeomFields, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const { oh, ow } = g;
  const cig = g.ci / g.groups;
  const cog = g.co / g.groups;
  const y = new Float32Array(g.n * oh * ow * g.co);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  for (let n = 0; n < g.n; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let co = 0; co < g.co; co++) {
          const yi = ((n * oh + i) * ow + j) * g.co + co;
          const grp = Math.floor(co / cog);
          let acc = 0;
          for (let a = 0; a < g.kh; a++)
            for (let b = 0; b < g.kw; b++) {
              const ih = i * g.sh + a * g.dh - g.pt;
              const iw = j * g.sw + b * g.dw - g.pl;
              if (ih < 0 || iw < 0 || ih >= g.h || iw >= g.w) continue;
              for (let c = 0; c < cig; c++) {
                const xi = ((n * g.h + ih) * g.w + iw) * g.ci + grp * cig + c;
                const wi = ((a * g.kw + b) * cig + c) * g.co + co;
                acc += x[xi] * w[wi];
                dx[xi] += dy[yi] * w[wi];
                dw[wi] += dy[yi] * x[xi];
              }
            }
          y[yi] = acc;
        }
  return { y, dx, dw };
}

/** Runs the three passes on one ArrayBuffer, as the kernels do on the wasm heap. */
function runAddon(g: ConvGeomFields, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const geom = convGeomArray(g);
  const sizes = [x.length, w.length, dy.length, dy.length, x.length, w.length];
  const offsets: number[] = [];
  let bytes = 16; // a non-zero first offset, as on a real heap
  for (const s of sizes) {
    offsets.push(bytes);
    bytes += Math.ceil((s * 4) / 64) * 64;
  }
  const heap = new ArrayBuffer(bytes);
  const view = (i: number) => new Float32Array(heap, offsets[i], sizes[i]);
  view(0).set(x);
  view(1).set(w);
  view(2).set(dy);
  addon!.convForward(heap, geom, offsets[0], offsets[1], -1, offsets[3], 0);
  addon!.convBackwardData(heap, geom, offsets[2], offsets[1], offsets[4]);
  addon!.convBackwardWeights(heap, geom, offsets[0], offsets[2], offsets[5]);
  return { y: view(3).slice(), dx: view(4).slice(), dw: view(5).slice() };
}

const groupCases: ConvSpec[] = [
  { n: 2, h: 7, w: 6, ci: 4, co: 6, k: [3, 3], pad: [1, 1, 1, 1], groups: 2 },
  { n: 1, h: 9, w: 8, ci: 6, co: 3, k: [3, 1], s: [2, 1], pad: [0, 1, 0, 0], groups: 3 },
  { n: 3, h: 9, w: 9, ci: 4, co: 8, k: [3, 3], d: [2, 2], pad: [2, 2, 2, 2], groups: 4 },
  { n: 2, h: 8, w: 8, ci: 6, co: 6, k: [1, 1], s: [2, 2], groups: 3 },
  { n: 1, h: 5, w: 7, ci: 3, co: 3, k: [2, 2] },
];

d(`native addon: grouped convs against plain loops${skipReason}`, () => {
  it.each(groupCases.map((spec) => [JSON.stringify(spec), convOf(spec)] as const))('%s', (_, g) => {
    const x = seededValues(g.n * g.h * g.w * g.ci, 1);
    const w = seededValues(g.kh * g.kw * (g.ci / g.groups) * g.co, 2);
    const dy = seededValues(g.n * g.oh * g.ow * g.co, 3);
    const got = runAddon(g, x, w, dy);
    const want = reference(g, x, w, dy);
    expect(relativeError(got.y, want.y), 'y').toBeLessThan(2e-6);
    expect(relativeError(got.dx, want.dx), 'dx').toBeLessThan(2e-6);
    expect(relativeError(got.dw, want.dw), 'dw').toBeLessThan(2e-6);
  });
});

d(`native addon: deterministic for a thread count, flat buffers${skipReason}`, () => {
  const g = convOf({ n: 8, h: 16, w: 16, ci: 16, co: 32, k: [3, 3], pad: [1, 1, 1, 1] });
  const x = seededValues(g.n * g.h * g.w * g.ci, 4);
  const w = seededValues(g.kh * g.kw * g.ci * g.co, 5);
  const dy = seededValues(g.n * g.oh * g.ow * g.co, 6);

  it.each([1, 2])('%i thread(s): the same bits on every call', (threads) => {
    const before = addon!.getThreads();
    const parallelMin = addon!.getParallelMin();
    addon!.setThreads(threads);
    addon!.setParallelMin(0, 0); // this conv is below the default: make two threads run it
    try {
      const a = runAddon(g, x, w, dy);
      const statsAfterFirst = addon!.stats();
      for (let i = 0; i < 5; i++) {
        const b = runAddon(g, x, w, dy);
        expect(Buffer.from(b.y.buffer).equals(Buffer.from(a.y.buffer))).toBe(true);
        expect(Buffer.from(b.dx.buffer).equals(Buffer.from(a.dx.buffer))).toBe(true);
        expect(Buffer.from(b.dw.buffer).equals(Buffer.from(a.dw.buffer))).toBe(true);
      }
      // Cached primitives are reused: no new entries, no new buffers.
      expect(addon!.stats()).toEqual(statsAfterFirst);
    } finally {
      addon!.setThreads(before);
      addon!.setParallelMin(...parallelMin);
    }
  });

  it('runs work below the parallel threshold on one thread, above it on every core', () => {
    const before = addon!.getThreads();
    const parallelMin = addon!.getParallelMin();
    try {
      addon!.clearCache();
      addon!.setThreads(1);
      const one = runAddon(g, x, w, dy);
      const entries = addon!.stats().cacheEntries;
      // Above this conv's multiply-adds: two threads asked for, one used (the 1-thread primitives).
      addon!.setThreads(2);
      addon!.setParallelMin(parallelMin[0], 1e15);
      const small = runAddon(g, x, w, dy);
      expect(addon!.stats().cacheEntries).toBe(entries);
      expect(Buffer.from(small.dw.buffer).equals(Buffer.from(one.dw.buffer))).toBe(true);
      // At 0 every conv is parallel: primitives made for two threads.
      addon!.setParallelMin(parallelMin[0], 0);
      const big = runAddon(g, x, w, dy);
      expect(addon!.stats().cacheEntries).toBeGreaterThan(entries);
      expect(relativeError(big.dw, one.dw)).toBeLessThan(1e-6);
    } finally {
      addon!.setThreads(before);
      addon!.setParallelMin(...parallelMin);
    }
  });

  it('takes its default thresholds from the waiting policy, and refuses nonsense', () => {
    // The addon loads libgomp with OMP_WAIT_POLICY=passive unless the user chose (nativeAddon.ts).
    const spins = process.env.GOMP_SPINCOUNT;
    const sleeps =
      spins !== undefined
        ? Number(spins) < 1000
        : /^passive$/i.test(process.env.OMP_WAIT_POLICY ?? '');
    expect(addon!.getParallelMin()).toEqual(sleeps ? [2 ** 20, 2 ** 24] : [2 ** 15, 2 ** 22]);
    expect(() => addon!.setParallelMin(-1, 0)).toThrow(
      /native setParallelMin: elements must be an integer 0..2\^53-1, got -1/,
    );
    expect(() => addon!.setParallelMin(0, NaN)).toThrow(/multiplyAdds .* got NaN/);
  });

  it('setThreads refuses nonsense, naming the value', () => {
    expect(() => addon!.setThreads(0)).toThrow(/native setThreads: threads must be 1..1024, got 0/);
  });

  it('reports the oneDNN version and the implementation it picked', () => {
    expect(addon!.oneDnnVersion()).toMatch(/^2\.\d+\.\d+$/);
    expect(addon!.convImplInfo(convGeomArray(g), 'fwd')).toMatch(/\w+:\w+/);
  });
});
