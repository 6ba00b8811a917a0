/**
 * One training run from a recipe to files, for every task: the library call behind `doconv train`.
 * The model's task (or `task`) picks the task value (classificationTask.ts, sceneTasks.ts); the run
 * around it is the same for all. Node-only.
 *
 *   OUT/metrics.jsonl   one metrics line per epoch (the task's)
 *   OUT/checkpoint/     model + optimizer + state after the last finished epoch (see checkpoint.ts)
 *   OUT/folded/         the trained model folded to standard layers (BatchNorm fused), TF.js format
 *   OUT/summary.json    the task's summary: final scores, the folded model's, max |Δ| of outputs, config
 *   OUT/curves.svg      losses and scores per epoch (trainingCurves.ts)
 */
import type * as tf from '@tensorflow/tfjs';
import { foldModel } from '../fold/foldModel.js';
import { isZooModelName, type ZooTask, zooModelTask } from '../models/index.js';
import { OptionError } from '../util/optionError.js';
import {
  type ClassificationOptions,
  classificationTask,
  type TrainSummary,
} from './classificationTask.js';
import { selectBackend } from './environment.js';
import { runEpochLoop } from './epochLoop.js';
import type { EpochMetrics } from './metrics.js';
import { createOptimizer } from './optimizers.js';
import type { ProgressReporter } from './progress.js';
import { sceneTask, type TaskEpochMetrics, type TaskTrainSummary } from './sceneTasks.js';
import type { RecipeOptions } from './config.js';
import {
  checkpointing,
  dateAndMachine,
  openRun,
  resumeRun,
  type RunContext,
  type RunOptions,
  type RunResult,
  runTotals,
  type Start,
  writeResults,
} from './trainingRun.js';
import { modelSources } from './modelFile.js';
import { trainSteps } from './trainSteps.js';
import type { EpochLine, RunRecipe, TaskEpochs, TrainingTask } from './trainingTask.js';

export { CHECKPOINT_DIR, FOLDED_DIR, SUMMARY_FILE } from './runFolder.js';
export type { TrainSummary } from './classificationTask.js';
export type { DoconvModelMetadata } from './modelMetadata.js';

/** Options of `trainModel`: the recipe (see RecipeOptions) plus where and how to run it. */
export interface TrainOptions extends ClassificationOptions, RunOptions<EpochMetrics> {}

/** What `trainModel` returns for a classifier; the caller owns (and disposes) `model` and `folded`. */
export type TrainResult = RunResult<TrainSummary, EpochMetrics>;

/** What `trainModel` returns for a segmentation or detection net. */
export type TaskTrainResult = RunResult<TaskTrainSummary, TaskEpochMetrics>;

/**
 * Options of a segmentation or detection run (a scene net of the zoo, or `task`): the same recipe
 * and run options, with the task's metrics lines for `onEpochEnd`.
 */
export type SceneTrainOptions = RecipeOptions &
  RunOptions<TaskEpochMetrics> &
  ({ model: 'deeplab-mini' | 'centernet-mini' } | { task: 'segmentation' | 'detection' });

/**
 * Trains, checkpoints, folds and summarises one run of any task.
 *
 * Who disposes what: the model and optimizer of the start (fresh or a checkpoint's) are this
 * run's; the optimizer is disposed when the epochs end, however they end; any error disposes the
 * model too (and the folded model). On success the caller owns both models.
 */
export function trainModel(opts: SceneTrainOptions): Promise<TaskTrainResult>;
export function trainModel(opts: TrainOptions): Promise<TrainResult>;
export async function trainModel(
  opts: TrainOptions | SceneTrainOptions,
): Promise<TrainResult | TaskTrainResult> {
  const task = taskOf(opts);
  return task === 'classification'
    ? runTask(classificationTask, opts as TrainOptions)
    : runTask(sceneTask(task), opts as SceneTrainOptions);
}

/** The run's task: the model's own, checked against `task`; `task` alone; else classification. */
export function taskOf(opts: RecipeOptions): ZooTask {
  const { model, task } = opts;
  const own = typeof model === 'string' && isZooModelName(model) ? zooModelTask(model) : undefined;
  if (task !== undefined && own !== undefined && task !== own) {
    throw new OptionError(
      ['task', 'model'],
      (n) => `${n('task')} ${task} does not match ${n('model')} ${model as string}, a ${own} model`,
    );
  }
  if (task === undefined && model === undefined && opts.preset === undefined) {
    if (opts.dataset === 'mnist-scenes') {
      throw new OptionError(
        ['dataset', 'task', 'model'],
        (n) =>
          `${n('dataset')} mnist-scenes needs a segmentation or detection model: ${n('task')} segmentation|detection, or ${n('model')} deeplab-mini|centernet-mini`,
      );
    }
  }
  return task ?? own ?? 'classification';
}

