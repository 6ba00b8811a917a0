/**
 * npm run bench:train — training throughput (images/s) of the benchmark nets, Conv vs DO-Conv:
 * on wasm single-threaded (trainOnBatch), on wasm with createParallelTrainer's worker threads, on
 * cpu (MNIST net only), and — sequentially afterwards, in the same run — in PyTorch when
 * `import torch` works (all cores, then one thread). Random data. Not a test: never asserts.
 * Adam is the trainer's (src/train/optimizers.ts: one fused kernel per variable on wasm).
 * Writes results/train-<date>.json.
 *
 * Method (a shared 2-core machine drifts; 10-step windows of the MNIST net were seen ±15 % apart): per net and backend, each variant gets warm-up steps,
 * then `windows` timed windows of `steps` steps; within a window the variants run back to back,
 * in alternating order. Figures are medians over windows with min–max; the DO-Conv overhead is
 * taken window by window (paired) and summarised the same way, from wall time and from the
 * process's CPU time (all threads), which other processes' load hardly moves. The 1-minute load
 * average is recorded around every phase.
 *
 *   npx tsx bench/train.ts [--nets mnist-sample,resnet20] [--variants conv,doconv] [--windows 5]
 *     [--steps-mnist-sample 40] [--steps-resnet20 2] [--warmup 2] [--workers 2] [--cpu-steps 2]
 *     (--workers takes a list, e.g. 1,2: one createParallelTrainer phase per count; the table
 *     shows the largest)
 *     [--no-parallel] [--no-torch] [--no-cpu] [--no-native] [--no-wasm] [--out DIR]
 *   npx tsx bench/train.ts --rounds 3 [--load] [--quick] [--nets …] …   (every zoo net vs its
 *     PyTorch twin in alternating rounds, idle and under load: bench/rounds.ts, roundsUsage)
 * When the native engine's addon is built (npm run build:native), the same phases run again on it
 * ('native' one thread, 'native-<n>-workers': one oneDNN thread per worker).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { registerWasmTrainingKernels } from '../src/index.js';
// The trainer's Adam (Keras form): one fused kernel per variable on wasm.
import { Adam } from '../src/train/optimizers.js';
import {
  createParallelTrainer,
  type ParallelTrainer,
} from '../src/train/parallel/parallelTrainer.js';
import { disableNativeEngine, enableNativeEngine } from '../src/engine/native/enableNative.js';
import { nativeAddon } from '../src/engine/native/nativeAddon.js';
import { nets, type NetSpec } from './nets.js';
import { pairedOverheadPct, summarize, windowOrder, type Summary } from './stats.js';
import { variants } from './variants.js';
import { writeResult } from './resultFile.js';
import { runRounds } from './rounds.js';
import { findTorchPython } from './torchServer.js';

interface Row {
  net: string;
  variant: string;
  /**
   * 'wasm' (one thread), 'wasm-<n>-workers' (createParallelTrainer), 'native' and
   * 'native-<n>-workers' (the same on the native engine), 'cpu', 'pytorch' (all cores, as the
   * issue measured it), 'pytorch-1-thread'
   */
  backend: string;
  batch: number;
  stepsPerWindow: number;
  /** images/s of each timed window, in window order */
  windows: number[];
  imagesPerSec: Summary;
  /**
   * CPU time of the whole process (all threads, workers included) per step, per window, in ms.
   * Load-independent where wall time is not: wall ≫ CPU (one thread) means other processes had
   * the core; for the workers, CPU/step ÷ wall/step is the number of cores actually used.
   */
  cpuMsPerStep?: Summary;
  cpuMsWindows?: number[];
  firstLoss?: number;
  lastLoss?: number;
}

interface Phase {
  name: string;
  load1mBefore: number;
  load1mAfter: number;
  seconds: number;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string) => process.argv.includes(`--${name}`);
// The environment as the bench was started, before the addon set its OpenMP waiting policy:
// PyTorch runs in it, as users run it.
const launchEnv = { ...process.env };
// --rounds, --load and --quick select the zoo rounds (bench/rounds.ts), which parse their own flags.
const roundsMode = flag('rounds') !== undefined || has('load') || has('quick');

const netNames = (flag('nets') ?? 'mnist-sample,resnet20').split(',');
const variantNames = (flag('variants') ?? 'conv,doconv').split(',');
const windows = Number(flag('windows') ?? 5);
const warmup = Number(flag('warmup') ?? 2);
const workerCounts = (flag('workers') ?? '2').split(',').map(Number);
const workers = Math.max(...workerCounts);
const cpuSteps = Number(flag('cpu-steps') ?? 2);
const defaultSteps: Record<string, number> = { 'mnist-sample': 40, resnet20: 2 };
const stepsFor = (net: string) => Number(flag(`steps-${net}`) ?? defaultSteps[net]);
for (const n of roundsMode ? [] : netNames)
  if (!(n in nets))
    throw new Error(
      `--nets: unknown net ${JSON.stringify(n)}; known ${JSON.stringify(Object.keys(nets))}`,
    );
