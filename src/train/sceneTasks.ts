/**
 * Segmentation and detection as task values (trainingTask.ts), one for each, made alike: the zoo's
 * deeplab-mini and centernet-mini (or a net of the same task) on scene sets — the generated
 * mnist-scenes, or the caller's own (loadCocoFolder). Everything else is the one trainer's. Node-only.
 *
 *   metrics.jsonl   one TaskEpochMetrics line per epoch
 *   summary.json    TaskTrainSummary: final scores, the folded model's, max |Δ| of outputs, config
 */
import type * as tf from '@tensorflow/tfjs';
import { loadMnistScenes, MNIST_SCENES_SEED } from '../data/mnistScenes.js';
import { mixSeeds } from '../data/prng.js';
import { type DenseTask, sceneBatchCount, sceneBatches } from '../data/sceneBatches.js';
import { checkSceneSet, DEFAULT_SCENE_SIZE, type SceneSet } from '../data/scenes.js';
import { checkOptionAllocation } from '../util/sizeLimit.js';
import {
  buildModel,
  type ConvKind,
  convKinds,
  isZooModelName,
  zooModelTask,
} from '../models/index.js';
import { OptionError } from '../util/optionError.js';
import { bySide } from './comparisonPool.js';
import { comparisonTable, sideStats, type MeanStd } from './comparisonRecord.js';
import {
  checkTrainingRecipe,
  refuseOptimizerOptions,
  refuseOptions,
  ruleOf,
  type RecipeOptions,
} from './config.js';
import { centerNetLoss, pixelCrossEntropy } from './losses.js';
import { setModelMetadata, type DoconvModelMetadata } from './modelMetadata.js';
import { checkNumber, INTEGER, POSITIVE_INT, showValue } from './numberRules.js';
import type { OptimizerSpec } from './optimizers.js';
import { formatDuration } from './progress.js';
import { evaluateTask, type TaskEvaluation } from './sceneEvaluation.js';
import { TRAINING_RESUME_KEYS, type TrainingRecipe } from './trainingRecipe.js';
import { omit } from './omit.js';
import { runFields, type RunSummary } from './trainingRun.js';
import type { EpochLine, RunFacts, TaskEpochs, TrainingTask } from './trainingTask.js';
import type { Side } from './comparisonPool.js';
import type { LrSchedule } from './schedules.js';

/** Where a scene run's scenes come from when the caller gives none. */
export const SCENE_DATASETS = ['mnist-scenes'] as const;

/** The zoo net a scene task trains when no model is given. */
export const DEFAULT_SCENE_MODEL = {
  segmentation: 'deeplab-mini',
  detection: 'centernet-mini',
} as const satisfies Record<DenseTask, string>;

/** The complete recipe of a segmentation or detection run, as recorded in state.json and summary.json. */
export interface TaskTrainConfig extends TrainingRecipe {
  model: string;
  task: DenseTask;
  conv: ConvKind;
  dataset: string;
  /** Training / test scenes (generated, or the count of the caller's sets). */
  trainLimit: number;
  testLimit: number;
  sceneSeed: number;
  seed: number;
  topK: number;
  workers: number;
}

/** One line of a scene run's metrics.jsonl (scores are fractions 0..1). */
export interface TaskEpochMetrics extends EpochLine {
  testLoss: number;
  /** The headline score: mIoU (segmentation) or AP@[.5:.95] (detection). */
  testScore: number;
  testMeanIoU?: number;
  testPixelAccuracy?: number;
  testAP50?: number;
  testAP?: number;
}

/** summary.json of a scene run. */
export interface TaskTrainSummary extends RunSummary<TaskTrainConfig> {
  task: DenseTask;
  test: TaskEvaluation;
  /** The folded model's scores on the test set; null with fold: false. */
  foldedTest: TaskEvaluation | null;
  /** max |output(DO model) − output(folded)| over the test set (logits / raw heads). */
  maxAbsOutputDiff: number | null;
}

/** The recipe options a scene run does not take. */
/**
 * Each scene task's default schedule: per-step cosine decay; detection adds a one-epoch linear warm-up.
 * Without it, Adam's first steps at lr 0.005 killed most ReLU units of centernet-mini's head trunk
 * (a 3×3 conv without BatchNorm; 8–12 of 32 alive after 2 epochs, 29–30 with the warm-up) and one
 * seed in three plateaued at half the others' AP, Conv and DO-Conv alike (results/README.md#detection-warm-up).
 */
const DEFAULT_SCENE_SCHEDULE: Record<DenseTask, LrSchedule> = {
  segmentation: { kind: 'cosine' },
  detection: { kind: 'cosine', warmupEpochs: 1 },
};

const CLASSIFICATION_ONLY = [
  'preset',
  'dataDir',
  'holdout',
  'augment',
  'normalize',
  'imageSize',
  'channels',
] as const;

