/**
 * The pieces of a run that no task changes (trainModel.ts puts them together): lock the run folder,
 * resume from its checkpoint, write a checkpoint and a metrics line after each epoch, write the
 * folded model and summary.json. The data, the model, the loss and the metrics are the task's.
 * Node-only.
 */
import type * as tf from '@tensorflow/tfjs';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import type { NamedPath } from '../io/outputPaths.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  type BackendChoice,
  checkResumeEngine,
  type EngineRecord,
  machineInfo,
  type MachineInfo,
} from './environment.js';
import { appendMetrics, writeMetrics } from './metrics.js';
import type { ScheduledOptimizer } from './optimizers.js';
import { createProgress, type ProgressMode, type ProgressReporter } from './progress.js';
import { prepareRunFolder, runFolder, type RunFolder, SUMMARY_FILE } from './runFolder.js';
import { CURVES_FILE, trainingCurvesSvg } from './trainingCurves.js';

/** Where and how a run runs, beyond its recipe; M is one line of its metrics.jsonl. */
export interface RunOptions<M> {
  /** Output folder; without it nothing is written (the result still has the models and metrics). */
  out?: string;
  /**
   * Continue the run in `out` from its checkpoint. Starts fresh when `out` holds no run; refused
   * when it holds a run whose checkpoint is gone (replace that run with `overwrite`).
   */
  resume?: boolean;
  /** Replace a run already in `out` (its metrics, checkpoint, folded model and summary). */
  overwrite?: boolean;
  /**
   * Resume a checkpoint written on another engine or oneDNN thread count (refused otherwise): the
   * run then differs from an uninterrupted one.
   */
  allowEngineChange?: boolean;
  /**
   * Start `workers` threads past this machine's cores or what its free memory holds (refused
   * otherwise, naming `workers`; see createParallelTrainer). Changes nothing in the result.
   */
  oversubscribe?: boolean;
  /** Fold and evaluate the folded model at the end. Default true. */
  fold?: boolean;
  /** Backend to select first; omitted keeps the current one. */
  backend?: BackendChoice;
  /** Progress display (default 'none'), or a reporter of your own. */
  progress?: ProgressMode | ProgressReporter;
  /** Abort to stop between steps; the last epoch checkpoint stays, and `resume` continues from it. */
  signal?: AbortSignal;
  /** Called after each epoch (after its checkpoint is written). */
  onEpochEnd?: (metrics: M) => void | Promise<void>;
  /** Where one-line notes go (backend chosen, resumed from …). Default: the progress reporter. */
  log?: (message: string) => void;
}

/** What every summary.json holds besides its task's scores; C is the recipe. */
export interface RunSummary<C> {
  model: string;
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
  parameters: { trained: number; folded: number | null };
  /** Mean of the epochs' training throughput. */
  imagesPerSecond: number;
  /** Sum of the epochs' training time (evaluation excluded). */
  trainSeconds: number;
  date: string;
  machine: MachineInfo;
  config: C;
}

/** What a trainer returns; the caller owns (and disposes) `model` and `folded`. */
export interface RunResult<S, M> {
  summary: S;
  history: M[];
  model: tf.LayersModel;
  folded: tf.LayersModel | null;
}

/** A trainer's result without its models, for callers that keep only the records (disposed here). */
export function withoutModels<S, M>(result: RunResult<S, M>): { summary: S; history: M[] } {
  result.model.dispose();
  result.folded?.dispose();
  return { summary: result.summary, history: result.history };
}

/** What state.json holds. */
interface RunState<C, M> {
  config: C;
  history: M[];
  backend: string;
  /** Absent in checkpoints written before it was recorded. */
  engine?: EngineRecord;
}

/** What the steps after the start share. */
export interface RunContext<C> {
  config: C;
  folder: RunFolder | undefined;
  /** What runs the ops, as recorded. */
  engine: EngineRecord;
}

/** The model, the optimizer and the epochs done so far: a fresh start, or a checkpoint's. */
export interface Start<M> {
  model: tf.LayersModel;
  optimizer: ScheduledOptimizer;
  history: M[];
}

/** A run's progress display, and where its one-line notes go. */
export interface RunReporting {
  progress: ProgressReporter;
  log: (message: string) => void;
}

/** A run's folder (locked), its progress display and notes; `release` once the run ends. */
export interface OpenRun extends RunReporting {
  folder: RunFolder | undefined;
  /** Unlocks `out` (and removes it if the run made it and wrote nothing); call once. */
  release: () => Promise<void>;
}

/**
 * The run's progress display and notes, and `out` locked: a run already there is refused, kept for
 * resume or replaced before any slow work (see prepareRunFolder).
 */
export async function openRun(
  opts: Pick<RunOptions<never>, 'out' | 'resume' | 'overwrite' | 'progress' | 'log'>,
  inputs: readonly NamedPath[] = [],
): Promise<OpenRun> {
  const progress =
    typeof opts.progress === 'object' ? opts.progress : createProgress(opts.progress ?? 'none');
  const log = opts.log ?? ((m: string) => progress.message(m));
  const folder = opts.out !== undefined ? runFolder(opts.out) : undefined;
  const release =
    folder !== undefined ? await prepareRunFolder(folder, opts, log, inputs) : undefined;
  return { folder, progress, log, release: async () => await release?.() };
}

