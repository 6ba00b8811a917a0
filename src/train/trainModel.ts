/**
 * One training run from a recipe to files: the library call behind `doconv train`. Node-only.
 *
 *   OUT/metrics.jsonl   one EpochMetrics line per epoch
 *   OUT/checkpoint/     model + optimizer + state after the last finished epoch (see checkpoint.ts)
 *   OUT/folded/         the trained model folded to standard layers (BatchNorm fused), TF.js format
 *   OUT/summary.json    TrainSummary: final accuracies, folded accuracy, max |Δ| of logits, config
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { buildModel, zooModelInfo } from '../models/index.js';
import type { Dataset } from '../data/dataset.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { foldModel } from '../fold/foldModel.js';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  differingSettings,
  type ModelBuilder,
  resolveConfig,
  type RecipeOptions,
  type TrainConfig,
} from './config.js';
import { loadTrainTest, normalizationFor } from './data.js';
import { type BackendChoice, machineInfo, type MachineInfo, selectBackend } from './environment.js';
import { evaluateFolded } from './evaluate.js';
import { runTraining } from './loop.js';
import { detectOutputKind, type OutputKind } from './losses.js';
import { appendMetrics, type EpochMetrics, METRICS_FILE, writeMetrics } from './metrics.js';
import { createOptimizer, type ScheduledOptimizer } from './optimizers.js';
import { createProgress, type ProgressMode, type ProgressReporter } from './progress.js';

export const CHECKPOINT_DIR = 'checkpoint';
export const FOLDED_DIR = 'folded';
export const SUMMARY_FILE = 'summary.json';

/** Options of `trainModel`: the recipe (see RecipeOptions) plus where and how to run it. */
export interface TrainOptions extends RecipeOptions {
  /** Output folder; without it nothing is written (the result still has the models and metrics). */
  out?: string;
  /** Continue the run in `out` from its checkpoint (starts fresh when there is none). */
  resume?: boolean;
  /** Replace a run already in `out` (its metrics, checkpoint, folded model and summary). */
  overwrite?: boolean;
  /** Fold and evaluate the folded model at the end. Default true. */
  fold?: boolean;
  /** Backend to select first; omitted keeps the current one. */
  backend?: BackendChoice;
  /** Progress display (default 'none'), or a reporter of your own. */
  progress?: ProgressMode | ProgressReporter;
  /** Abort to stop between steps; the last epoch checkpoint stays, and `resume` continues from it. */
  signal?: AbortSignal;
  /** Called after each epoch (after its checkpoint is written). */
  onEpochEnd?: (metrics: EpochMetrics) => void | Promise<void>;
  /** Where one-line notes go (backend chosen, resumed from …). Default: the progress reporter. */
  log?: (message: string) => void;
  /**
   * With `workers` > 1 and a model of custom layer classes: the modules that register them
   * (absolute file URLs or package names), imported in every worker thread. doconv's layers and
   * TF.js's own need nothing.
   */
  workerImports?: string[];
}

/** summary.json. Accuracies are fractions 0..1. */
export interface TrainSummary {
  model: string;
  conv: string;
  preset: string | null;
  dataset: string;
  seed: number;
  backend: string;
  epochs: number;
  trainImages: number;
  testImages: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Accuracy of the folded model (standard layers, BatchNorm fused); null with fold: false. */
  foldedTestAccuracy: number | null;
  foldedTestLoss: number | null;
  /** max |logit(DO model) − logit(folded)| over the test set; null with fold: false. */
  maxAbsLogitDiff: number | null;
  parameters: { trained: number; folded: number | null };
  /** Mean of the epochs' training throughput. */
  imagesPerSecond: number;
  /** Sum of the epochs' training time (evaluation excluded). */
  trainSeconds: number;
  outputKind: OutputKind;
  date: string;
  machine: MachineInfo;
  config: TrainConfig;
}

/** What `trainModel` returns; the caller owns (and disposes) `model` and `folded`. */
export interface TrainResult {
  summary: TrainSummary;
  history: EpochMetrics[];
  model: tf.LayersModel;
  folded: tf.LayersModel | null;
}

/** What state.json holds. */
interface TrainState {
  config: TrainConfig;
  history: EpochMetrics[];
  backend: string;
}

/** What a saved model's userDefinedMetadata.doconv holds, so `evaluateSavedModel` knows its inputs. */
export interface DoconvModelMetadata {
  model: string;
  conv: string;
  dataset: string;
  normalize: string;
  outputKind: OutputKind;
  folded: boolean;
}