/** One run of `task`: the steps every task shares, in order. */
async function runTask<O, C extends RunRecipe, M extends EpochLine, S>(
  task: TrainingTask<O, C, M, S>,
  opts: O & RunOptions<M>,
): Promise<RunResult<S, M>> {
  const config = task.resolve(opts);
  // The run folder is refused when it is, holds or lies in what the run reads: the data folder,
  // a model file (`model` from loadModelBuilder) or starting weights (withInitialWeights).
  const { dataDir, model } = opts as { dataDir?: unknown; model?: unknown };
  const inputs = [
    ...(typeof dataDir === 'string' ? [{ what: 'dataDir', path: dataDir }] : []),
    ...modelSources(model),
  ];
  const { folder, progress, log, release } = await openRun(opts, inputs);
  try {
    const engine = await selectBackend(opts.backend, log);
    const run = await task.prepare(config, opts, log);
    const ctx: RunContext<C> = { config, folder, engine };
    const differences = (saved: C) => task.resumeDifferences(saved, config);
    const resumed = await resumeRun<C, M>(ctx, opts, differences, log);
    // (A folder holding a run without a checkpoint was refused by prepareRunFolder.)
    if (resumed === null && opts.resume) {
      log(`nothing to resume in ${folder?.out ?? '(no out)'}: starting from epoch 1`);
    }
    // An optimizer holds no tensors before its first step, so a failing build leaks nothing.
    const start: Start<M> = resumed ?? {
      optimizer: createOptimizer(config.optimizer),
      model: run.buildModel(),
      history: [],
    };
    try {
      const epochs = run.adopt(start.model);
      const history = await trainEpochs(ctx, start, epochs, opts, progress);
      return await finishRun(ctx, start.model, history, epochs, opts.fold ?? true);
    } catch (e) {
      start.model.dispose();
      start.optimizer.dispose(); // a no-op once the epochs have disposed it
      throw e;
    }
  } finally {
    await release();
  }
}

/**
 * Trains from the start's epoch to the last, writing a checkpoint and a metrics line after each;
 * stops the progress display and disposes the optimizer when the epochs end, however they end.
 */
async function trainEpochs<C extends RunRecipe, M extends EpochLine, S>(
  ctx: RunContext<C>,
  start: Start<M>,
  epochs: TaskEpochs<M, S>,
  opts: RunOptions<M>,
  progress: ProgressReporter,
): Promise<M[]> {
  const { config } = ctx;
  const { model, optimizer } = start;
  const settings = { ...config, learningRate: config.optimizer.learningRate };
  try {
    return await runEpochLoop(model, optimizer, start.history, {
      epochs: config.epochs,
      workers: {
        count: config.workers,
        loss: epochs.workerLoss,
        imports: epochs.workerImports,
        oversubscribe: opts.oversubscribe,
      },
      train: (epoch, parallel) =>
        trainSteps(model, optimizer, epoch, epochs.batches(epoch), settings, epochs.step, {
          progress,
          signal: opts.signal,
          parallel,
        }),
      evaluate: () => epochs.evaluate(),
      afterEpoch: checkpointing(ctx, start, opts.onEpochEnd),
      report: (metrics) => epochs.report(progress, metrics),
    });
  } finally {
    progress.stop();
    optimizer.dispose();
  }
}

/**
 * Folds the trained model (with `fold`), has the task score it and summarise the run, writes the
 * folded model and summary.json; disposes the folded model if anything here fails.
 */
async function finishRun<C, M extends EpochLine, S>(
  ctx: RunContext<C>,
  model: tf.LayersModel,
  history: M[],
  epochs: TaskEpochs<M, S>,
  fold: boolean,
): Promise<RunResult<S, M>> {
  if (history.length === 0) {
    throw new Error('the run finished no epoch: there is nothing to summarise');
  }
  const folded = fold ? foldModel(model, { fuseBatchNorm: true }) : null;
  try {
    const totals = runTotals(model, folded, history);
    const facts = { model, history, engine: ctx.engine, totals, ...dateAndMachine() };
    const summary = epochs.summarise(folded, facts);
    if (ctx.folder !== undefined) {
      await writeResults(ctx.folder, folded, summary as { model: string; conv: string }, history);
    }
    return { summary, history, model, folded };
  } catch (e) {
    folded?.dispose();
    throw e;
  }
}
