/**
 * DO-Conv's overhead over Conv on one zoo net, measured the way a shared machine allows: both
 * variants in one process, alternating short windows (order reversed every other pair), the ratio
 * taken pair by pair — the two windows of a pair share the machine's load of that moment.
 *
 *   npx tsx bench/doconvOverhead.ts [--net pt-mnist-sample] [--pairs 60] [--steps 10]
 *     [--optimizer adam|sgd] [--batch N] [--backend NAME] [--out DIR]
 * Prints the median and spread of the per-pair overhead (doconv ms/step ÷ conv ms/step − 1, as %),
 * of wall time and of the process's CPU time (user + system: on a loaded machine the steadier of
 * the two), and both variants' ms/step; writes them to results/doconv-overhead-<date>.json (--out
 * DIR elsewhere). Not a test: never asserts.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { useBestBackend, type BackendName } from '../src/engine/useBestBackend.js';
import { Adam, SGD } from '../src/train/optimizers.js';
import { writeResult } from './resultFile.js';
import { summarize, windowOrder } from './stats.js';
import { buildZooBenchModel, randomZooBatch, zooBenchNet } from './zooNets.js';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: 'pt-mnist-sample' },
    pairs: { type: 'string', default: '60' },
    steps: { type: 'string', default: '10' },
    optimizer: { type: 'string', default: 'adam' },
    batch: { type: 'string' },
    backend: { type: 'string' },
    out: { type: 'string', default: 'results' },
  },
});
const selection = await useBestBackend(
  values.backend ? { candidates: [values.backend as BackendName] } : {},
);
const net = zooBenchNet(values.net!);
const batch = values.batch ? Number(values.batch) : net.batch;
const steps = Number(values.steps);
const pairs = Number(values.pairs);
const makeOptimizer = () =>
  values.optimizer === 'sgd'
    ? new SGD({ learningRate: 1e-2, momentum: 0.9 })
    : new Adam({ learningRate: 1e-3 });

const variants = ['conv', 'doconv'] as const;
const runners = variants.map((v) => {
  const model = buildZooBenchModel(net, v, makeOptimizer());
  const { x, y } = randomZooBatch(net, model, batch);
  return { v, model, step: async () => (await model.trainOnBatch(x, y)) as number, x, y };
});
for (const r of runners) for (let i = 0; i < 20; i++) await r.step();

const ms: Record<string, number[]> = { conv: [], doconv: [] };
const cpuMs: Record<string, number[]> = { conv: [], doconv: [] };
for (let p = 0; p < pairs; p++) {
  for (const r of windowOrder(runners, p)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) await r.step();
    ms[r.v].push((performance.now() - t0) / steps);
    const c = process.cpuUsage(c0);
    cpuMs[r.v].push((c.user + c.system) / 1000 / steps);
  }
}
const fmt = (s: { median: number; min: number; max: number }, d = 2) =>
  `${s.median.toFixed(d)} [${s.min.toFixed(d)}–${s.max.toFixed(d)}]`;
const quart = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `IQR ${s[Math.floor(s.length / 4)].toFixed(2)}…${s[Math.floor((3 * s.length) / 4)].toFixed(2)}`;
};
const perPair = (m: Record<string, number[]>) => m.doconv.map((d, i) => (d / m.conv[i] - 1) * 100);
console.log(
  `${net.name} batch ${batch} ${values.optimizer} on ${selection.backend}, ${pairs} pairs of ${steps}-step windows`,
);
console.log(`  conv   ms/step ${fmt(summarize(ms.conv))}, CPU ${fmt(summarize(cpuMs.conv))}`);
console.log(`  doconv ms/step ${fmt(summarize(ms.doconv))}, CPU ${fmt(summarize(cpuMs.doconv))}`);
for (const [what, m] of [
  ['wall', ms],
  ['CPU', cpuMs],
] as const) {
  const ov = perPair(m);
  console.log(
    `  DO-Conv overhead % per pair (${what}): median ${fmt(summarize(ov), 1)} ${quart(ov)}`,
  );
}
writeResult(
  'doconv-overhead',
  'bench/doconvOverhead.ts',
  {
    net: net.name,
    batch,
    optimizer: values.optimizer,
    backend: selection.backend,
    pairs,
    stepsPerWindow: steps,
    msPerStep: { conv: summarize(ms.conv), doconv: summarize(ms.doconv) },
    cpuMsPerStep: { conv: summarize(cpuMs.conv), doconv: summarize(cpuMs.doconv) },
    overheadPercentPerPair: { wall: summarize(perPair(ms)), cpu: summarize(perPair(cpuMs)) },
  },
  values.out,
);
for (const r of runners) {
  tf.dispose([r.x, r.y]);
  r.model.optimizer.dispose();
  r.model.dispose();
}
