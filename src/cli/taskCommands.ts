/**
 * `doconv train|compare|eval` for the segmentation and detection nets: the zoo says a model's task,
 * and these thin calls route such a model to trainTaskModel / compareTaskConvs /
 * evaluateSavedTaskModel with the shared recipe flags mapped onto the task recipe.
 */
import { CHECKPOINT_DIR, FOLDED_DIR, SUMMARY_FILE } from '../train/runFolder.js';
import { METRICS_FILE } from '../train/metrics.js';
import { InvalidArgumentError } from 'commander';
import * as path from 'node:path';
import { zooModelTask, type ConvKind, type ZooTask } from '../models/index.js';
import type { RecipeFlags } from './options.js';
import { type CliIO, commandLine, keyValues, percent } from './print.js';
import { describeEngine } from '../train/environment.js';
import { compareTaskConvs } from '../train/taskCompare.js';
import type { TaskEvaluation } from '../train/taskEvaluate.js';
import type { TaskRecipeOptions } from '../train/taskConfig.js';
import { trainTaskModel, type TaskTrainSummary } from '../train/taskTraining.js';

/** The tasks `--task` accepts. */
export const TASK_CHOICES = ['classification', 'segmentation', 'detection'] as const;

/** The default zoo model of each dense task (`--task` without `--model`). */
const DEFAULT_TASK_MODEL = { segmentation: 'deeplab-mini', detection: 'centernet-mini' } as const;

/**
 * The task of a run from --task and --model: the model's own, checked against --task; with --task
 * alone, that task's default model. Returns null for classification (the classifier trainer).
 */
export function resolveTask(flags: {
  task?: ZooTask;
  model?: string;
  preset?: string;
  dataset?: string;
}): {
  task: 'segmentation' | 'detection';
  model: string;
} | null {
  if (flags.model === undefined) {
    if (
      flags.dataset === 'mnist-scenes' &&
      flags.task === undefined &&
      flags.preset === undefined
    ) {
      throw new InvalidArgumentError(
        '--dataset mnist-scenes needs a segmentation or detection model: --task segmentation|detection, or --model deeplab-mini|centernet-mini',
      );
    }
    if (flags.task === undefined || flags.task === 'classification') return null;
    return { task: flags.task, model: DEFAULT_TASK_MODEL[flags.task] };
  }
  const own = zooModelTask(flags.model);
  if (flags.task !== undefined && flags.task !== own) {
    throw new InvalidArgumentError(
      `--task ${flags.task} does not match --model ${flags.model}, a ${own} model`,
    );
  }
  if (own === 'classification') return null;
  if (flags.preset !== undefined) {
    throw new InvalidArgumentError(
      `--preset ${flags.preset} is a classification recipe; ${flags.model} is a ${own} model`,
    );
  }
  return { task: own, model: flags.model };
}

