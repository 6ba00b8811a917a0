/**
 * One segmentation or detection run, from a recipe to files: what `doconv train` runs for a zoo
 * model whose task is 'segmentation' or 'detection'. Node-only. The same machinery as trainModel
 * (seeded batches, schedules, weight decay, the trainer's Adam/SGD, atomic checkpoints, resume,
 * metrics.jsonl, fold + folded evaluation), with the task's targets, loss and metrics:
 *
 *   OUT/metrics.jsonl   one TaskEpochMetrics line per epoch
 *   OUT/checkpoint/     model + optimizer + state after the last finished epoch
 *   OUT/folded/         the trained model folded to standard layers (BatchNorm fused)
 *   OUT/summary.json    TaskTrainSummary: final scores, the folded model's, max |Δ| of outputs, config
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { loadMnistScenes } from '../data/mnistScenes.js';
import type { DenseTask } from '../data/sceneBatches.js';
import { checkSceneSet, type SceneSet } from '../data/scenes.js';
import { foldModel } from '../fold/foldModel.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import { buildModel } from '../models/index.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  type BackendChoice,
  checkResumeEngine,
  type EngineRecord,
  machineInfo,
  type MachineInfo,
  selectBackend,
} from './environment.js';
import { METRICS_FILE } from './metrics.js';
import {
  CHECKPOINT_DIR,
  FOLDED_DIR,
  prepareRunFolder,
  runFolder,
  SUMMARY_FILE,
} from './runFolder.js';
import { createOptimizer, type ScheduledOptimizer } from './optimizers.js';
import { createProgress, type ProgressMode, type ProgressReporter } from './progress.js';
import { evaluateTask, type TaskEvaluation } from './taskEvaluate.js';
import { runTaskTraining, type TaskEpochMetrics } from './taskLoop.js';
import {
  resolveTaskConfig,
  taskSettingDifferences,
  type TaskRecipeOptions,
  type TaskTrainConfig,
} from './taskConfig.js';

/** Options of {@link trainTaskModel}. */
export interface TaskTrainOptions extends TaskRecipeOptions {
  /** Your own scenes (e.g. loadCocoFolder); both or neither. */
  train?: SceneSet;
  test?: SceneSet;
  out?: string;
  resume?: boolean;
  overwrite?: boolean;
  /** Resume a checkpoint of another engine or oneDNN thread count (see TrainOptions). */
  allowEngineChange?: boolean;
  /** Fold and evaluate the folded model at the end. Default true. */
  fold?: boolean;
  backend?: BackendChoice;
  progress?: ProgressMode | ProgressReporter;
  signal?: AbortSignal;
  onEpochEnd?: (m: TaskEpochMetrics) => void | Promise<void>;
  log?: (message: string) => void;
}

/** summary.json of a task run. */
export interface TaskTrainSummary {
  model: string;
  task: DenseTask;
  conv: string;
  seed: number;
  /** The TF.js backend's name (also `engine.backend`). */
  backend: string;
  /** What ran the ops: backend, engine and, on 'native', oneDNN's version and thread count. */
  engine: EngineRecord;
  epochs: number;
  trainImages: number;
  testImages: number;
  trainLoss: number;
  test: TaskEvaluation;
  /** The folded model's scores on the test set; null with fold: false. */
  foldedTest: TaskEvaluation | null;
  /** max |output(DO model) − output(folded)| over the test set (logits / raw heads). */
  maxAbsOutputDiff: number | null;
  parameters: { trained: number; folded: number | null };
  imagesPerSecond: number;
  trainSeconds: number;
  date: string;
  machine: MachineInfo;
  config: TaskTrainConfig;
}

/** What trainTaskModel returns; the caller disposes the models. */
export interface TaskTrainResult {
  summary: TaskTrainSummary;
  history: TaskEpochMetrics[];
  model: tf.LayersModel;
  folded: tf.LayersModel | null;
}

interface TaskState {
  config: TaskTrainConfig;
  history: TaskEpochMetrics[];
  backend: string;
  /** Absent in checkpoints written before it was recorded. */
  engine?: EngineRecord;
}

/** The scenes a config asks for. */
export async function loadTaskScenes(
  config: TaskTrainConfig,
): Promise<{ train: SceneSet; test: SceneSet }> {
  const [train, test] = await Promise.all([
    loadMnistScenes({ split: 'train', count: config.trainCount, seed: config.sceneSeed }),
    loadMnistScenes({ split: 'test', count: config.testCount, seed: config.sceneSeed }),
  ]);
  return { train, test };
}

/** Trains, checkpoints, folds and summarises one segmentation or detection run. */
export async function trainTaskModel(opts: TaskTrainOptions): Promise<TaskTrainResult> {
  const config = resolveTaskConfig(opts);
  if ((opts.train === undefined) !== (opts.test === undefined)) {
    throw new Error('trainTaskModel: give both train and test scene sets, or neither');
  }
  const progress =
    typeof opts.progress === 'object' ? opts.progress : createProgress(opts.progress ?? 'none');
  const log = opts.log ?? ((m: string) => progress.message(m));
  const out = opts.out;
  // Lock `out` (and refuse to clobber a run) before any slow work; released however the run ends.
  const release = out !== undefined ? await prepareRunFolder(runFolder(out), opts, log) : undefined;
  try {
    return await runTask(opts, config, progress, log);
  } finally {
    await release?.();
  }
}

