/**
 * Every zoo net, Conv and DO-Conv, against its PyTorch twin (tools/doconv_torch, all cores), in
 * alternating rounds — `npx tsx bench/train.ts --rounds R` (see `roundsUsage`). Each round times, per
 * net, doconv's training step (trainOnBatch with the trainer's Adam, on the backend and engine
 * `useBestBackend` picks or --backend/--engine names) and the twin's (torch.optim.Adam), the side
 * that goes first alternating round by round; the ratio is taken inside each round and summarised
 * (median, min–max) over rounds. Per variant also the peak memory of a step: the resident
 * high-water mark on both sides, and the peak of live tensor bytes in one TF.js step.
 *
 * --load: every round runs twice, idle and with competing CPU-bound processes (a busy loop each,
 * pinned nowhere) that the bench starts and stops itself, in alternating order, and reports how much
 * of its idle throughput each side keeps and the doconv/PyTorch ratio under load.
 *
 * Writes <out>/zoo-vs-torch-<date>.json (results/ by default; --quick writes to a temporary folder).
 * Not a test: never asserts. Failures of one net (out of memory, …) are recorded and the run goes on.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useBestBackend, type BackendSelection } from '../src/engine/useBestBackend.js';
import { nativeAddon } from '../src/engine/native/nativeAddon.js';
import { Adam } from '../src/train/optimizers.js';
import { ADAPT_MODES, adaptiveStep, type AdaptMode } from './adaptiveThreads.js';
import { startBusyLoops } from './busyLoop.js';
import { formatMiB, peakRss, resetPeakRss } from './memory.js';
import { writeResult } from './resultFile.js';
import {
  doOverheadPct,
  keptFraction,
  peakMemory,
  ratioToTorch,
  type Condition,
  type Failure,
  type NetRow,
  type Side,
} from './roundsSummary.js';
import { summarize, windowOrder, type Summary } from './stats.js';
import { findTorchPython, TorchServer, type TorchRow } from './torchServer.js';
import {
  allZooBenchNets,
  buildZooBenchModel,
  randomZooBatch,
  zooBenchNet,
  type ZooBenchNet,
} from './zooNets.js';

export const roundsUsage = `npx tsx bench/train.ts --rounds R [options]   (every zoo net vs its PyTorch twin; R default 3)
  --nets a,b          zoo nets (default: all)         --variants conv,doconv
  --batch net=N,…     batch per net (default: bench/zooNets.ts)
  --windows W         timed windows per round (3)     --warmup S   untimed steps (3)
  --window-seconds T  steps per window calibrated to about T s (1)
  --backend NAME      auto (useBestBackend) or a TF.js backend name (wasm, cpu, tensorflow, …)
  --engine auto|wasm  on wasm: the native engine when built, or the portable wasm kernels
  --torch-threads N   PyTorch intra-op threads (default: every core)   --no-torch
  --load [--load-procs N]  each round idle and with N busy loops (default 1)
  --adapt-threads load|steps  native engine: threads from the load average or from measured
                      step times, chosen before each step (bench/adaptiveThreads.ts)
  --quick             smoke test: batch 2, one round of one 1-step window, output to a temp folder
  --out DIR           where the JSON goes (default results/)`;

interface RoundsOptions {
  rounds: number;
  nets: ZooBenchNet[];
  variants: Array<'conv' | 'doconv'>;
  batch: Record<string, number>;
  windows: number;
  warmup: number;
  windowSeconds: number;
  /** Fixed steps per window (--quick), else calibrated. */
  steps?: number;
  backend: string;
  engine: 'auto' | 'wasm';
  torchThreads: number;
  torch: boolean;
  loadProcs: number | null;
  /** Thread count chosen per step on the native engine, or null: the engine's own. */
  adaptThreads: AdaptMode | null;
  /** Where the JSON goes; null: a new temporary folder (--quick). */
  out: string | null;
  quick: boolean;
}