/** The task recipe from the shared flags; flags that mean nothing for a dense task are refused. */
export function taskRecipeFromFlags(f: RecipeFlags, model: string): TaskRecipeOptions {
  const unsupported = (
    [
      ['--dataset', f.dataset === 'mnist-scenes' ? undefined : f.dataset],
      ['--data-dir', f.dataDir],
      ['--holdout', f.holdout],
      ['--augment', f.augment],
      ['--normalize', f.normalize],
      ['--beta1', f.beta1],
      ['--beta2', f.beta2],
      ['--epsilon', f.epsilon],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (unsupported.length > 0) {
    throw new InvalidArgumentError(
      `${unsupported.map(([k]) => k).join(', ')}: not used by ${model} (it trains on mnist-scenes; --train-limit/--test-limit set the scene counts)`,
    );
  }
  const schedule =
    f.schedule === undefined
      ? undefined
      : f.schedule === 'cosine'
        ? { kind: 'cosine' as const, minLr: f.minLr }
        : f.schedule === 'constant'
          ? { kind: 'constant' as const }
          : { kind: 'step' as const, milestones: f.milestones, every: f.stepEvery, gamma: f.gamma };
  return {
    model,
    trainCount: f.trainLimit,
    testCount: f.testLimit,
    epochs: f.epochs,
    batchSize: f.batchSize,
    evalBatchSize: f.evalBatchSize,
    optimizer: f.optimizer,
    lr: f.lr,
    momentum: f.momentum,
    schedule,
    scheduleUnit: f.scheduleUnit,
    weightDecay: f.weightDecay,
    decayD: f.decayD,
    workers: f.workers,
  };
}

/** "mIoU 71.23 %, pixel accuracy 97.10 %" / "AP@[.5:.95] 41.20 %, AP@0.5 80.10 %". */
export function formatTaskScores(e: TaskEvaluation): string {
  return e.segmentation
    ? `mIoU ${percent(e.segmentation.meanIoU)}, pixel accuracy ${percent(e.segmentation.pixelAccuracy)}`
    : `AP@[.5:.95] ${percent(e.detection!.ap)}, AP@0.5 ${percent(e.detection!.ap50)}`;
}

/** The text `doconv train` prints for a task run. */
export function formatTaskSummary(s: TaskTrainSummary, out: string): string {
  const rows: Array<[string, string]> = [
    [
      'model',
      `${s.model} (${s.task}, ${s.conv}), ${s.parameters.trained} parameters${s.parameters.folded !== null ? `, ${s.parameters.folded} folded` : ''}`,
    ],
    ['data', `${s.config.dataset}: ${s.trainImages} train / ${s.testImages} test scenes`],
    [
      'run',
      `${s.epochs} epoch${s.epochs > 1 ? 's' : ''}, seed ${s.seed}, backend ${s.backend}, engine ${describeEngine(s.engine)}, ${s.imagesPerSecond.toFixed(0)} img/s`,
    ],
    ['test', `${formatTaskScores(s.test)} (loss ${s.test.loss.toFixed(4)})`],
  ];
  if (s.foldedTest !== null) {
    rows.push([
      'folded',
      `${formatTaskScores(s.foldedTest)} (max |Δ outputs| ${s.maxAbsOutputDiff?.toExponential(2)})`,
    ]);
  }
  const files = [
    METRICS_FILE,
    `${CHECKPOINT_DIR}/`,
    ...(s.foldedTest !== null ? [`${FOLDED_DIR}/`] : []),
    SUMMARY_FILE,
  ];
  rows.push(['wrote', files.map((f) => path.join(out, f)).join(', ')]);
  return keyValues(rows);
}

/** `doconv train` for a dense task. */
export async function runTaskTrain(
  io: CliIO,
  recipe: TaskRecipeOptions,
  flags: {
    conv: ConvKind;
    seed: number;
    out: string;
    resume?: boolean;
    allowEngineChange?: boolean;
    overwrite?: boolean;
    fold: boolean;
    json?: boolean;
    backend: RecipeFlags['backend'];
    progress: RecipeFlags['progress'];
  },
  signal: AbortSignal,
): Promise<void> {
  const { summary, model, folded } = await trainTaskModel({
    ...recipe,
    conv: flags.conv,
    seed: flags.seed,
    out: flags.out,
    resume: flags.resume,
    allowEngineChange: flags.allowEngineChange,
    overwrite: flags.overwrite,
    fold: flags.fold,
    backend: flags.backend,
    progress: flags.progress,
    signal,
  });
  model.dispose();
  folded?.dispose();
  io.out(flags.json ? JSON.stringify(summary, null, 2) : formatTaskSummary(summary, flags.out));
}

/** `doconv compare` for a dense task. */
export async function runTaskCompare(
  io: CliIO,
  recipe: TaskRecipeOptions,
  flags: {
    seeds: number[];
    out: string;
    runsDir?: string;
    name: string;
    jobs: number;
    json?: boolean;
    backend: RecipeFlags['backend'];
  },
): Promise<void> {
  const result = await compareTaskConvs({
    ...recipe,
    seeds: flags.seeds,
    out: flags.out,
    runsDir: flags.runsDir,
    name: flags.name,
    command: commandLine(),
    backend: flags.backend,
    jobs: flags.jobs,
    log: io.err,
    onRunEnd: (s, reused) =>
      io.err(
        `${reused ? 'reused' : 'finished'}: ${s.conv} seed ${s.seed}: ${formatTaskScores(s.test)}`,
      ),
  });
  io.out(
    flags.json
      ? JSON.stringify(result.record, null, 2)
      : `${result.table}\nwrote ${result.files.join(', ')}`,
  );
}
