/**
 * Classification as a task value (trainingTask.ts): a zoo classifier or a model of your own on an
 * image data set (MNIST, Fashion-MNIST, CIFAR-10), softmax cross-entropy, accuracy. Node-only.
 *
 *   metrics.jsonl   one EpochMetrics line per epoch
 *   summary.json    TrainSummary: final accuracies, folded accuracy, max |Δ| of logits, config
 */
import type * as tf from '@tensorflow/tfjs';
import type { Normalization } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { imageFolderReport, type ImageFolderReport } from './imageFolderReport.js';
import { buildModel, zooModelInfo } from '../models/index.js';
import { bySide, type Side } from './comparisonPool.js';
import { comparisonTable, type MeanStd, sideStats } from './comparisonRecord.js';
import {
  differingSettings,
  type ModelBuilder,
  resolveConfig,
  RESUME_KEYS,
  type RecipeOptions,
  type TrainConfig,
} from './config.js';
import { loadTrainTest, normalizationFor } from './data.js';
import { evaluate, evaluateFolded, type FoldedEvaluation } from './evaluate.js';
import { classificationBatches, classifying } from './loop.js';
import { detectOutputKind, type OutputKind } from './losses.js';
import type { EpochMetrics } from './metrics.js';
import { setModelMetadata, type DoconvModelMetadata } from './modelMetadata.js';
import { presetByName } from './presets.js';
import { omit } from './omit.js';
import { runFields, type RunSummary } from './trainingRun.js';
import type { RunFacts, TaskEpochs, TrainingTask } from './trainingTask.js';

/** summary.json of a classification run. Accuracies are fractions 0..1. */
export interface TrainSummary extends RunSummary<TrainConfig> {
  preset: string | null;
  dataset: string;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Accuracy of the folded model (standard layers, BatchNorm fused); null with fold: false. */
  foldedTestAccuracy: number | null;
  foldedTestLoss: number | null;
  /** max |logit(DO model) − logit(folded)| over the test set; null with fold: false. */
  maxAbsLogitDiff: number | null;
  outputKind: OutputKind;
  /** The class of each label, when the data set names them. */
  classNames?: string[];
  /** Dataset 'folder': what was read, and every file skipped with its reason. */
  imageFolder?: ImageFolderReport;
}

/** What a classifier's options add: modules for worker threads. */
export interface ClassificationOptions extends RecipeOptions {
  /**
   * With `workers` > 1 and a model of custom layer classes: the modules that register them
   * (absolute file URLs or package names), imported in every worker thread. doconv's layers and
   * TF.js's own need nothing.
   */
  workerImports?: string[];
}

/** The classification task. */
export const classificationTask: TrainingTask<
  ClassificationOptions,
  TrainConfig,
  EpochMetrics,
  TrainSummary
> = {
  name: 'classification',
  resolve: resolveConfig,
  resumeDifferences: (saved, now) =>
    differingSettings(saved, now).map(
      (d) => `${d.key}: checkpoint ${JSON.stringify(d.recorded)}, now ${JSON.stringify(d.now)}`,
    ),
  reuseDifferences: (recorded, want) =>
    differingSettings(recorded, want, [...RESUME_KEYS, 'epochs']).map((d) => d.key),
  prepare: async (config, opts, log) => {
    const data = await loadTrainTest({
      ...config,
      onWarning: log,
      dataDir: config.dataDir ?? undefined,
      trainLimit: config.trainLimit ?? undefined,
      testLimit: config.testLimit ?? undefined,
    });
    return {
      buildModel: () => buildFor(opts.model, config, data.train),
      adopt: (model) => classifierEpochs(model, config, data, opts),
    };
  },
  comparison: {
    defaultRuns: 5,
    defaultName: (shared) => shared.preset ?? shared.model,
    summarise: (runs, shared, seeds, name) => classificationComparison(runs, shared, seeds, name),
  },
};

/**
 * Checks the model fits the data (and a zoo model's declared output), records what it is trained
 * on in its metadata, and returns how its epochs run.
 */
function classifierEpochs(
  model: tf.LayersModel,
  config: TrainConfig,
  data: { train: Dataset; test: Dataset },
  opts: ClassificationOptions,
): TaskEpochs<EpochMetrics, TrainSummary> {
  checkInputShape(model, data.train);
  const outputKind = detectOutputKind(model);
  if (typeof opts.model === 'string' || opts.model === undefined) {
    const declared = zooModelInfo(config.model).output;
    if ((declared === 'softmax') !== (outputKind === 'probabilities')) {
      throw new Error(
        `model ${config.model}: the zoo says its output is ${declared}, its last layer says ${outputKind}`,
      );
    }
  }
  const normalize = normalizationFor(config.normalize, config.dataset, data.train);
  const metadata = (folded: boolean) =>
    classifierMetadata(config, outputKind, folded, data.train, normalize);
  setModelMetadata(model, metadata(false));
  const loop = { ...config, normalize, outputKind };
  const scoring = { batchSize: config.evalBatchSize, normalize, outputKind };
  return {
    step: classifying(loop),
    workerLoss: { crossEntropy: outputKind },
    workerImports: opts.workerImports,
    batches: (epoch) => classificationBatches(data.train, epoch, loop),
    evaluate: () => {
      const ev = evaluate(model, data.test, scoring);
      return (epoch, t, evalSeconds) => ({
        epoch: epoch + 1,
        trainLoss: t.loss,
        trainAccuracy: t.accuracy,
        testLoss: ev.loss,
        testAccuracy: ev.accuracy,
        imagesPerSecond: t.imagesPerSecond,
        seconds: t.seconds,
        evalSeconds,
        lr: t.lr,
      });
    },
    report: (progress, m) => progress.endEpoch(m, config.epochs),
    summarise: (folded, facts) => {
      let check: FoldedEvaluation | null = null;
      if (folded !== null) {
        setModelMetadata(folded, metadata(true));
        check = evaluateFolded(model, folded, data.test, scoring);
      }
      return classifierSummary(config, data, outputKind, check, facts);
    },
  };
}

