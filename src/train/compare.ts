/**
 * Baseline vs DO-Conv: the same recipe trained with conv and with doconv for seeds 1..N, summarised as
 * the official README's table (run1..runN, avg, +) with mean ± std, a JSON record and an SVG of the
 * per-epoch test-accuracy curves. The library call behind `doconv compare`. Node-only.
 *
 *   OUT/runs/conv-seed1/ … doconv-seedN/   each a full trainModel output folder (or under runsDir)
 *   OUT/NAME.json   ComparisonRecord: {command, date, machine, backend, engine, runs: {conv: [...], doconv: [...]}, …}
 *   OUT/NAME.md     the table
 *   OUT/NAME.svg    the curves
 *
 * Both sides get one options object; only `conv` differs. A run whose summary.json is already there with
 * the same settings is reused, and an interrupted one resumes, so a long comparison can be restarted.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import { differingSettings, RESUME_KEYS, resolveConfig, type TrainConfig } from './config.js';
import { type EngineRecord, machineInfo, type MachineInfo, selectBackend } from './environment.js';
import { METRICS_FILE, readMetrics } from './metrics.js';
import { omit } from './omit.js';
import { accuracyCurvesSvg } from './plot.js';
import { presetByName } from './presets.js';
import { hasCheckpoint } from './checkpoint.js';
import { runInWorker } from './runInWorker.js';
import { checkFolderPath } from './savedModels.js';
import { checkNumber, INTEGER, POSITIVE_INT, showValue } from './textValues.js';
import {
  CHECKPOINT_DIR,
  SUMMARY_FILE,
  trainModel,
  type TrainOptions,
  type TrainSummary,
} from './trainModel.js';

export const COMPARED_CONVS = ['conv', 'doconv'] as const;
type Side = (typeof COMPARED_CONVS)[number];

/** Options of `compareConvs`: a recipe (preset and/or overrides) for both sides, and how many runs. */
export interface CompareOptions extends Omit<
  TrainOptions,
  'conv' | 'seed' | 'out' | 'resume' | 'overwrite' | 'onEpochEnd'
> {
  /** Seeds 1..runs. Default 5 (as the official tables). */
  runs?: number;
  /** Explicit seeds instead of 1..runs. */
  seeds?: number[];
  /** Output folder for NAME.json/.md/.svg (default: no files). */
  out?: string;
  /** Folder for the per-run training folders. Default OUT/runs (runs are not saved without either). */
  runsDir?: string;
  /** Base name of the JSON/MD/SVG files. Default: the preset's name, else the model's. */
  name?: string;
  /** The command line to record in the JSON. */
  command?: string;
  /** Called after each run with its summary (in completion order when jobs > 1). */
  onRunEnd?: (summary: TrainSummary, reused: boolean) => void | Promise<void>;
  /**
   * Runs trained side by side, each in a worker thread of its own (one core each); default 1.
   * Every run is still the single-thread run, bit for bit: this only changes how long the
   * comparison takes. Needs a zoo model or preset. Progress is reported per finished run.
   */
  jobs?: number;
}

/** Mean and sample standard deviation (n − 1; 0 for one run). */
export interface MeanStd {
  mean: number;
  std: number;
}

/** NAME.json. Accuracies are fractions 0..1. */
export interface ComparisonRecord {
  command: string;
  date: string;
  machine: MachineInfo;
  /** The TF.js backend's name (also `engine.backend`). */
  backend: string;
  /** What ran the runs trained here (reused runs record their own in their summary.json). */
  engine: EngineRecord;
  name: string;
  preset: string | null;
  seeds: number[];
  /** Final test accuracy of each run, in seed order. */
  runs: Record<Side, number[]>;
  /** Final folded-model test accuracy of each run. */
  folded: Record<Side, (number | null)[]>;
  /** Per-epoch test accuracy of each run. */
  curves: Record<Side, number[][]>;
  stats: Record<Side, MeanStd> & { difference: number };
  /** The official README's means (%) for the preset, when there is one. */
  reference: { conv: number; doconv: number; source: string } | null;
  /** The shared recipe (conv and seed vary per run). */
  config: Omit<TrainConfig, 'conv' | 'seed'>;
}

/** What `compareConvs` returns. */
export interface ComparisonResult {
  record: ComparisonRecord;
  /** The Markdown table (README shape). */
  table: string;
  svg: string;
  /** Paths written (empty without out). */
  files: string[];
}

