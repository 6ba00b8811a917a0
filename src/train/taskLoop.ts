/**
 * The segmentation and detection training loop, on a model and scene sets already in memory (no
 * files; trainTaskModel adds those): the task's loss on seeded scene batches (trainSteps.ts), then
 * the test set's mIoU or AP as each epoch's metrics line.
 */
import type * as tf from '@tensorflow/tfjs';
import { mixSeeds } from '../data/prng.js';
import { sceneBatchCount, sceneBatches } from '../data/sceneBatches.js';
import type { SceneSet } from '../data/scenes.js';
import { runEpochLoop } from './epochLoop.js';
import type { ScheduledOptimizer } from './optimizers.js';
import { formatDuration, type ProgressReporter } from './progress.js';
import type { TaskTrainConfig } from './taskConfig.js';
import { evaluateTask, taskLoss, type TaskEvaluation } from './taskEvaluate.js';
import { type EpochResult, type StepKind, trainSteps } from './trainSteps.js';

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

/** Callbacks of `runTaskTraining`. */
export interface TaskLoopHooks {
  progress: ProgressReporter;
  /** Checked before every step. */
  signal?: AbortSignal;
  /** After each epoch's evaluation, with the history so far (checkpointing happens here). */
  onEpochEnd?: (
    metrics: TaskEpochMetrics,
    history: readonly TaskEpochMetrics[],
  ) => void | Promise<void>;
}

/** Trains `model` from epoch `history.length` to `config.epochs`; returns the full history. */
export function runTaskTraining(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  { train, test }: { train: SceneSet; test: SceneSet },
  config: TaskTrainConfig,
  history: readonly TaskEpochMetrics[],
  { progress, signal, onEpochEnd }: TaskLoopHooks,
): Promise<TaskEpochMetrics[]> {
  const settings = { ...config, learningRate: config.optimizer.learningRate };
  const kind: StepKind = {
    loss: (ys, out) => taskLoss(config.task, ys, out),
    divergenceAdvice: (n) =>
      `the step was not applied. Lower the learning rate (${n('lr')}). The last epoch's checkpoint is kept.`,
  };
  return runEpochLoop(model, optimizer, history, {
    epochs: config.epochs,
    workers: { count: config.workers, loss: { task: config.task } },
    train: (epoch, parallel) => {
      const stream = sceneBatches(train, config.batchSize, {
        task: config.task,
        shuffle: true,
        seed: mixSeeds(config.seed, epoch),
      });
      const steps = sceneBatchCount(train.count, config.batchSize);
      return trainSteps(model, optimizer, epoch, { stream, steps }, settings, kind, {
        progress,
        signal,
        parallel,
      });
    },
    evaluate: () =>
      evaluateTask(model, test, config.task, {
        batchSize: config.evalBatchSize,
        topK: config.topK,
      }),
    record: taskEpochMetrics,
    onEpochEnd,
    report: (m) => {
      progress.stop();
      progress.message(formatTaskEpochLine(m, config.epochs));
    },
  });
}

function taskEpochMetrics(
  epoch: number,
  t: EpochResult,
  ev: TaskEvaluation,
  evalSeconds: number,
): TaskEpochMetrics {
  return {
    epoch: epoch + 1,
    trainLoss: t.loss,
    testLoss: ev.loss,
    testScore: ev.score,
    ...(ev.segmentation
      ? { testMeanIoU: ev.segmentation.meanIoU, testPixelAccuracy: ev.segmentation.pixelAccuracy }
      : { testAP50: ev.detection!.ap50, testAP: ev.detection!.ap }),
    imagesPerSecond: t.imagesPerSecond,
    seconds: t.seconds,
    evalSeconds,
    lr: t.lr,
  };
}
