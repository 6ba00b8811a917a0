/**
 * npx tsx bench/nativeConvs.ts [--threads 1,2] [--windows 5] [--steps 5] [--net resnet20|mnist-sample]
 *   [--passes fdw] [--batch 128]
 * The native engine's convs alone on a net's conv shapes: forward + backward data + backward
 * weights per step, as a training step runs them. For comparing with bench/torch_convs.py and for
 * finding the threading behaviour. Writes nothing; prints ms per step per window.
 */
import { convGeomArray, type ConvGeomFields } from '../src/engine/native/nativeConvGeometry.js';
import { nativeAddonStatus } from '../src/engine/native/nativeAddon.js';
import { convOf } from '../test/engine/convSpec.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const { addon: maybeAddon, reason } = nativeAddonStatus();
if (!maybeAddon) throw new Error(`native addon: ${reason}`);
const addon = maybeAddon;

/** TF.js's 'same' padding: output ⌈h/s⌉, the odd pixel of padding at the bottom/right. */
function same(n: number, h: number, ci: number, co: number, k: number, s: number): ConvGeomFields {
  const padTotal = Math.max(0, (Math.ceil(h / s) - 1) * s + k - h);
  const [p0, p1] = [Math.floor(padTotal / 2), padTotal - Math.floor(padTotal / 2)];
  return convOf({ n, h, w: h, ci, co, k: [k, k], s: [s, s], pad: [p0, p1, p0, p1] });
}
function valid(n: number, h: number, ci: number, co: number, k: number): ConvGeomFields {
  return convOf({ n, h, w: h, ci, co, k: [k, k] });
}

function netConvs(net: string, n: number): ConvGeomFields[] {
  if (net === 'mnist-sample') return [valid(n, 28, 1, 32, 3), valid(n, 26, 32, 8, 3)];
  const shapes = [same(n, 32, 3, 16, 3, 1)];
  let h = 32,
    c = 16;
  for (const [stage, f] of [16, 32, 64].entries()) {
    for (let b = 0; b < 3; b++) {
      const s = stage > 0 && b === 0 ? 2 : 1;
      shapes.push(same(n, h, c, f, 3, s));
      const h2 = Math.ceil(h / s);
      shapes.push(same(n, h2, f, f, 3, 1));
      if (s !== 1) shapes.push(same(n, h, c, f, 1, s));
      h = h2;
      c = f;
    }
  }
  return shapes;
}

const net = arg('net', 'resnet20');
const batch = Number(arg('batch', net === 'resnet20' ? '128' : '32'));
const shapes = netConvs(net, batch);
const layout: Array<{
  geom: Int32Array;
  x: number;
  w: number;
  y: number;
  dy: number;
  dx: number;
  dw: number;
}> = [];
let offset = 0;
const alloc = (elems: number) => {
  const o = offset;
  offset += Math.ceil((elems * 4) / 64) * 64;
  return o;
};
for (const g of shapes) {
  const xs = g.n * g.h * g.w * g.ci,
    ys = g.n * g.oh * g.ow * g.co,
    ws = g.kh * g.kw * g.ci * g.co;
  layout.push({
    geom: convGeomArray(g),
    x: alloc(xs),
    w: alloc(ws),
    y: alloc(ys),
    dy: alloc(ys),
    dx: alloc(xs),
    dw: alloc(ws),
  });
}
const heap = new ArrayBuffer(offset);
const f = new Float32Array(heap);
for (let i = 0; i < f.length; i++) f[i] = Math.sin(i) * 0.1;

function step(passes: string) {
  for (const l of layout) {
    if (passes.includes('f')) addon.convForward(heap, l.geom, l.x, l.w, -1, l.y, 0);
    if (passes.includes('d')) addon.convBackwardData(heap, l.geom, l.dy, l.w, l.dx);
    if (passes.includes('w')) addon.convBackwardWeights(heap, l.geom, l.x, l.dy, l.dw);
  }
}

const windows = Number(arg('windows', '5'));
const steps = Number(arg('steps', '5'));
const passes = arg('passes', 'fdw');
for (const t of arg('threads', '1,2').split(',').map(Number)) {
  addon.setThreads(t);
  step(passes);
  step(passes);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let w = 0; w < windows; w++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let s = 0; s < steps; s++) step(passes);
    ms.push((performance.now() - t0) / steps);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / steps);
  }
  const impls = new Set(
    layout.flatMap((l) =>
      (['fwd', 'bwd_data', 'bwd_weights'] as const).map(
        (p) => `${p}=${addon.convImplInfo(l.geom, p)}`,
      ),
    ),
  );
  console.log(
    `${net} b${batch} threads=${t} passes=${passes}: ms/step ${ms.map((m) => m.toFixed(1)).join(' ')} (cpu ${cpu.map((m) => m.toFixed(1)).join(' ')})  impls: ${[...impls].join(', ')}`,
  );
}
console.log('stats', addon.stats());