/** Keys that must match for resume (epochs may grow). */
const RESUME_KEYS = [
  'model',
  'task',
  'conv',
  'dataset',
  'trainLimit',
  'testLimit',
  'sceneSeed',
  ...TRAINING_RESUME_KEYS,
  'seed',
  'workers',
] as const satisfies readonly (keyof TaskTrainConfig)[];

/** The metrics a task's comparison reports, headline first. */
const COMPARED_METRICS = {
  segmentation: [
    { key: 'meanIoU', label: 'mIoU' },
    { key: 'pixelAccuracy', label: 'pixel accuracy' },
  ],
  detection: [
    { key: 'ap', label: 'AP@[.5:.95]' },
    { key: 'ap50', label: 'AP@0.5' },
  ],
} as const;

/** The task value of `task`. */
export function sceneTask(
  task: DenseTask,
): TrainingTask<RecipeOptions, TaskTrainConfig, TaskEpochMetrics, TaskTrainSummary> {
  return {
    name: task,
    resolve: (opts) => resolveSceneConfig(task, opts),
    resumeDifferences: (saved, now) =>
      RESUME_KEYS.filter((k) => differs(saved, now, k)).map(
        (k) => `${k}: checkpoint ${showValue(recorded(saved, k))}, now ${showValue(now[k])}`,
      ),
    // Every setting but the evaluation batch size (which changes no score beyond rounding).
    reuseDifferences: (saved, want) =>
      (Object.keys(want) as (keyof TaskTrainConfig)[]).filter(
        (k) => k !== 'evalBatchSize' && differs(saved, want, k),
      ),
    prepare: async (config, opts) => {
      const data = opts.train && opts.test ? { train: opts.train, test: opts.test } : null;
      const { train, test } = data ?? (await loadScenes(config));
      checkSceneSet(train);
      checkSceneSet(test);
      return {
        buildModel: () =>
          buildModel(config.model, {
            conv: config.conv,
            inputShape: [train.height, train.width, train.channels],
            // Detection scenes count the background as a class; the heat map has a channel per digit.
            numClasses: task === 'segmentation' ? train.numClasses : train.numClasses - 1,
            seed: config.seed,
          }),
        adopt: (model) => {
          setModelMetadata(model, sceneMetadata(config, false));
          return sceneEpochs(model, config, { train, test });
        },
      };
    },
    comparison: {
      defaultRuns: 3,
      defaultName: (shared) => shared.model,
      summarise: (runs, shared, seeds, name) => sceneComparison(runs, shared, seeds, name),
    },
  };
}

/** A recorded config's value of `key`, with the names of runs recorded before trainLimit/testLimit. */
function recorded(saved: TaskTrainConfig, key: keyof TaskTrainConfig): unknown {
  const old = saved as Partial<Record<'trainCount' | 'testCount', number>>;
  if (key === 'trainLimit') return saved.trainLimit ?? old.trainCount;
  if (key === 'testLimit') return saved.testLimit ?? old.testCount;
  return saved[key];
}

function differs(saved: TaskTrainConfig, now: TaskTrainConfig, key: keyof TaskTrainConfig) {
  return JSON.stringify(recorded(saved, key)) !== JSON.stringify(now[key]);
}

