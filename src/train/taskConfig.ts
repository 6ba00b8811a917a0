/**
 * A segmentation or detection recipe, from what a caller gives (TaskRecipeOptions) to the complete,
 * checked TaskTrainConfig a task run records in its checkpoint and summary.
 */
import { MNIST_SCENES_SEED } from '../data/mnistScenes.js';
import type { DenseTask } from '../data/sceneBatches.js';
import type { SceneSet } from '../data/scenes.js';
import { type ConvKind, convKinds, zooModelTask } from '../models/index.js';
import type { OptimizerSpec } from './optimizers.js';
import { checkSchedule, type LrSchedule, type ScheduleUnit } from './schedules.js';
import { TRAINING_RESUME_KEYS, type TrainingRecipe } from './trainingRecipe.js';
import { formatValue } from '../util/formatValue.js';

/** Where a task run's scenes come from. */
export const TASK_DATASETS = ['mnist-scenes'] as const;
export type TaskDatasetName = (typeof TASK_DATASETS)[number];

/** What decides a task run (everything but where it runs). */
export interface TaskRecipeOptions {
  /** A zoo model whose task is segmentation or detection: 'deeplab-mini', 'centernet-mini'. */
  model: string;
  /** Default 'doconv'. */
  conv?: ConvKind;
  /** Default 'mnist-scenes'; ignored when `train`/`test` are given. */
  dataset?: TaskDatasetName;
  /** Training / test scenes generated (mnist-scenes). Default 4000 / 1000. */
  trainCount?: number;
  testCount?: number;
  /** Seed of the generated scenes (one fixed set across runs). Default 2026. */
  sceneSeed?: number;
  /** Default 6. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Default 64. */
  evalBatchSize?: number;
  /** Default 'adam'. */
  optimizer?: 'adam' | 'sgd';
  /** Default 0.002 (adam), 0.02 (sgd). */
  lr?: number;
  /** SGD momentum. Default 0.9. */
  momentum?: number;
  /** Default cosine to 0, changed every step. */
  schedule?: LrSchedule;
  scheduleUnit?: ScheduleUnit;
  /** L2 on kernels (and D unless decayD is false). Default 0. */
  weightDecay?: number;
  decayD?: boolean;
  /** Seeds initial weights and the batch order. Default 1. */
  seed?: number;
  /** detection: detections kept per image at evaluation. Default 20. */
  topK?: number;
  /**
   * Worker threads for each step's forward/backward (data parallel). Default 1. Each shard's loss is
   * normalised by the shard's own objects/pixels (as DDP ranks do), so numbers depend on it.
   */
  workers?: number;
}

/** The complete recipe, as recorded in state.json and summary.json. */
export interface TaskTrainConfig extends TrainingRecipe {
  model: string;
  task: DenseTask;
  conv: ConvKind;
  dataset: string;
  trainCount: number;
  testCount: number;
  sceneSeed: number;
  seed: number;
  topK: number;
  workers: number;
}

/** Keys that must match for resume (epochs may grow). */
const TASK_RESUME_KEYS = [
  'model',
  'task',
  'conv',
  'dataset',
  'trainCount',
  'testCount',
  'sceneSeed',
  ...TRAINING_RESUME_KEYS,
  'seed',
  'workers',
] as const satisfies readonly (keyof TaskTrainConfig)[];

/** The resume keys whose values differ between a checkpoint's config and `now`, for the refusal. */
export function taskSettingDifferences(saved: TaskTrainConfig, now: TaskTrainConfig): string[] {
  return TASK_RESUME_KEYS.filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k])).map(
    (k) => `${k}: checkpoint ${formatValue(saved[k])}, now ${formatValue(now[k])}`,
  );
}

function positiveInt(key: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${key} must be a positive integer, got ${formatValue(v)}`);
  }
  return v as number;
}

/** Resolves and checks a task recipe; errors name the option and the value. */
export function resolveTaskConfig(
  opts: TaskRecipeOptions & { train?: SceneSet; test?: SceneSet },
): TaskTrainConfig {
  const task = zooModelTask(opts.model);
  if (task === 'classification') {
    throw new Error(
      `model ${formatValue(opts.model)} is a classifier; the task trainer takes segmentation or detection models (deeplab-mini, centernet-mini)`,
    );
  }
  const conv = opts.conv ?? 'doconv';
  if (!convKinds.includes(conv)) {
    throw new Error(
      `conv must be ${convKinds.map((k) => `'${k}'`).join(' or ')}, got ${formatValue(conv)}`,
    );
  }
  const dataset = opts.train ? opts.train.name : (opts.dataset ?? 'mnist-scenes');
  if (!opts.train && !TASK_DATASETS.includes(dataset as TaskDatasetName)) {
    throw new Error(
      `dataset must be ${TASK_DATASETS.join(', ')} for ${task} (or pass train and test scene sets), got ${formatValue(dataset)}`,
    );
  }
  const kind = opts.optimizer ?? 'adam';
  if (kind !== 'adam' && kind !== 'sgd') {
    throw new Error(`optimizer must be 'adam' or 'sgd', got ${formatValue(kind)}`);
  }
  const lr = opts.lr ?? (kind === 'adam' ? 0.002 : 0.02);
  if (!(Number.isFinite(lr) && lr > 0))
    throw new Error(`lr must be a positive number, got ${formatValue(lr)}`);
  const optimizer: OptimizerSpec =
    kind === 'adam'
      ? { kind, learningRate: lr }
      : { kind, learningRate: lr, momentum: opts.momentum ?? 0.9 };
  const schedule = opts.schedule ?? { kind: 'cosine' };
  checkSchedule(schedule);
  const scheduleUnit = opts.scheduleUnit ?? 'step';
  if (scheduleUnit !== 'step' && scheduleUnit !== 'epoch') {
    throw new Error(`scheduleUnit must be 'epoch' or 'step', got ${formatValue(scheduleUnit)}`);
  }
  const weightDecay = opts.weightDecay ?? 0;
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
    throw new Error(`weightDecay must be a number ≥ 0, got ${formatValue(weightDecay)}`);
  }
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${formatValue(seed)}`);
  return {
    model: opts.model,
    task,
    conv,
    dataset,
    trainCount: opts.train ? opts.train.count : positiveInt('trainCount', opts.trainCount ?? 4000),
    testCount: opts.test ? opts.test.count : positiveInt('testCount', opts.testCount ?? 1000),
    sceneSeed: Math.trunc(opts.sceneSeed ?? MNIST_SCENES_SEED),
    epochs: positiveInt('epochs', opts.epochs ?? 6),
    batchSize: positiveInt('batchSize', opts.batchSize ?? 32),
    evalBatchSize: positiveInt('evalBatchSize', opts.evalBatchSize ?? 64),
    optimizer,
    schedule,
    scheduleUnit,
    weightDecay,
    decayD: opts.decayD ?? true,
    seed,
    topK: positiveInt('topK', opts.topK ?? 20),
    workers: positiveInt('workers', opts.workers ?? 1),
  };
}
