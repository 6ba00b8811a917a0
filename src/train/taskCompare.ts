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
import { comparisonTable } from './compare.js';
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
import { type BackendChoice, selectBackend } from './environment.js';
import { omit } from './omit.js';
import { withoutModels } from './trainingRun.js';
import { runTaskInWorker } from './runInWorker.js';
import { resolveTaskConfig, type TaskRecipeOptions, type TaskTrainConfig } from './taskConfig.js';
import type { TaskEpochMetrics } from './taskLoop.js';
import { trainTaskModel, type TaskTrainSummary } from './taskTraining.js';
import { formatValue } from '../util/formatValue.js';

/** Options of {@link compareTaskConvs}. */
export interface TaskCompareOptions
  extends Omit<TaskRecipeOptions, 'conv' | 'seed'>, ComparisonOptions<TaskTrainSummary> {
  /** Seeds 1..runs. Default 3. */
  runs?: number;
  /** Base name of the files. Default: the model's name. */
  name?: string;
  backend?: BackendChoice;
  log?: (message: string) => void;
  /** Resume interrupted runs whose checkpoint another engine or thread count wrote (see trainTaskModel). */
  allowEngineChange?: boolean;
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
export interface TaskComparisonRecord extends ComparisonHead {
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
  const { log } = opts;
  const recipe = omit(opts, [...COMPARISON_KEYS, 'backend', 'log']);
  const shared = resolveTaskConfig({ ...recipe, conv: 'conv', seed: seeds[0] });
  const name = opts.name ?? shared.model;
  const engine = await selectBackend(opts.backend, log);
  const note = jobsThreadsNote(engine, jobs);
  if (note !== null) log?.(note);

  const done = await runPool<TaskTrainConfig, TaskTrainSummary, TaskEpochMetrics>({
    seeds,
    jobs,
    runsDir: runsFolder(opts),
    resolve: (conv, seed) => resolveTaskConfig({ ...recipe, conv, seed }),
    // Every setting but the evaluation batch size (which changes no score beyond rounding).
    differences: (recorded, want) =>
      (Object.keys(want) as (keyof TaskTrainConfig)[]).filter(
        (k) => k !== 'evalBatchSize' && JSON.stringify(recorded[k]) !== JSON.stringify(want[k]),
      ),
    train: async (run) =>
      jobs > 1
        ? runTaskInWorker(
            { ...recipe, ...run },
            engine.backend,
            `doconv ${name} ${run.conv} seed ${run.seed}`,
            jobs,
          )
        : withoutModels(await trainTaskModel({ ...recipe, ...run, log })),
    onRunEnd: opts.onRunEnd,
  });

  const metrics = TASK_METRICS[shared.task];
  const runs: TaskComparisonRecord['runs'] = {};
  const folded: TaskComparisonRecord['folded'] = {};
  const stats: TaskComparisonRecord['stats'] = {};
  for (const { key } of metrics) {
    runs[key] = bySide(() => [] as number[]);
    folded[key] = bySide(() => [] as (number | null)[]);
  }
  const curves = bySide(() => [] as number[][]);
  const maxDiff = bySide(() => [] as (number | null)[]);
  const speedSum = bySide(() => ({ imagesPerSecond: 0, trainSeconds: 0 }));
  for (const { conv, summary, history } of done) {
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
  }
  for (const { key } of metrics) stats[key] = sideStats(runs[key]);
  const record: TaskComparisonRecord = {
    ...comparisonHead(opts.command, engine, name),
    task: shared.task,
    seeds,
    runs,
    folded,
    maxAbsOutputDiff: maxDiff,
    curves,
    stats,
    speed: speedSum,
    config: omit(shared, ['conv', 'seed']),
  };
  const table = taskComparisonTable(record);
  const headline = metrics[0].label;
  const { svg, files } = await publishComparison({ out: opts.out, name, record, table }, curves, {
    title: `${shared.model} on ${shared.dataset}: test ${headline} per epoch, ${seeds.length} seed${seeds.length > 1 ? 's' : ''} each`,
    yLabel: `test ${headline} (%)`,
  });
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