function adaptMode(value: string | undefined): AdaptMode | null {
  if (value === undefined) return null;
  if (!(ADAPT_MODES as readonly string[]).includes(value)) {
    throw new Error(
      `--adapt-threads must be ${ADAPT_MODES.join(' or ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as AdaptMode;
}

function positiveInt(flagName: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`--${flagName} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** The options of argv (bench/train.ts's, --rounds among them); errors name the flag and value. */
export function parseRoundsOptions(argv: string[]): RoundsOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      nets: { type: 'string' },
      variants: { type: 'string', default: 'conv,doconv' },
      batch: { type: 'string' },
      windows: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '3' },
      'window-seconds': { type: 'string', default: '1' },
      backend: { type: 'string', default: 'auto' },
      engine: { type: 'string', default: 'auto' },
      'torch-threads': { type: 'string', default: String(os.availableParallelism()) },
      'no-torch': { type: 'boolean', default: false },
      load: { type: 'boolean', default: false },
      'load-procs': { type: 'string', default: '1' },
      'adapt-threads': { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const quick = values.quick;
  const nets = values.nets ? values.nets.split(',').map(zooBenchNet) : allZooBenchNets();
  const variants = values.variants.split(',');
  for (const v of variants) {
    if (v !== 'conv' && v !== 'doconv') {
      throw new Error(`--variants: unknown variant ${JSON.stringify(v)}; known conv, doconv`);
    }
  }
  const batch: Record<string, number> = {};
  for (const net of nets) batch[net.name] = quick ? 2 : net.batch;
  for (const pair of values.batch ? values.batch.split(',') : []) {
    const [name, n] = pair.split('=');
    zooBenchNet(name); // names an unknown net
    batch[name] = positiveInt(`batch ${name}`, n ?? '');
  }
  if (values.engine !== 'auto' && values.engine !== 'wasm') {
    throw new Error(`--engine must be auto or wasm, got ${JSON.stringify(values.engine)}`);
  }
  const windowSeconds = Number(values['window-seconds']);
  if (!(windowSeconds > 0)) {
    throw new Error(`--window-seconds must be positive, got ${values['window-seconds']}`);
  }
  return {
    rounds: quick ? 1 : positiveInt('rounds', values.rounds),
    nets,
    variants: variants as Array<'conv' | 'doconv'>,
    batch,
    windows: quick ? 1 : positiveInt('windows', values.windows),
    warmup: quick ? 1 : positiveInt('warmup', values.warmup),
    windowSeconds,
    steps: quick ? 1 : undefined,
    backend: values.backend,
    engine: values.engine,
    torchThreads: positiveInt('torch-threads', values['torch-threads']),
    torch: !values['no-torch'],
    loadProcs: values.load ? positiveInt('load-procs', values['load-procs']) : null,
    adaptThreads: adaptMode(values['adapt-threads']),
    out: values.out ?? (quick ? null : 'results'),
    quick,
  };
}

/** useBestBackend's choice, or the backend --backend names (also one useBestBackend does not know). */
async function selectBackend(o: RoundsOptions): Promise<BackendSelection> {
  if (o.backend === 'auto') return useBestBackend({ engine: o.engine });
  try {
    return await useBestBackend({ candidates: [o.backend as never], engine: o.engine });
  } catch (e) {
    if (!/unknown candidate/.test((e as Error).message)) {
      throw new Error(`--backend ${o.backend}: ${(e as Error).message}`);
    }
  }
  // A backend registered by a module of its own (e.g. doconv's native backend).
  if (!(await tf.setBackend(o.backend))) {
    throw new Error(`--backend ${o.backend}: tf.setBackend could not initialise it`);
  }
  return { backend: o.backend, engine: o.backend as never };
}

interface Stepper {
  step: () => Promise<number>;
  dispose: () => void;
}

/** One variant's model, batch and step, built and warmed up; memory measured from its build on. */
async function prepareDoconv(
  net: ZooBenchNet,
  variant: 'conv' | 'doconv',
  batch: number,
  o: RoundsOptions,
  threadsSeen: Set<number>,
) {
  const resettable = resetPeakRss();
  const model = buildZooBenchModel(net, variant, new Adam({ learningRate: 1e-3 }));
  const { x, y } = randomZooBatch(net, model, batch);
  const addon = nativeAddon();
  const trainStep = async () => (await model.trainOnBatch(x, y)) as number;
  const stepper: Stepper = {
    step:
      o.adaptThreads && addon
        ? adaptiveStep(o.adaptThreads, addon, trainStep, threadsSeen)
        : trainStep,
    dispose: () => {
      tf.dispose([x, y]);
      model.optimizer.dispose();
      model.dispose();
    },
  };
  let firstLoss = NaN;
  for (let i = 0; i < o.warmup; i++) {
    const loss = await stepper.step();
    if (i === 0) firstLoss = loss;
  }
  // One step under tf.profile: the peak of live tensor bytes inside a step (any backend).
  const t0 = performance.now();
  const profile = await tf.profile(async () => void (await stepper.step()));
  const stepSeconds = (performance.now() - t0) / 1000;
  const rss = peakRss();
  return {
    stepper,
    firstLoss,
    stepSeconds,
    memory: {
      peakRssBytes: rss.peakBytes,
      peakRssResettable: resettable && rss.resettable,
      peakTensorBytes: profile.peakBytes,
    },
  };
}

/** doconv's side of one net: both variants prepared, then windows with the variants interleaved. */
async function timeDoconv(
  net: ZooBenchNet,
  round: number,
  condition: Condition,
  selection: BackendSelection,
  o: RoundsOptions,
): Promise<NetRow[]> {
  const batch = o.batch[net.name];
  const prepared = new Map<string, Awaited<ReturnType<typeof prepareDoconv>>>();
  const threadsSeen = new Set<number>();
  try {
    for (const v of o.variants) prepared.set(v, await prepareDoconv(net, v, batch, o, threadsSeen));
    const slowest = Math.max(...[...prepared.values()].map((p) => p.stepSeconds));
    const steps = o.steps ?? Math.max(1, Math.round(o.windowSeconds / slowest));
    const windows = new Map<string, number[]>(o.variants.map((v) => [v, []]));
    const cpuMs = new Map<string, number[]>(o.variants.map((v) => [v, []]));
    const lastLoss = new Map<string, number>();
    for (let w = 0; w < o.windows; w++) {
      for (const v of windowOrder(o.variants, w)) {
        const { stepper } = prepared.get(v)!;
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        for (let i = 0; i < steps; i++) lastLoss.set(v, await stepper.step());
        windows.get(v)!.push((batch * steps) / ((performance.now() - t0) / 1000));
        const c = process.cpuUsage(c0);
        cpuMs.get(v)!.push((c.user + c.system) / 1000 / steps);
      }
    }
    const threads = selection.engine === 'native' ? (nativeAddon()?.getThreads() ?? null) : null;
    return o.variants.map((v) => ({
      round,
      condition,
      side: 'doconv' as const,
      net: net.name,
      variant: v,
      batch,
      backend: selection.backend,
      engine: selection.engine,
      threads,
      ...(o.adaptThreads ? { threadsSeen: [...threadsSeen].sort() } : {}),
      stepsPerWindow: steps,
      windows: windows.get(v)!,
      imagesPerSec: summarize(windows.get(v)!),
      cpuMsWindows: cpuMs.get(v)!,
      cpuMsPerStep: summarize(cpuMs.get(v)!),
      ...prepared.get(v)!.memory,
      firstLoss: prepared.get(v)!.firstLoss,
      lastLoss: lastLoss.get(v)!,
    }));
  } finally {
    for (const p of prepared.values()) p.stepper.dispose();
  }
}

function torchRows(rows: TorchRow[], round: number, condition: Condition): NetRow[] {
  return rows.map((r) => ({
    ...r,
    round,
    condition,
    side: 'pytorch' as const,
    backend: 'pytorch',
    engine: `pytorch ${r.torch}`,
    imagesPerSec: summarize(r.windows),
    cpuMsPerStep: summarize(r.cpuMsWindows),
  }));
}

function fmt(s: Summary | undefined, digits = 2, unit = ''): string {
  if (s === undefined) return '—';
  return `${s.median.toFixed(digits)}${unit} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
}

function printSummary(rows: NetRow[], o: RoundsOptions, summary: ReturnType<typeof summarise>) {
  const header = ['net', 'variant', 'batch', 'doconv img/s', 'torch img/s', 'doconv/torch'];
  if (o.loadProcs) header.push('doconv/torch loaded', 'kept doconv', 'kept torch');
  header.push('DO overhead doconv %', 'DO overhead torch %', 'peak RSS doconv', 'peak RSS torch');
  const lines = [header];
  const median = (side: Side, net: string, variant: string) => {
    const xs = rows.filter(
      (r) => r.side === side && r.condition === 'idle' && r.net === net && r.variant === variant,
    );
    return xs.length ? summarize(xs.map((r) => r.imagesPerSec.median)) : undefined;
  };
  for (const net of o.nets) {
    for (const v of o.variants) {
      const k = `${net.name} ${v}`;
      const line = [
        net.name,
        v,
        String(o.batch[net.name]),
        fmt(median('doconv', net.name, v), 1),
        fmt(median('pytorch', net.name, v), 1),
        fmt(summary.ratioIdle[k], 2, '×'),
      ];
      if (o.loadProcs) {
        line.push(
          fmt(summary.ratioLoaded[k], 2, '×'),
          fmt(summary.keptDoconv[k]),
          fmt(summary.keptTorch[k]),
        );
      }
      const mem = summary.peakMemory[k];
      line.push(
        v === 'conv' ? '' : fmt(summary.overheadDoconv[k], 1),
        v === 'conv' ? '' : fmt(summary.overheadTorch[k], 1),
        mem?.doconv ? formatMiB(mem.doconv) : '—',
        mem?.pytorch ? formatMiB(mem.pytorch) : '—',
      );
      lines.push(line);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  '));
}

function summarise(rows: NetRow[]) {
  return {
    ratioIdle: ratioToTorch(rows, 'idle'),
    ratioLoaded: ratioToTorch(rows, 'loaded'),
    keptDoconv: keptFraction(rows, 'doconv'),
    keptTorch: keptFraction(rows, 'pytorch'),
    overheadDoconv: doOverheadPct(rows, 'doconv', 'idle'),
    overheadTorch: doOverheadPct(rows, 'pytorch', 'idle'),
    overheadDoconvLoaded: doOverheadPct(rows, 'doconv', 'loaded'),
    peakMemory: peakMemory(rows),
  };
}

/** The environment variables that set threads and waiting, recorded for each side. */
const WAIT_KEYS = [
  'OMP_WAIT_POLICY',
  'GOMP_SPINCOUNT',
  'OMP_NUM_THREADS',
  'DOCONV_NATIVE_THREADS',
  'DOCONV_ENGINE',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the rounds of `argv` (see roundsUsage) and writes the JSON. */
export async function runRounds(argv: string[]): Promise<void> {
  const o = parseRoundsOptions(argv);
  const userEnv = { ...process.env }; // before the addon loads and sets its OpenMP waiting policy
  const selection = await selectBackend(o);
  console.log(
    `doconv: backend '${selection.backend}', engine '${selection.engine}'${selection.native?.threads ? `, ${selection.native.threads} oneDNN thread(s)` : ''}`,
  );
  const python = o.torch ? findTorchPython() : undefined;
  if (o.torch && python === undefined) {
    throw new Error(
      'no python with "import torch" ($PYTHON, python3, /usr/bin/python3); or --no-torch',
    );
  }
  const torch = python ? new TorchServer(python, o.torchThreads, userEnv) : null;
  const rows: NetRow[] = [];
  const failures: Failure[] = [];
  const blocks: Array<{
    round: number;
    condition: Condition;
    load1m: number[];
    seconds: number;
    busyPids: number[];
  }> = [];
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const conditions: Condition[] = o.loadProcs
        ? windowOrder(['idle', 'loaded'], round - 1)
        : ['idle'];
      for (const condition of conditions) {
        const busy = condition === 'loaded' ? startBusyLoops(o.loadProcs!) : null;
        if (busy) await sleep(500); // let the loops get going before the first window
        const t0 = performance.now();
        const load1m = [os.loadavg()[0]];
        try {
          for (const net of o.nets) {
            const sides: Side[] = torch
              ? windowOrder(['doconv', 'pytorch'], round - 1)
              : ['doconv'];
            for (const side of sides) {
              try {
                const got =
                  side === 'doconv'
                    ? await timeDoconv(net, round, condition, selection, o)
                    : torchRows(
                        await torch!.run({
                          net: net.name,
                          variants: o.variants,
                          batch: o.batch[net.name],
                          inputShape: net.inputShape,
                          numClasses: net.numClasses,
                          task: net.task,
                          warmup: o.warmup,
                          windows: o.windows,
                          steps: o.steps,
                          windowSeconds: o.windowSeconds,
                        }),
                        round,
                        condition,
                      );
                rows.push(...got);
                console.log(
                  `round ${round} ${condition} ${side} ${net.name}: ` +
                    got
                      .map((r) => `${r.variant} ${r.imagesPerSec.median.toFixed(1)} img/s`)
                      .join(', '),
                );
              } catch (e) {
                const error = (e as Error).message;
                failures.push({ round, condition, side, net: net.name, error });
                console.log(`round ${round} ${condition} ${side} ${net.name}: FAILED ${error}`);
              }
            }
          }
        } finally {
          busy?.stop();
          load1m.push(os.loadavg()[0]);
          blocks.push({
            round,
            condition,
            load1m,
            seconds: (performance.now() - t0) / 1000,
            busyPids: busy?.pids ?? [],
          });
        }
      }
    }
  } finally {
    torch?.close();
  }
  const summary = summarise(rows);
  printSummary(rows, o, summary);
  writeResult(
    'zoo-vs-torch',
    'bench/train.ts',
    {
      doconv: {
        backend: selection.backend,
        engine: selection.engine,
        oneDnn: selection.native?.oneDnn ?? null,
        threads: selection.native?.threads ?? null,
        tfjs: tf.version.tfjs,
      },
      pytorch: torch
        ? {
            threads: o.torchThreads,
            python,
            env: Object.fromEntries(WAIT_KEYS.map((k) => [k, userEnv[k] ?? null])),
          }
        : null,
      // doconv's process after the addon loaded (its waiting policy); PyTorch runs in userEnv.
      env: Object.fromEntries(WAIT_KEYS.map((k) => [k, process.env[k] ?? null])),
      method: {
        rounds: o.rounds,
        windows: o.windows,
        warmup: o.warmup,
        windowSeconds: o.windowSeconds,
        stepsPerWindow: o.steps ?? 'calibrated per net and side',
        batch: o.batch,
        optimizer: "Adam lr 1e-3 (doconv: the trainer's Adam; PyTorch: torch.optim.Adam)",
        loadProcs: o.loadProcs,
        // the kept fraction if throughput scaled with the cores the busy loops leave
        coresLeftFraction: o.loadProcs
          ? Math.max(0, os.availableParallelism() - o.loadProcs) / os.availableParallelism()
          : null,
        adaptThreads: o.adaptThreads,
        quick: o.quick,
      },
      blocks,
      summary,
      failures,
      rows,
    },
    o.out ?? mkdtempSync(join(os.tmpdir(), 'doconv-bench-')),
  );
}