/** Trains both convs for every seed and summarises. */
export async function compareConvs(opts: CompareOptions): Promise<ComparisonResult> {
  if (opts.seeds === undefined && opts.runs !== undefined) {
    checkNumber('runs', opts.runs, POSITIVE_INT);
  }
  const seeds = opts.seeds ?? Array.from({ length: opts.runs ?? 5 }, (_, i) => i + 1);
  if (!Array.isArray(seeds) || seeds.length === 0) {
    throw new Error(`seeds must be a non-empty array of integers, got ${showValue(seeds)}`);
  }
  seeds.forEach((seed, i) => checkNumber(`seeds[${i}]`, seed, INTEGER));
  if (new Set(seeds).size !== seeds.length) {
    throw new Error(
      `seeds must not repeat (each run has a folder of its own), got ${showValue(seeds)}`,
    );
  }
  const { out, command, onRunEnd } = opts;
  const jobs = checkNumber('jobs', opts.jobs ?? 1, POSITIVE_INT);
  const trainOpts = omit(opts, [
    'runs',
    'seeds',
    'out',
    'runsDir',
    'name',
    'command',
    'onRunEnd',
    'jobs',
  ]);
  const runsDir = opts.runsDir ?? (out !== undefined ? path.join(out, 'runs') : undefined);
  if (out !== undefined) await checkFolderPath('out', out);
  if (runsDir !== undefined) await checkFolderPath('runsDir', runsDir);
  // Resolve once up front so bad options fail before any training.
  const shared = resolveConfig({ ...trainOpts, conv: 'conv', seed: seeds[0] });
  const name = opts.name ?? shared.preset ?? shared.model;
  const engine = await selectBackend(opts.backend, opts.log);
  if (jobs > 1 && typeof opts.model === 'function') {
    throw new Error(
      `jobs > 1 needs a zoo model name or a preset (a model builder function cannot cross threads), got the function ${JSON.stringify(opts.model.name)}`,
    );
  }
  // What crosses into a worker thread: the recipe, without functions, signals or reporters.
  const workerOpts = omit(trainOpts, ['log', 'progress', 'signal']);

  /** One run: reused when finished with these settings, else trained (or resumed). */
  const runOne = async ({ seed, conv }: { seed: number; conv: Side }) => {
    const runDir = runsDir !== undefined ? path.join(runsDir, `${conv}-seed${seed}`) : undefined;
    const want = resolveConfig({ ...trainOpts, conv, seed });
    const finished = runDir ? await reusableSummary(runDir, want) : null;
    if (finished !== null) {
      return {
        summary: finished,
        history: await readMetrics(path.join(runDir!, METRICS_FILE)),
        reused: true,
      };
    }
    // An interrupted run resumes from its checkpoint; a folder without one holds nothing to keep.
    const resume = runDir !== undefined && (await hasCheckpoint(path.join(runDir, CHECKPOINT_DIR)));
    const run = { conv, seed, out: runDir, resume, overwrite: !resume };
    if (jobs > 1) {
      const r = await runInWorker(
        { ...workerOpts, ...run },
        engine.backend,
        `doconv ${conv} seed ${seed}`,
        jobs,
      );
      return { ...r, reused: false };
    }
    const result = await trainModel({ ...trainOpts, backend: undefined, ...run });
    result.model.dispose();
    result.folded?.dispose();
    return { summary: result.summary, history: result.history, reused: false };
  };

  const tasks = seeds.flatMap((seed) => COMPARED_CONVS.map((conv) => ({ seed, conv })));
  const done = await inPool(tasks, jobs, async (task) => {
    const r = await runOne(task);
    await onRunEnd?.(r.summary, r.reused);
    return r;
  });
  const runs: Record<Side, number[]> = { conv: [], doconv: [] };
  const folded: Record<Side, (number | null)[]> = { conv: [], doconv: [] };
  const curves: Record<Side, number[][]> = { conv: [], doconv: [] };
  tasks.forEach(({ conv }, i) => {
    runs[conv].push(done[i].summary.testAccuracy);
    folded[conv].push(done[i].summary.foldedTestAccuracy);
    curves[conv].push(done[i].history.map((m) => m.testAccuracy));
  });
  const stats = {
    conv: meanStd(runs.conv),
    doconv: meanStd(runs.doconv),
    difference: meanStd(runs.doconv).mean - meanStd(runs.conv).mean,
  };
  const config = omit(shared, ['conv', 'seed']);
  const record: ComparisonRecord = {
    command: command ?? '',
    date: new Date().toISOString(),
    machine: machineInfo(),
    backend: engine.backend,
    engine,
    name,
    preset: shared.preset,
    seeds,
    runs,
    folded,
    curves,
    stats,
    reference: shared.preset !== null ? presetByName(shared.preset).reference : null,
    config,
  };
  const table = comparisonTable(record);
  const svg = accuracyCurvesSvg(
    [
      { label: 'Conv (baseline)', color: '#1f77b4', runs: curves.conv },
      { label: 'DO-Conv', color: '#d62728', runs: curves.doconv },
    ],
    {
      title: `${name}: test accuracy per epoch, ${seeds.length} seed${seeds.length > 1 ? 's' : ''} each`,
    },
  );
  const files: string[] = [];
  if (out !== undefined) {
    await replaceFilesAtomically(out, [
      { name: `${name}.json`, data: JSON.stringify(record, null, 2) + '\n' },
      { name: `${name}.md`, data: table },
      { name: `${name}.svg`, data: svg },
    ]);
    files.push(...['json', 'md', 'svg'].map((ext) => path.join(out, `${name}.${ext}`)));
  }
  return { record, table, svg, files };
}

