/**
 * Conv vs DO-Conv on a segmentation or detection net: the same recipe trained with conv and with
 * doconv for seeds 1..N, summarised per metric as the classification comparisons are (run1..runN,
 * avg, +, mean ± std), with a JSON record and an SVG of the per-epoch headline score. What
 * `doconv compare --model deeplab-mini|centernet-mini` runs. Node-only.
 *
 *   OUT/runs/conv-seed1/ … doconv-seedN/   each a trainTaskModel output folder (or under runsDir)
 *   OUT/NAME.json   TaskComparisonRecord
 *   OUT/NAME.md     one table per metric
 *   OUT/NAME.svg    the curves
 *
 * A run whose summary.json is there with the same settings is reused and an interrupted one resumes.
 */
import { CHECKPOINT_DIR, SUMMARY_FILE } from './runFolder.js';
import { METRICS_FILE } from './metrics.js';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import { runTaskInWorker } from './runInWorker.js';
import { COMPARED_CONVS, comparisonTable, inPool, meanStd, type MeanStd } from './compare.js';
import {
  type BackendChoice,
  type EngineRecord,
  machineInfo,
  type MachineInfo,
  selectBackend,
} from './environment.js';
import { hasCheckpoint } from './checkpoint.js';
import { accuracyCurvesSvg } from './plot.js';
import { omit } from './omit.js';
import { resolveTaskConfig, type TaskRecipeOptions, type TaskTrainConfig } from './taskConfig.js';
import type { TaskEpochMetrics } from './taskLoop.js';
import { trainTaskModel, type TaskTrainOptions, type TaskTrainSummary } from './taskTraining.js';
import { formatValue } from '../util/formatValue.js';

type Side = (typeof COMPARED_CONVS)[number];

/** Options of {@link compareTaskConvs}. */
export interface TaskCompareOptions extends Omit<TaskRecipeOptions, 'conv' | 'seed'> {
  /** Seeds 1..runs. Default 3. */
  runs?: number;
  seeds?: number[];
  out?: string;
  runsDir?: string;
  /** Base name of the files. Default: the model's name. */
  name?: string;
  command?: string;
  /** Runs trained side by side, each in a worker thread of its own; default 1. */
  jobs?: number;
  backend?: BackendChoice;
  log?: (message: string) => void;
  onRunEnd?: (summary: TaskTrainSummary, reused: boolean) => void | Promise<void>;
}

/** The metrics a task's comparison reports, headline first. */
export const TASK_METRICS = {
  segmentation: [
    { key: 'meanIoU', label: 'mIoU' },
    { key: 'pixelAccuracy', label: 'pixel accuracy' },
  ],
  detection: [
    { key: 'ap', label: 'AP@[.5:.95]' },
    { key: 'ap50', label: 'AP@0.5' },
  ],
} as const;

/** NAME.json of a task comparison; scores are fractions 0..1. */
export interface TaskComparisonRecord {
  command: string;
  date: string;
  machine: MachineInfo;
  /** The TF.js backend's name (also `engine.backend`). */
  backend: string;
  /** What ran the runs trained here (reused runs record their own in their summary.json). */
  engine: EngineRecord;
  name: string;
  task: TaskTrainConfig['task'];
  seeds: number[];
  /** metric → side → final test score of each run, in seed order. */
  runs: Record<string, Record<Side, number[]>>;
  /** metric → side → the folded model's score of each run. */
  folded: Record<string, Record<Side, (number | null)[]>>;
  /** Largest |output(DO model) − output(folded)| of each run. */
  maxAbsOutputDiff: Record<Side, (number | null)[]>;
  /** Per-epoch headline score of each run. */
  curves: Record<Side, number[][]>;
  stats: Record<string, Record<Side, MeanStd> & { difference: number }>;
  /** Mean training throughput and time of each side's runs. */
  speed: Record<Side, { imagesPerSecond: number; trainSeconds: number }>;
  config: Omit<TaskTrainConfig, 'conv' | 'seed'>;
}

/** What compareTaskConvs returns. */
export interface TaskComparisonResult {
  record: TaskComparisonRecord;
  table: string;
  svg: string;
  files: string[];
}

function scoresOf(s: TaskTrainSummary['test'] | null): Record<string, number> | null {
  if (s === null) return null;
  return (s.segmentation ?? s.detection) as unknown as Record<string, number>;
}