/**
 * The checkpoint in the run's folder when `resume` asks for it, checked to continue this run, with
 * metrics.jsonl cut back to its epochs; null when there is nothing to resume. `differences` lists
 * the recipe settings the checkpoint's config differs in ("key: checkpoint X, now Y"); any of them,
 * more epochs done than `config.epochs`, or another engine (checkResumeEngine) refuses it.
 */
export async function resumeRun<C extends { epochs: number }, M extends object>(
  { folder, config, engine }: RunContext<C>,
  opts: Pick<RunOptions<never>, 'resume' | 'allowEngineChange'>,
  differences: (saved: C) => string[],
  log: (message: string) => void,
): Promise<Start<M> | null> {
  if (!opts.resume || folder === undefined || !(await hasCheckpoint(folder.checkpoint))) {
    return null;
  }
  const ckpt = await loadCheckpoint<RunState<C, M>>(folder.checkpoint);
  const { history } = ckpt.state;
  try {
    const differ = differences(ckpt.state.config);
    if (differ.length > 0) {
      throw new Error(
        `cannot resume ${folder.checkpoint}: the run's settings differ (${differ.join('; ')})`,
      );
    }
    if (history.length > config.epochs) {
      throw new Error(
        `cannot resume ${folder.checkpoint}: it is after epoch ${history.length}, beyond epochs = ${config.epochs}`,
      );
    }
    const allow = opts.allowEngineChange ?? false;
    checkResumeEngine(ckpt.state.engine, engine, folder.checkpoint, allow, log);
    // metrics.jsonl continues from the checkpoint's epochs.
    await writeMetrics(folder.metrics, history);
  } catch (e) {
    ckpt.model.dispose();
    ckpt.optimizer.dispose();
    throw e;
  }
  log(`resumed ${folder.checkpoint} after epoch ${history.length} of ${config.epochs}`);
  return { model: ckpt.model, optimizer: ckpt.optimizer, history };
}

/**
 * What to do after each epoch: with a folder, write the checkpoint (model, optimizer, the recipe
 * and the history so far) and the epoch's metrics line; then the caller's `onEpochEnd`.
 */
export function checkpointing<C, M extends object>(
  { config, folder, engine }: RunContext<C>,
  { model, optimizer }: Pick<Start<M>, 'model' | 'optimizer'>,
  onEpochEnd: ((metrics: M) => void | Promise<void>) | undefined,
): (metrics: M, history: readonly M[]) => Promise<void> {
  return async (metrics, done) => {
    if (folder !== undefined) {
      const state: RunState<C, M> = {
        config,
        history: [...done],
        backend: engine.backend,
        engine,
      };
      await saveCheckpoint(folder.checkpoint, { model, optimizer, state });
      await appendMetrics(folder.metrics, metrics);
    }
    await onEpochEnd?.(metrics);
  };
}

/**
 * Saves the folded model (when there is one) into the run's folder, and summary.json with the loss
 * and score curves beside it as curves.svg (trainingCurves.ts).
 */
export async function writeResults(
  folder: RunFolder,
  folded: tf.LayersModel | null,
  summary: { model: string; conv: string },
  history: readonly object[],
): Promise<void> {
  if (folded !== null) await folded.save(fileSystem(folder.folded));
  const title = `${summary.model} (${summary.conv})`;
  await replaceFilesAtomically(folder.out, [
    { name: SUMMARY_FILE, data: JSON.stringify(summary, null, 2) + '\n' },
    { name: CURVES_FILE, data: trainingCurvesSvg(history as object[], title) },
  ]);
}

/** The fields every summary computes alike: parameter counts, throughput, training time. */
export function runTotals(
  model: tf.LayersModel,
  folded: tf.LayersModel | null,
  history: readonly { imagesPerSecond: number; seconds: number }[],
): Pick<RunSummary<unknown>, 'parameters' | 'imagesPerSecond' | 'trainSeconds'> {
  return {
    parameters: { trained: model.countParams(), folded: folded?.countParams() ?? null },
    // A finished run has at least one epoch; the max only keeps the division defined.
    imagesPerSecond:
      history.reduce((s, m) => s + m.imagesPerSecond, 0) / Math.max(1, history.length),
    trainSeconds: history.reduce((s, m) => s + m.seconds, 0),
  };
}

/**
 * The fields every summary holds from its seed to its last training loss, in that order (what ran
 * the run, how long, on how many examples).
 */
export function runFields(
  seed: number,
  facts: { engine: EngineRecord; history: readonly { trainLoss: number }[] },
  counts: { trainImages: number; testImages: number },
): Pick<
  RunSummary<unknown>,
  'seed' | 'backend' | 'engine' | 'epochs' | 'trainImages' | 'testImages' | 'trainLoss'
> {
  return {
    seed,
    backend: facts.engine.backend,
    engine: facts.engine,
    epochs: facts.history.length,
    ...counts,
    trainLoss: facts.history[facts.history.length - 1].trainLoss,
  };
}

/** When and on what a record was made. */
export function dateAndMachine(): { date: string; machine: MachineInfo } {
  return { date: new Date().toISOString(), machine: machineInfo() };
}
