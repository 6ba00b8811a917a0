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
import { differingSettings, RESUME_KEYS, resolveConfig, type TrainConfig } from './config.js';
import {
  bySide,
  COMPARISON_KEYS,
  type ComparisonOptions,
  jobsThreadsNote,
  runPool,
  runsFolder,
  type Side,
} from './comparisonPool.js';
import {
  type ComparisonHead,
  comparisonHead,
  type MeanStd,
  publishComparison,
  sideStats,
} from './comparisonRecord.js';
import { selectBackend } from './environment.js';
import type { EpochMetrics } from './metrics.js';
import { omit } from './omit.js';
import { withoutModels } from './trainingRun.js';
import { presetByName } from './presets.js';
import { runInWorker } from './runInWorker.js';
import { checkFolderPath } from './savedModels.js';
import { checkNumber, INTEGER, POSITIVE_INT, showValue } from './numberRules.js';
import { trainModel, type TrainOptions, type TrainSummary } from './trainModel.js';
import { checkOutputPath } from '../io/outputPaths.js';

/** Options of `compareConvs`: a recipe (preset and/or overrides) for both sides, and how many runs. */
export interface CompareOptions
  extends
    Omit<TrainOptions, 'conv' | 'seed' | 'out' | 'resume' | 'overwrite' | 'onEpochEnd'>,
    ComparisonOptions<TrainSummary> {
  /** Seeds 1..runs. Default 5 (as the official tables). */
  runs?: number;
  /** Base name of the JSON/MD/SVG files. Default: the preset's name, else the model's. */
  name?: string;
  /**
   * Runs trained side by side, each in a worker thread of its own; default 1. On the wasm engine
   * every run is still the single-thread run, bit for bit: this only changes how long the
   * comparison takes. On the native engine each run gets its share of the cores (cores / jobs
   * oneDNN threads), and a run's numbers are those of a single run at that thread count
   * (DOCONV_NATIVE_THREADS). Needs a zoo model or preset. Progress is reported per finished run.
   */
  jobs?: number;
}

/** NAME.json. Accuracies are fractions 0..1. */
export interface ComparisonRecord extends ComparisonHead {
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
  const { out } = opts;
  const jobs = checkNumber('jobs', opts.jobs ?? 1, POSITIVE_INT);
  const trainOpts = omit(opts, COMPARISON_KEYS);
  const runsDir = runsFolder(opts);
  if (out !== undefined) await checkFolderPath('out', out);
  if (runsDir !== undefined) await checkFolderPath('runsDir', runsDir);
  // Never into `/` or the home folder (the runs go into their own run folders, checked likewise).
  if (out !== undefined) await checkOutputPath('out', out);
  // Resolve once up front so bad options fail before any training.
  const shared = resolveConfig({ ...trainOpts, conv: 'conv', seed: seeds[0] });
  const name = opts.name ?? shared.preset ?? shared.model;
  const engine = await selectBackend(opts.backend, opts.log);
  const note = jobsThreadsNote(engine, jobs);
  if (note !== null) opts.log?.(note);
  if (jobs > 1 && typeof opts.model === 'function') {
    throw new Error(
      `jobs > 1 needs a zoo model name or a preset (a model builder function cannot cross threads), got the function ${JSON.stringify(opts.model.name)}`,
    );
  }
  // What crosses into a worker thread: the recipe, without functions, signals or reporters.
  const workerOpts = omit(trainOpts, ['log', 'progress', 'signal']);

  const done = await runPool<TrainConfig, TrainSummary, EpochMetrics>({
    seeds,
    jobs,
    runsDir,
    resolve: (conv, seed) => resolveConfig({ ...trainOpts, conv, seed }),
    differences: (recorded, want) =>
      differingSettings(recorded, want, [...RESUME_KEYS, 'epochs']).map((d) => d.key),
    train: async (run) =>
      jobs > 1
        ? runInWorker(
            { ...workerOpts, ...run },
            engine.backend,
            `doconv ${run.conv} seed ${run.seed}`,
            jobs,
          )
        : withoutModels(await trainModel({ ...trainOpts, backend: undefined, ...run })),
    onRunEnd: opts.onRunEnd,
  });
  const runs = bySide(() => [] as number[]);
  const folded = bySide(() => [] as (number | null)[]);
  const curves = bySide(() => [] as number[][]);
  for (const { conv, summary, history } of done) {
    runs[conv].push(summary.testAccuracy);
    folded[conv].push(summary.foldedTestAccuracy);
    curves[conv].push(history.map((m) => m.testAccuracy));
  }
  const record: ComparisonRecord = {
    ...comparisonHead(opts.command, engine, name),
    preset: shared.preset,
    seeds,
    runs,
    folded,
    curves,
    stats: sideStats(runs),
    reference: shared.preset !== null ? presetByName(shared.preset).reference : null,
    config: omit(shared, ['conv', 'seed']),
  };
  const table = comparisonTable(record);
  const { svg, files } = await publishComparison({ out, name, record, table }, curves, {
    title: `${name}: test accuracy per epoch, ${seeds.length} seed${seeds.length > 1 ? 's' : ''} each`,
  });
  return { record, table, svg, files };
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