for (const v of variantNames)
  if (!(v in variants))
    throw new Error(
      `--variants: unknown variant ${JSON.stringify(v)}; known ${JSON.stringify(Object.keys(variants))}`,
    );

const phases: Phase[] = [];
async function phase<T>(name: string, f: () => Promise<T>): Promise<T> {
  const load1mBefore = os.loadavg()[0];
  const t0 = performance.now();
  const out = await f();
  phases.push({
    name,
    load1mBefore,
    load1mAfter: os.loadavg()[0],
    seconds: (performance.now() - t0) / 1000,
  });
  console.log(`  [${name}: load ${load1mBefore.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}]`);
  return out;
}

/** A training step function per variant, with its loss reporting. */
type Stepper = { step: () => Promise<number>; dispose: () => Promise<void> };

/**
 * Warm-up, then `windows` windows of `steps` steps with the variants interleaved (alternating
 * order). Returns one row per variant.
 */
async function timeInterleaved(
  spec: NetSpec,
  backend: string,
  steps: number,
  nWindows: number,
  makeStepper: (variant: string) => Promise<Stepper>,
  warmupSteps = warmup,
): Promise<Row[]> {
  const steppers = new Map<string, Stepper>();
  for (const v of variantNames) steppers.set(v, await makeStepper(v));
  const rows = new Map<string, Row>();
  for (const v of variantNames) {
    const s = steppers.get(v)!;
    // Warm-up: XNNPACK operator creation, optimizer slots, first-call compilation.
    let firstLoss = NaN;
    for (let i = 0; i < Math.max(1, warmupSteps); i++) {
      const l = await s.step();
      if (i === 0) firstLoss = l;
    }
    rows.set(v, {
      net: spec.name,
      variant: v,
      backend,
      batch: spec.batch,
      stepsPerWindow: steps,
      windows: [],
      imagesPerSec: { median: 0, min: 0, max: 0, n: 0 },
      firstLoss,
    });
  }
  for (let w = 0; w < nWindows; w++) {
    for (const v of windowOrder(variantNames, w)) {
      const s = steppers.get(v)!;
      const row = rows.get(v)!;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      for (let i = 0; i < steps; i++) row.lastLoss = await s.step();
      row.windows.push((spec.batch * steps) / ((performance.now() - t0) / 1000));
      const c = process.cpuUsage(c0);
      (row.cpuMsWindows ??= []).push((c.user + c.system) / 1000 / steps);
    }
  }
  for (const s of steppers.values()) await s.dispose();
  const out = [...rows.values()];
  for (const r of out) {
    r.imagesPerSec = summarize(r.windows);
    r.cpuMsPerStep = summarize(r.cpuMsWindows!);
    const wallMs = (1000 * r.batch) / r.imagesPerSec.median;
    console.log(
      `${r.net} ${r.variant} ${r.backend}: ${fmt(r.imagesPerSec)} img/s; CPU ${r.cpuMsPerStep.median.toFixed(1)} ms/step vs wall ${wallMs.toFixed(1)} (loss ${r.firstLoss?.toFixed(3)} → ${r.lastLoss?.toFixed(3)})`,
    );
  }
  return out;
}

function fmt(s: Summary): string {
  const d = s.median >= 100 ? 0 : 1;
  return `${s.median.toFixed(d)} [${s.min.toFixed(d)}–${s.max.toFixed(d)}]`;
}

function randomBatch(spec: NetSpec): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => ({
    x: tf.randomNormal([spec.batch, ...spec.inputShape], 0, 1, 'float32', 1),
    y: tf.oneHot(tf.randomUniform([spec.batch], 0, spec.classes, 'int32', 2), spec.classes),
  }));
}

function singleThread(spec: NetSpec, x: tf.Tensor, y: tf.Tensor) {
  return async (variant: string): Promise<Stepper> => {
    const model = spec.build(variants[variant]);
    model.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
    return {
      step: async () => (await model.trainOnBatch(x, y)) as number,
      dispose: async () => {
        model.dispose();
      },
    };
  };
}

function parallel(spec: NetSpec, x: tf.Tensor, y: tf.Tensor, workers: number) {
  return async (variant: string): Promise<Stepper> => {
    const model = spec.build(variants[variant]);
    const trainer: ParallelTrainer = await createParallelTrainer({
      model,
      optimizer: new Adam({ learningRate: 1e-3 }),
      loss: 'categoricalCrossentropy',
      workers,
    });
    return {
      step: async () => (await trainer.trainStep(x, y)).loss,
      dispose: async () => {
        await trainer.dispose();
        model.dispose();
      },
    };
  };
}

