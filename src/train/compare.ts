/**
 * Baseline vs DO-Conv, for every task: the same recipe trained with conv and with doconv for seeds
 * 1..N, summarised as the official README's table (run1..runN, avg, +, mean ± std; one per metric
 * for segmentation and detection), a JSON record and an SVG of the per-epoch test scores. The
 * library call behind `doconv compare`. Node-only.
 *
 *   OUT/runs/conv-seed1/ … doconv-seedN/   each a full trainModel output folder (or under runsDir)
 *   OUT/NAME.json   {command, date, machine, backend, engine, name, …the task's fields}
 *   OUT/NAME.md     the table(s)
 *   OUT/NAME.svg    the curves
 *
 * Both sides get one options object; only `conv` differs. A run whose summary.json is already there with
 * the same settings is reused, and an interrupted one resumes, so a long comparison can be restarted.
 */
import * as path from 'node:path';
import type { ComparisonFields, TrainSummary } from './classificationTask.js';
import { classificationTask } from './classificationTask.js';
import {
  COMPARISON_KEYS,
  type ComparisonOptions,
  jobsThreadsNote,
  runPool,
  runsFolder,
} from './comparisonPool.js';
import { type ComparisonHead, comparisonHead, publishComparison } from './comparisonRecord.js';
import type { RecipeOptions } from './config.js';
import { selectBackend } from './environment.js';
import { modelFileOf } from './modelFile.js';
import { omit } from './omit.js';
import { checkFolderPath } from './savedModels.js';
import { checkNumber, INTEGER, POSITIVE_INT, RUN_COUNT, showValue } from './numberRules.js';
import { checkWorkerCount, thisMachine } from './parallel/workerLimits.js';
import { runInWorker } from './runInWorker.js';
import { sceneTask, type TaskComparisonFields, type TaskTrainSummary } from './sceneTasks.js';
import { withoutModels } from './trainingRun.js';
import type { EpochLine, RunRecipe, TrainingTask } from './trainingTask.js';
import { taskOf, trainModel, type TrainOptions } from './trainModel.js';
import { OptionError } from '../util/optionError.js';
import { checkOutputPath } from '../io/outputPaths.js';

export { comparisonTable } from './comparisonRecord.js';

