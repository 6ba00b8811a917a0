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
// The wasm backend needs doconv's gradient kernels to train; registering is idempotent.
import '../engine/register.js';
import { loadMnistScenes } from '../data/mnistScenes.js';
import { mixSeeds } from '../data/prng.js';
import { sceneBatchCount, sceneBatches, type DenseTask } from '../data/sceneBatches.js';
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
import { describeNonFinite, finiteProbe, NonFiniteError } from './nonFinite.js';
import {
  CHECKPOINT_DIR,
  FOLDED_DIR,
  prepareRunFolder,
  runFolder,
  SUMMARY_FILE,
} from './runFolder.js';
import { createOptimizer, type ScheduledOptimizer } from './optimizers.js';
import {
  createProgress,
  formatDuration,
  type ProgressMode,
  type ProgressReporter,
} from './progress.js';
import { learningRateAt } from './schedules.js';
import { evaluateTask, taskLoss, type TaskEvaluation } from './taskEvaluate.js';
import { addWeightDecay, decayMask } from './weightDecay.js';
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

/** One line of a task run's metrics.jsonl (scores are fractions 0..1). */
export interface TaskEpochMetrics {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  /** The headline score: mIoU (segmentation) or AP@[.5:.95] (detection). */
  testScore: number;
  testMeanIoU?: number;
  testPixelAccuracy?: number;
  testAP50?: number;
  testAP?: number;
  imagesPerSecond: number;
  seconds: number;
  evalSeconds: number;
  lr: number;
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

/** "epoch 2/6: train loss 0.31 | test loss 0.28 mIoU 0.7123 pixel acc 0.9712 | 81 img/s, 49.2 s | lr 0.0017" */
export function formatTaskEpochLine(m: TaskEpochMetrics, epochs: number): string {
  const scores =
    m.testMeanIoU !== undefined
      ? `mIoU ${m.testMeanIoU.toFixed(4)} pixel acc ${(m.testPixelAccuracy ?? 0).toFixed(4)}`
      : `AP50 ${(m.testAP50 ?? 0).toFixed(4)} AP ${(m.testAP ?? 0).toFixed(4)}`;
  return (
    `epoch ${m.epoch}/${epochs}: train loss ${m.trainLoss.toFixed(4)} | test loss ${m.testLoss.toFixed(4)} ${scores}` +
    ` | ${m.imagesPerSecond.toFixed(0)} img/s, ${formatDuration(m.seconds)} | lr ${Number(m.lr.toPrecision(4))}`
  );
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
    const parallel = await startTaskWorkers(model, optimizer, config);
    try {
      for (let epoch = history.length; epoch < config.epochs; epoch++) {
        const t = await trainTaskEpoch(
          model,
          optimizer,
          train,
          epoch,
          config,
          progress,
          opts.signal,
          parallel,
        );
        const evalStart = performance.now();
        const ev = evaluateTask(model, test, config.task, {
          batchSize: config.evalBatchSize,
          topK: config.topK,
        });
        const m: TaskEpochMetrics = {
          epoch: epoch + 1,
          trainLoss: t.loss,
          testLoss: ev.loss,
          testScore: ev.score,
          ...(ev.segmentation
            ? {
                testMeanIoU: ev.segmentation.meanIoU,
                testPixelAccuracy: ev.segmentation.pixelAccuracy,
              }
            : { testAP50: ev.detection!.ap50, testAP: ev.detection!.ap }),
          imagesPerSecond: t.imagesPerSecond,
          seconds: t.seconds,
          evalSeconds: (performance.now() - evalStart) / 1000,
          lr: t.lr,
        };
        history.push(m);
        if (out !== undefined) {
          await saveCheckpoint(checkpointDir!, {
            model,
            optimizer,
            state: { config, history: [...history], backend: engine.backend, engine },
          });
          await fs.appendFile(path.join(out, METRICS_FILE), JSON.stringify(m) + '\n');
        }
        await opts.onEpochEnd?.(m);
        progress.stop();
        progress.message(formatTaskEpochLine(m, config.epochs));
      }
    } finally {
      progress.stop();
      optimizer.dispose();
      await parallel?.dispose();
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

type TaskParallel = Awaited<ReturnType<typeof startTaskWorkers>>;

/** Worker threads for `config.workers` > 1 (each computes a shard's forward and backward). */
async function startTaskWorkers(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  config: TaskTrainConfig,
) {
  if (config.workers === 1) return undefined;
  const { createParallelTrainer } = await import('./parallel/parallelTrainer.js');
  return createParallelTrainer({
    model,
    optimizer,
    loss: { task: config.task },
    workers: config.workers,
    backend: tf.getBackend(),
  });
}

/** One pass over `train` in the epoch's seeded order. */
async function trainTaskEpoch(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  train: SceneSet,
  epoch: number,
  config: TaskTrainConfig,
  progress: ProgressReporter,
  signal: AbortSignal | undefined,
  parallel: TaskParallel,
): Promise<{ loss: number; seconds: number; imagesPerSecond: number; lr: number }> {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const mask = decayMask(model, { decayD: config.decayD });
  const steps = sceneBatchCount(train.count, config.batchSize);
  const lrAt = (step: number) =>
    learningRateAt(config.schedule, config.optimizer.learningRate, config.scheduleUnit, {
      epoch,
      step,
      stepsPerEpoch: steps,
      epochs: config.epochs,
    });
  progress.startEpoch(epoch + 1, config.epochs, steps);
  const start = performance.now();
  let lossSum = 0;
  let images = 0;
  let step = 0;
  const update = (grads: tf.Tensor[]) => {
    const decayed = addWeightDecay(grads, variables, mask, config.weightDecay);
    optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: decayed[i] })));
  };
  for (const { xs, ys, size } of sceneBatches(train, config.batchSize, {
    task: config.task,
    shuffle: true,
    seed: mixSeeds(config.seed, epoch),
  })) {
    let loss: number;
    try {
      signal?.throwIfAborted();
      optimizer.learningRate = lrAt(step);
      if (parallel === undefined) {
        // As the classification loop: a non-finite loss or gradient stops the step before the
        // update, with the BatchNorm statistics put back (clones share the data, no copy).
        const statistics = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
        const before = statistics.map((v) => tf.clone(v));
        try {
          loss = tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() => {
              const out = model.apply(xs, { training: true }) as tf.Tensor;
              return taskLoss(config.task, ys, out);
            }, variables);
            const gradList = variables.map((v) => grads[v.name]);
            const [l, probe] = tf.stack([value, finiteProbe(value, gradList)]).dataSync();
            if (!Number.isFinite(probe)) {
              statistics.forEach((v, i) => v.assign(before[i]));
              const named = variables.map((v, i) => ({
                name: v.name,
                values: gradList[i].dataSync(),
              }));
              throw new NonFiniteError(describeNonFinite(l, named));
            }
            update(gradList);
            return l;
          });
        } finally {
          tf.dispose(before);
        }
      } else {
        const r = await parallel.gradients(xs, ys);
        try {
          tf.tidy(() => update(r.grads));
        } finally {
          tf.dispose(r.grads);
        }
        loss = r.loss;
      }
    } catch (e) {
      if (!(e instanceof NonFiniteError)) throw e;
      throw new Error(
        `training diverged: ${e.what} at epoch ${epoch + 1}, step ${step + 1} (learning rate ${optimizer.learningRate}); ` +
          `the step was not applied. Lower the learning rate (--lr). The last epoch's checkpoint is kept.`,
      );
    } finally {
      tf.dispose([xs, ys]);
    }
    lossSum += loss * size;
    images += size;
    step++;
    const seconds = (performance.now() - start) / 1000;
    progress.step({
      step,
      steps,
      images,
      loss: lossSum / images,
      accuracy: 0,
      imagesPerSecond: images / seconds,
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - start) / 1000;
  return { loss: lossSum / images, seconds, imagesPerSecond: images / seconds, lr: lrAt(0) };
}