/** Resolves and checks a scene recipe; errors name the option and the value. */
function resolveSceneConfig(task: DenseTask, opts: RecipeOptions): TaskTrainConfig {
  const model = opts.model ?? DEFAULT_SCENE_MODEL[task];
  if (typeof model !== 'string' || !isZooModelName(model) || zooModelTask(model) !== task) {
    throw new OptionError(
      'model',
      (n) => `${n('model')} must be a zoo ${task} model here, got ${showValue(model)}`,
    );
  }
  if ((opts.train === undefined) !== (opts.test === undefined)) {
    throw new OptionError(
      ['train', 'test'],
      (n) => `give both ${n('train')} and ${n('test')} scene sets, or neither`,
    );
  }
  const otherData =
    opts.dataset !== undefined &&
    opts.train === undefined &&
    !(SCENE_DATASETS as readonly string[]).includes(opts.dataset);
  refuseOptions(
    opts,
    [...(otherData ? ['dataset'] : []), ...CLASSIFICATION_ONLY],
    (n) =>
      `not used by ${model} (a ${task} model: it trains on scene sets; ${n('trainLimit')}/${n('testLimit')} set the generated scene counts)`,
  );
  if (opts.train !== undefined) {
    refuseOptions(
      opts,
      ['dataset', 'trainLimit', 'testLimit', 'sceneSeed'],
      (n) => `not used with your own ${n('train')} and ${n('test')} scene sets`,
    );
  }
  const conv = opts.conv ?? 'doconv';
  if (!convKinds.includes(conv)) {
    throw new Error(`conv must be one of ${convKinds.join(', ')}, got ${showValue(conv)}`);
  }
  const dataset = opts.train ? opts.train.name : (opts.dataset ?? 'mnist-scenes');
  if (!opts.train && !(SCENE_DATASETS as readonly string[]).includes(dataset)) {
    throw new OptionError(
      ['dataset', 'train'],
      (n) =>
        `${n('dataset')} must be ${SCENE_DATASETS.join(', ')} for ${task} (or give ${n('train')} and ${n('test')} scene sets), got ${showValue(dataset)}`,
    );
  }
  const config: TaskTrainConfig = {
    model,
    task,
    conv,
    dataset,
    trainLimit: opts.train ? opts.train.count : (opts.trainLimit ?? 4000),
    testLimit: opts.test ? opts.test.count : (opts.testLimit ?? 1000),
    sceneSeed: opts.sceneSeed ?? MNIST_SCENES_SEED,
    epochs: opts.epochs ?? 6,
    batchSize: opts.batchSize ?? 32,
    evalBatchSize: opts.evalBatchSize ?? 64,
    optimizer: sceneOptimizer(opts),
    schedule: opts.schedule ?? DEFAULT_SCENE_SCHEDULE[task],
    scheduleUnit: opts.scheduleUnit ?? 'step',
    weightDecay: opts.weightDecay ?? 0,
    decayD: opts.decayD ?? true,
    seed: opts.seed ?? 1,
    topK: opts.topK ?? 20,
    workers: opts.workers ?? 1,
  };
  checkTrainingRecipe(config);
  checkNumber('trainLimit', config.trainLimit, ruleOf('trainLimit'));
  checkNumber('testLimit', config.testLimit, ruleOf('testLimit'));
  // The scenes are generated up front, an image and a mask each (`--train-limit 1000000000`
  // ended in "Invalid typed array length: 4096000000000").
  for (const key of ['trainLimit', 'testLimit'] as const) {
    const count = config[key];
    const side = DEFAULT_SCENE_SIZE;
    checkOptionAllocation(
      [key],
      count * 2 * side * side,
      (n) => `${n(key, String(count))} scenes of ${side}×${side} pixels and a mask each`,
    );
  }
  checkNumber('sceneSeed', config.sceneSeed, INTEGER);
  checkNumber('topK', config.topK, POSITIVE_INT);
  return config;
}

/** Adam at 0.002 by default (SGD: 0.02, momentum 0.9); Adam's β and ε only when given. */
function sceneOptimizer(opts: RecipeOptions): OptimizerSpec {
  const kind = opts.optimizer ?? 'adam';
  refuseOptimizerOptions(kind, opts);
  if (kind === 'sgd') {
    return { kind, learningRate: opts.lr ?? 0.02, momentum: opts.momentum ?? 0.9 };
  }
  const given = (key: 'beta1' | 'beta2' | 'epsilon') =>
    opts[key] !== undefined ? { [key]: opts[key] } : {};
  return {
    kind,
    learningRate: opts.lr ?? 0.002,
    ...given('beta1'),
    ...given('beta2'),
    ...given('epsilon'),
  } as OptimizerSpec;
}

/** The scenes a config asks for. */
async function loadScenes(config: TaskTrainConfig): Promise<{ train: SceneSet; test: SceneSet }> {
  const [train, test] = await Promise.all([
    loadMnistScenes({ split: 'train', count: config.trainLimit, seed: config.sceneSeed }),
    loadMnistScenes({ split: 'test', count: config.testLimit, seed: config.sceneSeed }),
  ]);
  return { train, test };
}

/** What a saved scene model records, so `evaluateSavedModel` knows what it is. */
export function sceneMetadata(
  config: Pick<
    TaskTrainConfig,
    'model' | 'task' | 'conv' | 'dataset' | 'sceneSeed' | 'testLimit' | 'topK'
  >,
  folded: boolean,
): DoconvModelMetadata {
  return {
    model: config.model,
    task: config.task,
    conv: config.conv,
    dataset: config.dataset,
    sceneSeed: config.sceneSeed,
    testLimit: config.testLimit,
    topK: config.topK,
    normalize: 'none',
    outputKind: 'logits',
    folded,
  };
}

/** The loss a scene task's steps minimise. */
export function sceneLoss(task: DenseTask, ys: tf.Tensor, out: tf.Tensor): tf.Scalar {
  return task === 'segmentation' ? pixelCrossEntropy(ys, out) : centerNetLoss(ys, out);
}