/** Options of `compareConvs`: a recipe (preset and/or overrides) for both sides, and how many runs. */
export interface CompareOptions
  extends
    Omit<TrainOptions, 'conv' | 'seed' | 'out' | 'resume' | 'overwrite' | 'onEpochEnd'>,
    ComparisonOptions<TrainSummary> {
  /** Seeds 1..runs. Default 5 (as the official tables); 3 for segmentation and detection. */
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

/** Options of a segmentation or detection comparison (a scene net of the zoo, or `task`). */
export type SceneCompareOptions = Omit<CompareOptions, 'onRunEnd'> &
  ComparisonOptions<TaskTrainSummary> &
  ({ model: 'deeplab-mini' | 'centernet-mini' } | { task: 'segmentation' | 'detection' });

/** NAME.json of a classification comparison. Accuracies are fractions 0..1. */
export type ComparisonRecord = ComparisonHead & ComparisonFields;

/** NAME.json of a segmentation or detection comparison; scores are fractions 0..1. */
export type TaskComparisonRecord = ComparisonHead & TaskComparisonFields;

/** What `compareConvs` returns. */
export interface ComparisonResult<R = ComparisonRecord> {
  record: R;
  /** The Markdown table(s) (README shape). */
  table: string;
  svg: string;
  /** Paths written (empty without out). */
  files: string[];
}

/** Trains both convs for every seed and summarises. */
export function compareConvs(
  opts: SceneCompareOptions,
): Promise<ComparisonResult<TaskComparisonRecord>>;
export function compareConvs(opts: CompareOptions): Promise<ComparisonResult>;
export async function compareConvs(
  opts: CompareOptions | SceneCompareOptions,
): Promise<ComparisonResult<ComparisonRecord | TaskComparisonRecord>> {
  const task = taskOf(opts as RecipeOptions);
  const result =
    task === 'classification'
      ? compareWith(classificationTask, opts as CompareOptions)
      : compareWith(sceneTask(task), opts as SceneCompareOptions);
  // The record is the head and the task's fields: ComparisonRecord or TaskComparisonRecord.
  return result as Promise<ComparisonResult<ComparisonRecord | TaskComparisonRecord>>;
}

/** The base name of a comparison's files: `name`, else the task's default (preset, else model). */
export function comparisonName(opts: CompareOptions | SceneCompareOptions): string {
  if (opts.name !== undefined) return opts.name;
  const file = modelFileOf(opts.model);
  if (file !== undefined) return modelFileName(file);
  const task = taskOf(opts as RecipeOptions);
  const recipe = { ...omit(opts, COMPARISON_KEYS), conv: 'conv' as const, seed: 1 };
  return task === 'classification'
    ? classificationTask.comparison.defaultName(classificationTask.resolve(recipe))
    : sceneTask(task).comparison.defaultName(sceneTask(task).resolve(recipe));
}

/**
 * The default name of a comparison of a saved model (loadModelBuilder's): its folder's name for
 * `DIR/model.json`, else the file's name without `.json` — a file name, where the path has slashes.
 */
function modelFileName(file: string): string {
  const base = path.basename(file);
  const name = base === 'model.json' ? path.basename(path.dirname(path.resolve(file))) : base;
  return name.replace(/\.json$/i, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'model';
}

/** The one comparison, of `task`'s runs. */
async function compareWith<O extends RecipeOptions, C extends RunRecipe, M extends EpochLine, S>(
  task: TrainingTask<O, C, M, S>,
  opts: O &
    ComparisonOptions<S> &
    Pick<TrainOptions, 'backend' | 'log' | 'progress' | 'signal' | 'oversubscribe'>,
): Promise<ComparisonResult<ComparisonHead & object>> {
  const seeds = checkSeeds(opts, task.comparison.defaultRuns);
  const { out } = opts;
  const jobs = checkNumber('jobs', opts.jobs ?? 1, POSITIVE_INT);
  // Each run side by side is a worker thread: no more than the cores (and memory) take, unless
  // told to (a run's own `workers` are checked when it starts them).
  checkWorkerCount(Math.min(jobs, 2 * seeds.length), opts.oversubscribe, thisMachine(), 'jobs');
  const recipe = omit(opts, COMPARISON_KEYS) as unknown as O;
  const runsDir = runsFolder(opts);
  if (out !== undefined) await checkFolderPath('out', out);
  if (runsDir !== undefined) await checkFolderPath('runsDir', runsDir);
  // Never into `/` or the home folder (the runs go into their own run folders, checked likewise).
  if (out !== undefined) await checkOutputPath('out', out);
  // Resolve once up front so bad options fail before any training.
  const shared = task.resolve({ ...recipe, conv: 'conv', seed: seeds[0] });
  const modelFile = modelFileOf(opts.model);
  const name =
    opts.name ??
    (modelFile !== undefined ? modelFileName(modelFile) : task.comparison.defaultName(shared));
  const engine = await selectBackend(opts.backend, opts.log);
  const note = jobsThreadsNote(engine, jobs);
  if (note !== null) opts.log?.(note);
  if (jobs > 1 && typeof opts.model === 'function' && modelFile === undefined) {
    throw new OptionError(
      ['jobs', 'model'],
      (n) =>
        `${n('jobs')} > 1 needs a zoo ${n('model')} name, a preset or loadModelBuilder's builder (a model builder function cannot cross threads), got the function ${JSON.stringify(opts.model && (opts.model as { name: string }).name)}`,
    );
  }
  // What crosses into a worker thread: the recipe, without functions, signals or reporters (a
  // saved model's builder crosses as its file, which the worker loads).
  const workerOpts = omit(recipe as RecipeOptions & TrainOptions, ['log', 'progress', 'signal']);
  if (modelFile !== undefined) delete workerOpts.model;
  const done = await runPool<C, S & { config: C }, M>({
    seeds,
    jobs,
    runsDir,
    resolve: (conv, seed) => task.resolve({ ...recipe, conv, seed }),
    differences: (recorded, want) => task.reuseDifferences(recorded, want),
    train: async (run) =>
      (jobs > 1
        ? runInWorker(
            { ...workerOpts, ...run } as TrainOptions,
            engine.backend,
            `doconv ${run.conv} seed ${run.seed}`,
            jobs,
            modelFile,
          )
        : withoutModels(
            await trainModel({ ...recipe, backend: undefined, ...run } as TrainOptions),
          )) as unknown as { summary: S & { config: C }; history: M[] },
    onRunEnd: opts.onRunEnd,
  });
  const { fields, curves, table, plot } = task.comparison.summarise(done, shared, seeds, name);
  const record = { ...comparisonHead(opts.command, engine, name), ...fields };
  const { svg, files } = await publishComparison({ out, name, record, table }, curves, plot);
  return { record, table, svg, files };
}

/** Seeds 1..runs, or the seeds given: integers, at least one, none repeated. */
function checkSeeds(opts: { seeds?: number[]; runs?: number }, defaultRuns: number): number[] {
  if (opts.seeds === undefined && opts.runs !== undefined) {
    checkNumber('runs', opts.runs, RUN_COUNT);
  }
  const seeds = opts.seeds ?? Array.from({ length: opts.runs ?? defaultRuns }, (_, i) => i + 1);
  if (!Array.isArray(seeds) || seeds.length === 0) {
    throw new Error(`seeds must be a non-empty array of integers, got ${showValue(seeds)}`);
  }
  seeds.forEach((seed, i) => checkNumber(`seeds[${i}]`, seed, INTEGER));
  if (new Set(seeds).size !== seeds.length) {
    throw new OptionError(
      'seeds',
      (n) =>
        `${n('seeds')} must not repeat (each run has a folder of its own), got ${showValue(seeds)}`,
    );
  }
  return seeds;
}