/**
 * The PyTorch side with `threads` intra-op threads. Both settings are run: all cores is the
 * issue's reference; one thread is the fair match for one wasm thread, and the figure that
 * survives other processes' load (PyTorch's OpenMP team collapses when a core is taken away).
 */
function runTorch(python: string, threads: number): Row[] {
  const jobs = netNames.map((n) => ({
    net: n,
    variants: variantNames,
    batch: nets[n].batch,
    steps: stepsFor(n),
    windows,
    warmup,
  }));
  const r = spawnSync(python, ['bench/torch_train.py', JSON.stringify(jobs)], {
    env: { ...launchEnv, TORCH_THREADS: String(threads) },
    encoding: 'utf8',
    timeout: 15 * 60_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) {
    console.error(`PyTorch side failed (status ${r.status})`);
    return [];
  }
  const rows = JSON.parse(r.stdout.trim().split('\n').pop()!) as Row[];
  for (const row of rows) {
    if (threads === 1) row.backend = 'pytorch-1-thread';
    row.imagesPerSec = summarize(row.windows);
    if (row.cpuMsWindows) row.cpuMsPerStep = summarize(row.cpuMsWindows);
  }
  return rows;
}

async function main() {
  registerWasmTrainingKernels();
  const loadStart = os.loadavg();
  const rows: Row[] = [];
  for (const n of netNames) {
    const spec = nets[n];
    const steps = stepsFor(n);
    await tf.setBackend('wasm');
    const { x, y } = randomBatch(spec);
    if (!has('no-wasm')) {
      rows.push(
        ...(await phase(`${n} wasm`, () =>
          timeInterleaved(spec, 'wasm', steps, windows, singleThread(spec, x, y)),
        )),
      );
    }
    if (!has('no-wasm') && !has('no-parallel')) {
      for (const k of workerCounts) {
        rows.push(
          ...(await phase(`${n} wasm ${k} workers`, () =>
            timeInterleaved(spec, `wasm-${k}-workers`, steps, windows, parallel(spec, x, y, k)),
          )),
        );
      }
    }
    // The native engine (oneDNN convs over the wasm heap), same phases; workers follow it.
    if (!has('no-native')) {
      const state = enableNativeEngine();
      if (state.on) {
        rows.push(
          ...(await phase(`${n} native`, () =>
            timeInterleaved(spec, 'native', steps, windows, singleThread(spec, x, y)),
          )),
        );
        if (!has('no-parallel')) {
          for (const k of workerCounts) {
            rows.push(
              ...(await phase(`${n} native ${k} workers`, () =>
                timeInterleaved(
                  spec,
                  `native-${k}-workers`,
                  steps,
                  windows,
                  parallel(spec, x, y, k),
                ),
              )),
            );
          }
        }
      } else {
        console.log(`native engine: skipped (${state.reason})`);
      }
      disableNativeEngine();
    }
    tf.dispose([x, y]);
    // One ResNet-20 step on cpu takes many minutes: cpu for the MNIST net only, one warm-up step
    // and one short window (~8 s a step).
    if (n === 'mnist-sample' && !has('no-cpu')) {
      await tf.setBackend('cpu');
      const b = randomBatch(spec);
      rows.push(
        ...(await phase(`${n} cpu`, () =>
          timeInterleaved(spec, 'cpu', cpuSteps, 1, singleThread(spec, b.x, b.y), 1),
        )),
      );
      tf.dispose([b.x, b.y]);
    }
  }
  const python = has('no-torch') ? undefined : findTorchPython();
  if (python) {
    for (const threads of [os.cpus().length, 1]) {
      const torchRows = await phase(`pytorch ${threads} thread(s)`, async () =>
        runTorch(python, threads),
      );
      for (const r of torchRows)
        console.log(`${r.net} ${r.variant} ${r.backend}: ${fmt(r.imagesPerSec)} img/s`);
      rows.push(...torchRows);
    }
  } else {
    console.log(
      has('no-torch')
        ? 'PyTorch: skipped (--no-torch)'
        : 'PyTorch: not available (no python with "import torch")',
    );
  }

  const overheads = overheadRows(rows);
  printTable(rows, overheads);
  writeResult(
    'train',
    'bench/train.ts',
    {
      loadAverage: { start: loadStart, end: os.loadavg(), phases },
      tfjs: tf.version.tfjs,
      // 'native' rows: oneDNN threads inside each op on the main thread (nativeThreadsFor(1));
      // 'native-<n>-workers' rows: nativeThreadsFor(n) in each worker.
      nativeThreads: nativeAddon()?.getThreads() ?? null,
      env: { DOCONV_NATIVE_THREADS: process.env.DOCONV_NATIVE_THREADS ?? null },
      method: {
        windows,
        warmup,
        workers,
        stepsPerWindow: Object.fromEntries(netNames.map((n) => [n, stepsFor(n)])),
      },
      rows,
      doOverheadPct: overheads,
    },
    flag('out') ?? 'results',
  );
}

interface OverheadRow {
  net: string;
  variant: string;
  backend: string;
  /** (conv img/s ÷ variant img/s − 1)·100, window by window (wall clock) */
  pct: Summary;
  /** (variant CPU/step ÷ conv CPU/step − 1)·100, window by window: robust to other processes' load */
  cpuPct?: Summary;
}

function overheadRows(rows: Row[]): OverheadRow[] {
  const out: OverheadRow[] = [];
  for (const r of rows) {
    if (r.variant === 'conv') continue;
    const base = rows.find(
      (b) => b.net === r.net && b.backend === r.backend && b.variant === 'conv',
    );
    if (base == null || base.windows.length !== r.windows.length) continue;
    const inv = (xs?: number[]) => xs?.map((x) => 1 / x);
    const cpuBase = inv(base.cpuMsWindows);
    const cpuVariant = inv(r.cpuMsWindows);
    out.push({
      net: r.net,
      variant: r.variant,
      backend: r.backend,
      pct: pairedOverheadPct(base.windows, r.windows),
      cpuPct: cpuBase && cpuVariant ? pairedOverheadPct(cpuBase, cpuVariant) : undefined,
    });
  }
  return out;
}

function printTable(rows: Row[], overheads: OverheadRow[]) {
  const par = `wasm-${workers}-workers`;
  const npar = `native-${workers}-workers`;
  const med = (net: string, variant: string, backend: string) =>
    rows.find((r) => r.net === net && r.variant === variant && r.backend === backend)?.imagesPerSec;
  const ratio = (a?: Summary, b?: Summary) =>
    a && b ? `${(a.median / b.median).toFixed(2)}×` : '—';
  const oh = (net: string, variant: string, backend: string) => {
    const o = overheads.find(
      (r) => r.net === net && r.variant === variant && r.backend === backend,
    );
    const f = (p: Summary) => `${p.median.toFixed(1)}% [${p.min.toFixed(1)}…${p.max.toFixed(1)}]`;
    return o ? `${f(o.pct)}${o.cpuPct ? `, CPU ${f(o.cpuPct)}` : ''}` : '—';
  };
  const header = [
    'net',
    'variant',
    'wasm img/s',
    `${workers} workers img/s`,
    `${workers}w cores used`,
    'cpu img/s',
    'wasm/cpu',
    'native img/s',
    `native ${workers}w img/s`,
    'torch img/s',
    'best wasm/torch',
    'best native/torch',
    'torch 1-thread img/s',
    'wasm/torch 1-thread',
    'DO overhead wasm',
    `DO overhead ${workers}w`,
    'DO overhead native',
    `DO overhead native ${workers}w`,
    'DO overhead torch',
    'DO overhead torch 1-thread',
  ];
  const lines = [header];
  for (const n of netNames)
    for (const v of variantNames) {
      const w = med(n, v, 'wasm');
      const p = med(n, v, par);
      const c = med(n, v, 'cpu');
      const t = med(n, v, 'pytorch');
      const t1 = med(n, v, 'pytorch-1-thread');
      const nw = med(n, v, 'native');
      const np = med(n, v, npar);
      const bestOf = (xs: Array<Summary | undefined>) =>
        xs.filter((s): s is Summary => !!s).sort((a, b) => b.median - a.median)[0];
      const best = bestOf([w, p]);
      const bestNative = bestOf([nw, np]);
      const isDo = v !== 'conv';
      const pr = rows.find((r) => r.net === n && r.variant === v && r.backend === par);
      // CPU time per step over wall time per step: how many cores the workers really got.
      const cores = pr?.cpuMsPerStep
        ? (pr.cpuMsPerStep.median * pr.imagesPerSec.median) / (1000 * pr.batch)
        : undefined;
      lines.push([
        n,
        v,
        w ? fmt(w) : '—',
        p ? fmt(p) : '—',
        cores != null ? cores.toFixed(2) : '—',
        c ? fmt(c) : '—',
        ratio(w, c),
        nw ? fmt(nw) : '—',
        np ? fmt(np) : '—',
        t ? fmt(t) : '—',
        ratio(best, t),
        ratio(bestNative, t),
        t1 ? fmt(t1) : '—',
        ratio(w, t1),
        isDo ? oh(n, v, 'wasm') : '',
        isDo ? oh(n, v, par) : '',
        isDo ? oh(n, v, 'native') : '',
        isDo ? oh(n, v, npar) : '',
        isDo ? oh(n, v, 'pytorch') : '',
        isDo ? oh(n, v, 'pytorch-1-thread') : '',
      ]);
    }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  '));
}

(roundsMode ? runRounds(process.argv.slice(2)) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