/** Trains, checkpoints, folds and summarises one run. */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const config = resolveConfig(opts);
  const progress =
    typeof opts.progress === 'object' ? opts.progress : createProgress(opts.progress ?? 'none');
  const log = opts.log ?? ((m: string) => progress.message(m));
  // Refuse to clobber a run before any slow work.
  const out = opts.out;
  if (out !== undefined) await prepareOut(out, opts);
  const backend = await selectBackend(opts.backend, log);
  const { train, test } = await loadTrainTest({
    ...config,
    dataDir: config.dataDir ?? undefined,
    trainLimit: config.trainLimit ?? undefined,
    testLimit: config.testLimit ?? undefined,
  });

  let model: tf.LayersModel;
  let optimizer: ScheduledOptimizer;
  let history: EpochMetrics[] = [];
  const checkpointDir = out !== undefined ? path.join(out, CHECKPOINT_DIR) : undefined;
  if (opts.resume && checkpointDir !== undefined && (await hasCheckpoint(checkpointDir))) {
    const ckpt = await loadCheckpoint<TrainState>(checkpointDir);
    try {
      checkResumable(ckpt.state.config, config, checkpointDir);
      if (ckpt.state.history.length > config.epochs) {
        throw new Error(
          `cannot resume ${checkpointDir}: it is after epoch ${ckpt.state.history.length}, beyond epochs = ${config.epochs}`,
        );
      }
    } catch (e) {
      ckpt.model.dispose();
      ckpt.optimizer.dispose();
      throw e;
    }
    ({ model, optimizer } = ckpt);
    history = ckpt.state.history;
    await writeMetrics(path.join(out!, METRICS_FILE), history);
    log(`resumed ${checkpointDir} after epoch ${history.length} of ${config.epochs}`);
  } else {
    if (opts.resume) log(`no checkpoint in ${checkpointDir ?? '(no out)'}: starting from epoch 1`);
    model = buildFor(opts.model, config, train);
    optimizer = createOptimizer(config.optimizer);
  }
  // From here on the model is ours to dispose if anything fails.
  try {
    checkInputShape(model, train);

    const normalize = normalizationFor(config.normalize, config.dataset);
    const outputKind = detectOutputKind(model);
    if (typeof opts.model === 'string' || opts.model === undefined) {
      const declared = zooModelInfo(config.model).output;
      if ((declared === 'softmax') !== (outputKind === 'probabilities')) {
        throw new Error(
          `model ${config.model}: the zoo says its output is ${declared}, its last layer says ${outputKind}`,
        );
      }
    }
    model.setUserDefinedMetadata({
      doconv: metadata(config, outputKind, false) as unknown as object,
    });

    try {
      history = await runTraining(
        model,
        optimizer,
        train,
        test,
        { ...config, learningRate: config.optimizer.learningRate, normalize, outputKind },
        history,
        {
          progress,
          signal: opts.signal,
          workerImports: opts.workerImports,
          onEpochEnd: async (m, done) => {
            if (out !== undefined) {
              const state: TrainState = { config, history: [...done], backend };
              await saveCheckpoint(checkpointDir!, { model, optimizer, state });
              await appendMetrics(path.join(out, METRICS_FILE), m);
            }
            await opts.onEpochEnd?.(m);
          },
        },
      );
    } finally {
      progress.stop();
      optimizer.dispose();
    }

    const last = history[history.length - 1];
    let folded: tf.LayersModel | null = null;
    let foldedEval: { loss: number; accuracy: number } | null = null;
    let maxDiff: number | null = null;
    if (opts.fold ?? true) {
      folded = foldModel(model, { fuseBatchNorm: true });
      folded.setUserDefinedMetadata({
        doconv: metadata(config, outputKind, true) as unknown as object,
      });
      const evalOpts = { batchSize: config.evalBatchSize, normalize, outputKind };
      const compared = evaluateFolded(model, folded, test, evalOpts);
      foldedEval = compared;
      maxDiff = compared.maxAbsLogitDiff;
      if (out !== undefined) await folded.save(fileSystem(path.join(out, FOLDED_DIR)));
    }
    const summary: TrainSummary = {
      model: config.model,
      conv: config.conv,
      preset: config.preset,
      dataset: config.dataset,
      seed: config.seed,
      backend,
      epochs: history.length,
      trainImages: train.count,
      testImages: test.count,
      trainLoss: last.trainLoss,
      trainAccuracy: last.trainAccuracy,
      testLoss: last.testLoss,
      testAccuracy: last.testAccuracy,
      foldedTestAccuracy: foldedEval?.accuracy ?? null,
      foldedTestLoss: foldedEval?.loss ?? null,
      maxAbsLogitDiff: maxDiff,
      parameters: { trained: model.countParams(), folded: folded?.countParams() ?? null },
      imagesPerSecond: history.reduce((s, m) => s + m.imagesPerSecond, 0) / history.length,
      trainSeconds: history.reduce((s, m) => s + m.seconds, 0),
      outputKind,
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

function metadata(
  config: TrainConfig,
  outputKind: OutputKind,
  folded: boolean,
): DoconvModelMetadata {
  return {
    model: config.model,
    conv: config.conv,
    dataset: config.dataset,
    normalize: config.normalize,
    outputKind,
    folded,
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

function checkResumable(saved: TrainConfig, now: TrainConfig, dir: string): void {
  const differ = differingSettings(saved, now);
  if (differ.length > 0) {
    const list = differ.map(
      (d) => `${d.key}: checkpoint ${JSON.stringify(d.recorded)}, now ${JSON.stringify(d.now)}`,
    );
    throw new Error(`cannot resume ${dir}: the run's settings differ (${list.join('; ')})`);
  }
}

/** The files a run writes into `out`; a folder holding any of them holds a run. */
const RUN_FILES = [METRICS_FILE, CHECKPOINT_DIR, FOLDED_DIR, SUMMARY_FILE];

async function prepareOut(out: string, opts: TrainOptions): Promise<void> {
  const present: string[] = [];
  for (const name of RUN_FILES) {
    if (
      await fs.stat(path.join(out, name)).then(
        () => true,
        () => false,
      )
    )
      present.push(name);
  }
  if (present.length > 0 && !opts.resume) {
    if (!opts.overwrite) {
      throw new Error(
        `out ${JSON.stringify(out)} already holds a run (${present.join(', ')}); resume it (--resume) or replace it (--overwrite)`,
      );
    }
    await Promise.all(
      present.map((name) => fs.rm(path.join(out, name), { recursive: true, force: true })),
    );
  }
  await fs.mkdir(out, { recursive: true });
}