/** How a scene run's epochs train, score and report, and its summary. */
function sceneEpochs(
  model: tf.LayersModel,
  config: TaskTrainConfig,
  { train, test }: { train: SceneSet; test: SceneSet },
): TaskEpochs<TaskEpochMetrics, TaskTrainSummary> {
  const { task } = config;
  const scoring = { batchSize: config.evalBatchSize, topK: config.topK };
  return {
    step: {
      loss: (ys, out) => sceneLoss(task, ys, out),
      divergenceAdvice: (n) =>
        `the step was not applied. Lower the learning rate (${n('lr')}). The last epoch's checkpoint is kept.`,
    },
    workerLoss: { task },
    batches: (epoch) => ({
      stream: sceneBatches(train, config.batchSize, {
        task,
        shuffle: true,
        seed: mixSeeds(config.seed, epoch),
      }),
      steps: sceneBatchCount(train.count, config.batchSize),
    }),
    evaluate: () => {
      const ev = evaluateTask(model, test, task, scoring);
      return (epoch, t, evalSeconds) => ({
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
        evalSeconds,
        lr: t.lr,
      });
    },
    report: (progress, m) => {
      progress.stop();
      progress.message(formatTaskEpochLine(m, config.epochs));
    },
    summarise: (folded, facts) => {
      if (folded !== null) setModelMetadata(folded, sceneMetadata(config, true));
      const final = evaluateTask(model, test, task, {
        ...scoring,
        ...(folded !== null ? { compareWith: folded } : {}),
      });
      return sceneSummary(config, { train, test }, final, facts);
    },
  };
}

function sceneSummary(
  config: TaskTrainConfig,
  data: { train: SceneSet; test: SceneSet },
  final: ReturnType<typeof evaluateTask>,
  facts: RunFacts<TaskEpochMetrics>,
): TaskTrainSummary {
  const { compared, maxAbsOutputDiff, ...own } = final;
  return {
    model: config.model,
    task: config.task,
    conv: config.conv,
    ...runFields(config.seed, facts, {
      trainImages: data.train.count,
      testImages: data.test.count,
    }),
    test: own,
    foldedTest: compared ?? null,
    maxAbsOutputDiff: maxAbsOutputDiff ?? null,
    ...facts.totals,
    date: facts.date,
    machine: facts.machine,
    config,
  };
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

/** NAME.json of a scene comparison (after its head); scores are fractions 0..1. */
export interface TaskComparisonFields {
  task: DenseTask;
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

function scoresOf(s: TaskEvaluation | null): Record<string, number> | null {
  if (s === null) return null;
  return (s.segmentation ?? s.detection) as unknown as Record<string, number>;
}

/** The scene comparison's fields, per metric as the classification one (run1..runN, avg, +, mean ± std). */
function sceneComparison(
  done: ReadonlyArray<{ conv: Side; summary: TaskTrainSummary; history: TaskEpochMetrics[] }>,
  shared: TaskTrainConfig,
  seeds: number[],
  name: string,
) {
  const metrics = COMPARED_METRICS[shared.task];
  const runs: TaskComparisonFields['runs'] = {};
  const folded: TaskComparisonFields['folded'] = {};
  const stats: TaskComparisonFields['stats'] = {};
  for (const { key } of metrics) {
    runs[key] = bySide(() => [] as number[]);
    folded[key] = bySide(() => [] as (number | null)[]);
  }
  const curves = bySide(() => [] as number[][]);
  const maxDiff = bySide(() => [] as (number | null)[]);
  const speed = bySide(() => ({ imagesPerSecond: 0, trainSeconds: 0 }));
  for (const { conv, summary, history } of done) {
    const own = scoresOf(summary.test)!;
    const fold = scoresOf(summary.foldedTest);
    for (const { key } of metrics) {
      runs[key][conv].push(own[key]);
      folded[key][conv].push(fold ? fold[key] : null);
    }
    curves[conv].push(history.map((m) => m.testScore));
    maxDiff[conv].push(summary.maxAbsOutputDiff);
    speed[conv].imagesPerSecond += summary.imagesPerSecond / seeds.length;
    speed[conv].trainSeconds += summary.trainSeconds / seeds.length;
  }
  for (const { key } of metrics) stats[key] = sideStats(runs[key]);
  const config = omit(shared, ['conv', 'seed']);
  const fields: TaskComparisonFields = {
    task: shared.task,
    seeds,
    runs,
    folded,
    maxAbsOutputDiff: maxDiff,
    curves,
    stats,
    speed,
    config,
  };
  const table = metrics
    .map(
      ({ key, label }) =>
        `**${label}** (%)\n\n` +
        comparisonTable({ runs: runs[key], stats: stats[key], reference: null, name }),
    )
    .join('\n');
  const headline = metrics[0].label;
  const plot = {
    title: `${shared.model} on ${shared.dataset}: test ${headline} per epoch, ${seeds.length} seed${seeds.length > 1 ? 's' : ''} each`,
    yLabel: `test ${headline} (%)`,
  };
  return { fields, curves, table, plot };
}