function classifierSummary(
  config: TrainConfig,
  data: { train: Dataset; test: Dataset },
  outputKind: OutputKind,
  check: FoldedEvaluation | null,
  facts: RunFacts<EpochMetrics>,
): TrainSummary {
  const last = facts.history[facts.history.length - 1];
  return {
    model: config.model,
    conv: config.conv,
    preset: config.preset,
    dataset: config.dataset,
    ...runFields(config.seed, facts, {
      trainImages: data.train.count,
      testImages: data.test.count,
    }),
    trainAccuracy: last.trainAccuracy,
    testLoss: last.testLoss,
    testAccuracy: last.testAccuracy,
    foldedTestAccuracy: check?.accuracy ?? null,
    foldedTestLoss: check?.loss ?? null,
    maxAbsLogitDiff: check?.maxAbsLogitDiff ?? null,
    ...facts.totals,
    outputKind,
    ...(data.train.classNames !== undefined ? { classNames: [...data.train.classNames] } : {}),
    ...(config.dataset === 'folder' ? { imageFolder: imageFolderReport(data) } : {}),
    date: facts.date,
    machine: facts.machine,
    config,
  };
}

/** What a saved classifier records, so `evaluateSavedModel` knows its inputs. */
function classifierMetadata(
  config: TrainConfig,
  outputKind: OutputKind,
  folded: boolean,
  train: Dataset,
  normalization: Normalization | undefined,
): DoconvModelMetadata {
  return {
    model: config.model,
    conv: config.conv,
    dataset: config.dataset,
    normalize: config.normalize,
    outputKind,
    folded,
    ...(train.classNames !== undefined ? { classNames: [...train.classNames] } : {}),
    normalization: normalization ?? null,
  };
}

function buildFor(
  model: string | ModelBuilder | undefined,
  config: TrainConfig,
  train: Dataset,
): tf.LayersModel {
  const opts = {
    conv: config.conv,
    inputShape: [train.height, train.width, train.channels] as [number, number, number],
    numClasses: train.numClasses,
    seed: config.seed,
  };
  return typeof model === 'function' ? model(opts) : buildModel(config.model, opts);
}

function checkInputShape(model: tf.LayersModel, ds: Dataset): void {
  const [, h, w, c] = model.inputs[0].shape;
  if (h !== ds.height || w !== ds.width || c !== ds.channels) {
    throw new Error(
      `model ${model.name} takes inputs of shape ${JSON.stringify([h, w, c])}, but ${ds.name} images are ${JSON.stringify([ds.height, ds.width, ds.channels])}`,
    );
  }
}

/** NAME.json of a classification comparison, after its head. Accuracies are fractions 0..1. */
export interface ComparisonFields {
  preset: string | null;
  seeds: number[];
  /** Final test accuracy of each run, in seed order. */
  runs: Record<Side, number[]>;
  /** Final folded-model test accuracy of each run. */
  folded: Record<Side, (number | null)[]>;
  /** Per-epoch test accuracy of each run. */
  curves: Record<Side, number[][]>;
  stats: Record<Side, MeanStd> & { difference: number };
  /** The official README's means (%) for the preset, when there is one. */
  reference: { conv: number; doconv: number; source: string } | null;
  /** The shared recipe (conv and seed vary per run). */
  config: Omit<TrainConfig, 'conv' | 'seed'>;
}

/** The classification comparison's fields: the official README's table of accuracies. */
function classificationComparison(
  done: ReadonlyArray<{ conv: Side; summary: TrainSummary; history: EpochMetrics[] }>,
  shared: TrainConfig,
  seeds: number[],
  name: string,
) {
  const runs = bySide(() => [] as number[]);
  const folded = bySide(() => [] as (number | null)[]);
  const curves = bySide(() => [] as number[][]);
  for (const { conv, summary, history } of done) {
    runs[conv].push(summary.testAccuracy);
    folded[conv].push(summary.foldedTestAccuracy);
    curves[conv].push(history.map((m) => m.testAccuracy));
  }
  const config = omit(shared, ['conv', 'seed']);
  const fields: ComparisonFields = {
    preset: shared.preset,
    seeds,
    runs,
    folded,
    curves,
    stats: sideStats(runs),
    reference: shared.preset !== null ? presetByName(shared.preset).reference : null,
    config,
  };
  const table = comparisonTable({ ...fields, name });
  const plot = {
    title: `${name}: test accuracy per epoch, ${seeds.length} seed${seeds.length > 1 ? 's' : ''} each`,
  };
  return { fields, curves, table, plot };
}