/** Trains both convs for every seed and summarises. */
export async function compareTaskConvs(opts: TaskCompareOptions): Promise<TaskComparisonResult> {
  const seeds = opts.seeds ?? Array.from({ length: opts.runs ?? 3 }, (_, i) => i + 1);
  if (seeds.length === 0 || !seeds.every(Number.isInteger)) {
    throw new Error(
      `runs must be a positive integer (seeds 1..runs), got seeds ${formatValue(seeds)}`,
    );
  }
  const jobs = opts.jobs ?? 1;
  if (!(Number.isInteger(jobs) && jobs >= 1)) {
    throw new Error(`jobs must be an integer ≥ 1, got ${formatValue(opts.jobs)}`);
  }
  const { out, command, log, onRunEnd } = opts;
  const recipe = omit(opts, [
    'runs',
    'seeds',
    'out',
    'runsDir',
    'name',
    'command',
    'jobs',
    'backend',
    'log',
    'onRunEnd',
  ]);
  const runsDir = opts.runsDir ?? (out !== undefined ? path.join(out, 'runs') : undefined);
  const shared = resolveTaskConfig({ ...recipe, conv: 'conv', seed: seeds[0] });
  const name = opts.name ?? shared.model;
  const engine = await selectBackend(opts.backend, log);

  const runOne = async ({ seed, conv }: { seed: number; conv: Side }) => {
    const runDir = runsDir !== undefined ? path.join(runsDir, `${conv}-seed${seed}`) : undefined;
    const want = resolveTaskConfig({ ...recipe, conv, seed });
    const finished = runDir ? await reusableSummary(runDir, want) : null;
    if (finished !== null) {
      const lines = (await fs.readFile(path.join(runDir!, METRICS_FILE), 'utf8'))
        .trim()
        .split('\n');
      return {
        summary: finished,
        history: lines.map((l) => JSON.parse(l) as TaskEpochMetrics),
        reused: true,
      };
    }
    const resume = runDir !== undefined && (await hasCheckpoint(path.join(runDir, CHECKPOINT_DIR)));
    const run: TaskTrainOptions = {
      ...recipe,
      conv,
      seed,
      out: runDir,
      resume,
      overwrite: !resume,
    };
    if (jobs > 1)
      return {
        ...(await runTaskInWorker(
          run,
          engine.backend,
          `doconv ${name} ${conv} seed ${seed}`,
          jobs,
        )),
        reused: false,
      };
    const r = await trainTaskModel({ ...run, log });
    r.model.dispose();
    r.folded?.dispose();
    return { summary: r.summary, history: r.history, reused: false };
  };

  const tasks = seeds.flatMap((seed) => COMPARED_CONVS.map((conv) => ({ seed, conv })));
  const done = await inPool(tasks, jobs, async (t) => {
    const r = await runOne(t);
    await onRunEnd?.(r.summary, r.reused);
    return r;
  });

  const metrics = TASK_METRICS[shared.task];
  const side = <T>(make: () => T): Record<Side, T> => ({ conv: make(), doconv: make() });
  const runs: TaskComparisonRecord['runs'] = {};
  const folded: TaskComparisonRecord['folded'] = {};
  const stats: TaskComparisonRecord['stats'] = {};
  for (const { key } of metrics) {
    runs[key] = side(() => [] as number[]);
    folded[key] = side(() => [] as (number | null)[]);
  }
  const curves = side(() => [] as number[][]);
  const maxDiff = side(() => [] as (number | null)[]);
  const speedSum = side(() => ({ imagesPerSecond: 0, trainSeconds: 0 }));
  tasks.forEach(({ conv }, i) => {
    const { summary, history } = done[i];
    const own = scoresOf(summary.test)!;
    const fold = scoresOf(summary.foldedTest);
    for (const { key } of metrics) {
      runs[key][conv].push(own[key]);
      folded[key][conv].push(fold ? fold[key] : null);
    }
    curves[conv].push(history.map((m) => m.testScore));
    maxDiff[conv].push(summary.maxAbsOutputDiff);
    speedSum[conv].imagesPerSecond += summary.imagesPerSecond / seeds.length;
    speedSum[conv].trainSeconds += summary.trainSeconds / seeds.length;
  });
  for (const { key } of metrics) {
    const c = meanStd(runs[key].conv);
    const d = meanStd(runs[key].doconv);
    stats[key] = { conv: c, doconv: d, difference: d.mean - c.mean };
  }
  const config = omit(shared, ['conv', 'seed']);
  const record: TaskComparisonRecord = {
    command: command ?? '',
    date: new Date().toISOString(),
    machine: machineInfo(),
    backend: engine.backend,
    engine,
    name,
    task: shared.task,
    seeds,
    runs,
    folded,
    maxAbsOutputDiff: maxDiff,
    curves,
    stats,
    speed: speedSum,
    config,
  };
  const table = taskComparisonTable(record);
  const headline = metrics[0].label;
  const svg = accuracyCurvesSvg(
    [
      { label: 'Conv (baseline)', color: '#1f77b4', runs: curves.conv },
      { label: 'DO-Conv', color: '#d62728', runs: curves.doconv },
    ],
    {
      title: `${shared.model} on ${shared.dataset}: test ${headline} per epoch, ${seeds.length} seed${seeds.length > 1 ? 's' : ''} each`,
      yLabel: `test ${headline} (%)`,
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

/** One table per metric, in % (the classification comparisons' shape). */
export function taskComparisonTable(record: TaskComparisonRecord): string {
  return TASK_METRICS[record.task]
    .map(
      ({ key, label }) =>
        `**${label}** (%)\n\n` +
        comparisonTable({
          runs: record.runs[key],
          stats: record.stats[key],
          reference: null,
          name: record.name,
        }),
    )
    .join('\n');
}

async function reusableSummary(
  dir: string,
  want: TaskTrainConfig,
): Promise<TaskTrainSummary | null> {
  let summary: TaskTrainSummary;
  try {
    summary = JSON.parse(
      await fs.readFile(path.join(dir, SUMMARY_FILE), 'utf8'),
    ) as TaskTrainSummary;
  } catch {
    return null;
  }
  const differ = (Object.keys(want) as (keyof TaskTrainConfig)[]).filter(
    (k) => k !== 'evalBatchSize' && JSON.stringify(summary.config[k]) !== JSON.stringify(want[k]),
  );
  if (differ.length > 0) {
    throw new Error(
      `${path.join(dir, SUMMARY_FILE)} is a finished run with other settings (${differ.join(', ')}); use another --out`,
    );
  }
  return summary;
}