/** Mean and sample standard deviation of `xs`. */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/**
 * The official README's table shape, in % — one row per conv: run1 … runN, avg, +, plus mean ± std:
 *
 *   |          | run1  | … | avg    | +      | mean ± std    |
 *   | Conv     | 98.52 | … | 98.504 |        | 98.504 ± 0.05 |
 *   | DO-Conv  | 98.70 | … | 98.682 | +0.178 | 98.682 ± 0.04 |
 */
export function comparisonTable(
  record: Pick<ComparisonRecord, 'runs' | 'stats' | 'reference' | 'name'>,
): string {
  const n = record.runs.conv.length;
  const pct = (v: number, digits: number) => (v * 100).toFixed(digits);
  const head = [
    '',
    ...Array.from({ length: n }, (_, i) => `run${i + 1}`),
    'avg',
    '+',
    'mean ± std',
  ];
  const row = (label: string, side: Side) => {
    const s = record.stats[side];
    const plus = side === 'doconv' ? signed(record.stats.difference * 100, 3) : '';
    return [
      label,
      ...record.runs[side].map((v) => pct(v, 2)),
      pct(s.mean, 3),
      plus,
      `${pct(s.mean, 3)} ± ${pct(s.std, 3)}`,
    ];
  };
  const rows = [head, head.map(() => '---'), row('Conv', 'conv'), row('DO-Conv', 'doconv')];
  let text = rows.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
  if (record.reference) {
    const r = record.reference;
    text += `\nOfficial README (${r.source}, mean of 5): Conv ${r.conv.toFixed(3)}, DO-Conv ${r.doconv.toFixed(3)}, ${signed(r.doconv - r.conv, 3)}\n`;
  }
  return text;
}

function signed(v: number, digits: number): string {
  return (v >= 0 ? '+' : '') + v.toFixed(digits);
}

/**
 * `fn` over `items` with at most `limit` running at once; results in `items` order. The first
 * failure rejects once the runs in flight have settled (none is left running unawaited).
 * (compareTaskConvs runs its pool with it too.)
 */
export async function inPool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown = null;
  const lane = async () => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== null) throw failure;
  return results;
}

/** The summary of a finished run in `dir` with the settings `want`, or null (then it is trained/resumed). */
async function reusableSummary(dir: string, want: TrainConfig): Promise<TrainSummary | null> {
  let summary: TrainSummary;
  try {
    summary = JSON.parse(await fs.readFile(path.join(dir, SUMMARY_FILE), 'utf8')) as TrainSummary;
  } catch {
    return null;
  }
  const differ = differingSettings(summary.config, want, [...RESUME_KEYS, 'epochs']).map(
    (d) => d.key,
  );
  if (differ.length > 0) {
    throw new Error(
      `${path.join(dir, SUMMARY_FILE)} is a finished run with other settings (${differ.join(', ')}); use another --out`,
    );
  }
  return summary;
}