/** trainTaskModel once its folder is locked. */
async function runTask(
  opts: TaskTrainOptions,
  config: ReturnType<typeof resolveTaskConfig>,
  progress: ReturnType<typeof createProgress>,
  log: (m: string) => void,
): Promise<TaskTrainResult> {
  const out = opts.out;
  const engine = await selectBackend(opts.backend, log);
  const { train, test } =
    opts.train && opts.test ? { train: opts.train, test: opts.test } : await loadTaskScenes(config);
  checkSceneSet(train);
  checkSceneSet(test);

  let model: tf.LayersModel;
  let optimizer: ScheduledOptimizer;
  let history: TaskEpochMetrics[] = [];
  const checkpointDir = out !== undefined ? path.join(out, CHECKPOINT_DIR) : undefined;
  if (opts.resume && checkpointDir !== undefined && (await hasCheckpoint(checkpointDir))) {
    const ckpt = await loadCheckpoint<TaskState>(checkpointDir);
    try {
      const list = taskSettingDifferences(ckpt.state.config, config);
      if (list.length > 0 || ckpt.state.history.length > config.epochs) {
        throw new Error(
          list.length > 0
            ? `cannot resume ${checkpointDir}: the run's settings differ (${list.join('; ')})`
            : `cannot resume ${checkpointDir}: it is after epoch ${ckpt.state.history.length}, beyond epochs = ${config.epochs}`,
        );
      }
      checkResumeEngine(
        ckpt.state.engine,
        engine,
        checkpointDir,
        opts.allowEngineChange ?? false,
        log,
      );
    } catch (e) {
      ckpt.model.dispose();
      ckpt.optimizer.dispose();
      throw e;
    }
    ({ model, optimizer } = ckpt);
    history = ckpt.state.history;
    await replaceFilesAtomically(out!, [
      { name: METRICS_FILE, data: history.map((m) => JSON.stringify(m) + '\n').join('') },
    ]);
    log(`resumed ${checkpointDir} after epoch ${history.length} of ${config.epochs}`);
  } else {
    if (opts.resume) log(`no checkpoint in ${checkpointDir ?? '(no out)'}: starting from epoch 1`);
    model = buildModel(config.model, {
      conv: config.conv,
      inputShape: [train.height, train.width, train.channels],
      numClasses: config.task === 'segmentation' ? train.numClasses : train.numClasses - 1,
      seed: config.seed,
    });
    optimizer = createOptimizer(config.optimizer);
  }
  try {
    model.setUserDefinedMetadata({ doconv: taskMetadata(config, false) });
    try {
      history = await runTaskTraining(model, optimizer, { train, test }, config, history, {
        progress,
        signal: opts.signal,
        onEpochEnd: async (m, done) => {
          if (out !== undefined) {
            await saveCheckpoint(checkpointDir!, {
              model,
              optimizer,
              state: { config, history: [...done], backend: engine.backend, engine },
            });
            await fs.appendFile(path.join(out, METRICS_FILE), JSON.stringify(m) + '\n');
          }
          await opts.onEpochEnd?.(m);
        },
      });
    } finally {
      progress.stop();
      optimizer.dispose();
    }

    let folded: tf.LayersModel | null = null;
    let final: ReturnType<typeof evaluateTask>;
    if (opts.fold ?? true) {
      folded = foldModel(model, { fuseBatchNorm: true });
      folded.setUserDefinedMetadata({ doconv: taskMetadata(config, true) });
      final = evaluateTask(model, test, config.task, {
        batchSize: config.evalBatchSize,
        topK: config.topK,
        compareWith: folded,
      });
      if (out !== undefined) await folded.save(fileSystem(path.join(out, FOLDED_DIR)));
    } else {
      final = evaluateTask(model, test, config.task, {
        batchSize: config.evalBatchSize,
        topK: config.topK,
      });
    }
    const { compared, maxAbsOutputDiff, ...own } = final;
    const last = history[history.length - 1];
    const summary: TaskTrainSummary = {
      model: config.model,
      task: config.task,
      conv: config.conv,
      seed: config.seed,
      backend: engine.backend,
      engine,
      epochs: history.length,
      trainImages: train.count,
      testImages: test.count,
      trainLoss: last?.trainLoss ?? NaN,
      test: own,
      foldedTest: compared ?? null,
      maxAbsOutputDiff: maxAbsOutputDiff ?? null,
      parameters: { trained: model.countParams(), folded: folded?.countParams() ?? null },
      imagesPerSecond:
        history.reduce((s, m) => s + m.imagesPerSecond, 0) / Math.max(1, history.length),
      trainSeconds: history.reduce((s, m) => s + m.seconds, 0),
      date: new Date().toISOString(),
      machine: machineInfo(),
      config,
    };
    if (out !== undefined) {
      await replaceFilesAtomically(out, [
        { name: SUMMARY_FILE, data: JSON.stringify(summary, null, 2) + '\n' },
      ]);
    }
    return { summary, history, model, folded };
  } catch (e) {
    model.dispose();
    optimizer.dispose();
    throw e;
  }
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
