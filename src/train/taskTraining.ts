/**
 * One segmentation or detection run, from a recipe to files: what `doconv train` runs for a zoo
 * model whose task is 'segmentation' or 'detection'. Node-only. The same machinery as trainModel
 * (trainingRun.ts: the run folder, resume, checkpoints, metrics.jsonl, fold + summary; the shared
 * step and epoch loops), with the task's targets, loss and metrics:
 *
 *   OUT/metrics.jsonl   one TaskEpochMetrics line per epoch
 *   OUT/checkpoint/     model + optimizer + state after the last finished epoch
 *   OUT/folded/         the trained model folded to standard layers (BatchNorm fused)
 *   OUT/summary.json    TaskTrainSummary: final scores, the folded model's, max |Δ| of outputs, config
 */
import type * as tf from '@tensorflow/tfjs';
import { loadMnistScenes } from '../data/mnistScenes.js';
import type { DenseTask } from '../data/sceneBatches.js';
import { checkSceneSet, type SceneSet } from '../data/scenes.js';
import { buildModel } from '../models/index.js';
import { selectBackend } from './environment.js';
import { createOptimizer } from './optimizers.js';
import {
  resolveTaskConfig,
  taskSettingDifferences,
  type TaskRecipeOptions,
  type TaskTrainConfig,
} from './taskConfig.js';
import { evaluateTask, type TaskEvaluation } from './taskEvaluate.js';
import { runTaskTraining, type TaskEpochMetrics } from './taskLoop.js';
import {
  dateAndMachine,
  disposingOnFailure,
  foldAndSummarise,
  inRunFolder,
  resumeRun,
  runCheckpointedEpochs,
  type RunContext,
  type RunOptions,
  type RunResult,
  type RunSummary,
  runTotals,
  type Start,
} from './trainingRun.js';

/** Options of {@link trainTaskModel}: the task recipe plus where and how to run it. */
export interface TaskTrainOptions extends TaskRecipeOptions, RunOptions<TaskEpochMetrics> {
  /** Your own scenes (e.g. loadCocoFolder); both or neither. */
  train?: SceneSet;
  test?: SceneSet;
}

/** summary.json of a task run. */
export interface TaskTrainSummary extends RunSummary<TaskTrainConfig> {
  task: DenseTask;
  test: TaskEvaluation;
  /** The folded model's scores on the test set; null with fold: false. */
  foldedTest: TaskEvaluation | null;
  /** max |output(DO model) − output(folded)| over the test set (logits / raw heads). */
  maxAbsOutputDiff: number | null;
}

/** What trainTaskModel returns; the caller disposes the models. */
export type TaskTrainResult = RunResult<TaskTrainSummary, TaskEpochMetrics>;

type Scenes = { train: SceneSet; test: SceneSet };

/** Trains, checkpoints, folds and summarises one segmentation or detection run. */
export async function trainTaskModel(opts: TaskTrainOptions): Promise<TaskTrainResult> {
  const config = resolveTaskConfig(opts);
  if ((opts.train === undefined) !== (opts.test === undefined)) {
    throw new Error('trainTaskModel: give both train and test scene sets, or neither');
  }
  return inRunFolder(opts, async (folder, { progress, log }) => {
    const engine = await selectBackend(opts.backend, log);
    const data =
      opts.train && opts.test
        ? { train: opts.train, test: opts.test }
        : await loadTaskScenes(config);
    checkSceneSet(data.train);
    checkSceneSet(data.test);
    const run: RunContext<TaskTrainConfig> = { config, folder, engine };
    const start = await startingPoint(opts, run, data.train, log);
    return disposingOnFailure(start, async () => {
      start.model.setUserDefinedMetadata({ doconv: taskMetadata(config, false) });
      const history = await runCheckpointedEpochs(
        run,
        start,
        progress,
        opts.onEpochEnd,
        (onEpochEnd) =>
          runTaskTraining(start.model, start.optimizer, data, config, start.history, {
            progress,
            signal: opts.signal,
            onEpochEnd,
          }),
      );
      return await finishTask(run, data, start.model, history, opts.fold ?? true);
    });
  });
}

/** The scenes a config asks for. */
async function loadTaskScenes(config: TaskTrainConfig): Promise<Scenes> {
  const [train, test] = await Promise.all([
    loadMnistScenes({ split: 'train', count: config.trainCount, seed: config.sceneSeed }),
    loadMnistScenes({ split: 'test', count: config.testCount, seed: config.sceneSeed }),
  ]);
  return { train, test };
}

/** The checkpoint's state with `resume` and a checkpoint in `out`, else a new model and optimizer. */
async function startingPoint(
  opts: TaskTrainOptions,
  run: RunContext<TaskTrainConfig>,
  train: SceneSet,
  log: (message: string) => void,
): Promise<Start<TaskEpochMetrics>> {
  const { config, folder } = run;
  const differences = (saved: TaskTrainConfig) => taskSettingDifferences(saved, config);
  const resumed = await resumeRun<TaskTrainConfig, TaskEpochMetrics>(run, opts, differences, log);
  if (resumed !== null) return resumed;
  if (opts.resume) {
    log(`no checkpoint in ${folder?.checkpoint ?? '(no out)'}: starting from epoch 1`);
  }
  const model = buildModel(config.model, {
    conv: config.conv,
    inputShape: [train.height, train.width, train.channels],
    // Detection scenes count the background as a class; the heat map has a channel per digit.
    numClasses: config.task === 'segmentation' ? train.numClasses : train.numClasses - 1,
    seed: config.seed,
  });
  return { model, optimizer: createOptimizer(config.optimizer), history: [] };
}

/**
 * Folds the trained model (with `fold`), scores it and the folded one on the test scenes in one
 * pass, writes the folded model and summary.json, and returns the result.
 */
function finishTask(
  run: RunContext<TaskTrainConfig>,
  data: Scenes,
  model: tf.LayersModel,
  history: TaskEpochMetrics[],
  fold: boolean,
): Promise<TaskTrainResult> {
  const { config } = run;
  const check = (folded: tf.LayersModel | null) => {
    folded?.setUserDefinedMetadata({ doconv: taskMetadata(config, true) });
    return evaluateTask(model, data.test, config.task, {
      batchSize: config.evalBatchSize,
      topK: config.topK,
      ...(folded !== null ? { compareWith: folded } : {}),
    });
  };
  return foldAndSummarise(model, history, run.folder, fold, check, (final, folded) => {
    const { compared, maxAbsOutputDiff, ...own } = final;
    const last = history[history.length - 1];
    return {
      model: config.model,
      task: config.task,
      conv: config.conv,
      seed: config.seed,
      backend: run.engine.backend,
      engine: run.engine,
      epochs: history.length,
      trainImages: data.train.count,
      testImages: data.test.count,
      trainLoss: last?.trainLoss ?? NaN,
      test: own,
      foldedTest: compared ?? null,
      maxAbsOutputDiff: maxAbsOutputDiff ?? null,
      ...runTotals(model, folded, history),
      ...dateAndMachine(),
      config,
    };
  });
}

/** What a saved task model records, so `doconv eval` knows what it is. */
function taskMetadata(config: TaskTrainConfig, folded: boolean): Record<string, unknown> {
  return {
    model: config.model,
    task: config.task,
    conv: config.conv,
    dataset: config.dataset,
    sceneSeed: config.sceneSeed,
    testCount: config.testCount,
    topK: config.topK,
    normalize: 'none',
    outputKind: 'logits',
    folded,
  };
}
