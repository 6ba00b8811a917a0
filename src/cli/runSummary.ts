/**
 * What `doconv train` prints when a run ends: summary.json with --json, else a few aligned rows —
 * the model, the data, the run, the test scores (and the folded model's), and the files written.
 * A classification run and a segmentation/detection run differ only in the rows of their scores.
 */
import * as path from 'node:path';
import {
  CHECKPOINT_DIR,
  describeEngine,
  FOLDED_DIR,
  METRICS_FILE,
  SUMMARY_FILE,
  type TrainSummary,
} from '../train/index.js';
import type { TaskEvaluation, TaskTrainSummary } from '../train/index.js';
import { CURVES_FILE } from '../train/trainingCurves.js';
import { type RunResult, type RunSummary, withoutModels } from '../train/trainingRun.js';
import { keyValues, percent } from './print.js';

/** The run's summary as printed (see the file's comment); the run's models are disposed here. */
export function runSummaryText(
  result: RunResult<TrainSummary | TaskTrainSummary, unknown>,
  flags: { json?: boolean; out: string },
): string {
  const { summary } = withoutModels(result);
  if (flags.json) return JSON.stringify(summary, null, 2);
  return 'task' in summary
    ? formatTaskSummary(summary, flags.out)
    : formatTrainSummary(summary, flags.out);
}

/** "mIoU 71.23 %, pixel accuracy 97.10 %" / "AP@[.5:.95] 41.20 %, AP@0.5 80.10 %". */
export function formatTaskScores(e: TaskEvaluation): string {
  return e.segmentation
    ? `mIoU ${percent(e.segmentation.meanIoU)}, pixel accuracy ${percent(e.segmentation.pixelAccuracy)}`
    : `AP@[.5:.95] ${percent(e.detection!.ap)}, AP@0.5 ${percent(e.detection!.ap50)}`;
}

/** The text `doconv train` prints at the end. */
export function formatTrainSummary(s: TrainSummary, out: string): string {
  const scores: Array<[string, string]> = [
    ['test accuracy', `${percent(s.testAccuracy)} (loss ${s.testLoss.toFixed(4)})`],
  ];
  if (s.foldedTestAccuracy !== null) {
    scores.push([
      'folded accuracy',
      `${percent(s.foldedTestAccuracy)} (max |Δ logits| ${s.maxAbsLogitDiff?.toExponential(2)})`,
    ]);
  }
  const folder = s.imageFolder;
  const data =
    `${s.dataset}: ${s.trainImages} train / ${s.testImages} test images` +
    (folder
      ? ` at ${folder.inputShape.join('×')}, ${folder.skipped.length} file(s) skipped, ${folder.converted} converted, ${folder.ignored} ignored (summary.json lists them)`
      : '');
  if (s.classNames !== undefined) scores.unshift(['classes', s.classNames.join(', ')]);
  return summaryRows(s, s.conv, data, scores, out);
}

/** The text `doconv train` prints for a task run. */
export function formatTaskSummary(s: TaskTrainSummary, out: string): string {
  const scores: Array<[string, string]> = [
    ['test', `${formatTaskScores(s.test)} (loss ${s.test.loss.toFixed(4)})`],
  ];
  if (s.foldedTest !== null) {
    scores.push([
      'folded',
      `${formatTaskScores(s.foldedTest)} (max |Δ outputs| ${s.maxAbsOutputDiff?.toExponential(2)})`,
    ]);
  }
  const data = `${s.config.dataset}: ${s.trainImages} train / ${s.testImages} test scenes`;
  return summaryRows(s, `${s.task}, ${s.conv}`, data, scores, out);
}

/** model, data, run, the score rows, wrote. `kind` is what the model row says in parentheses. */
function summaryRows(
  s: RunSummary<unknown>,
  kind: string,
  data: string,
  scores: Array<[string, string]>,
  out: string,
): string {
  const { trained, folded } = s.parameters;
  const files = [
    METRICS_FILE,
    `${CHECKPOINT_DIR}/`,
    ...(folded !== null ? [`${FOLDED_DIR}/`] : []),
    SUMMARY_FILE,
    CURVES_FILE,
  ];
  return keyValues([
    [
      'model',
      `${s.model} (${kind}), ${trained} parameters${folded !== null ? `, ${folded} folded` : ''}`,
    ],
    ['data', data],
    [
      'run',
      `${s.epochs} epoch${s.epochs > 1 ? 's' : ''}, seed ${s.seed}, backend ${s.backend}, engine ${describeEngine(s.engine)}, ${s.imagesPerSecond.toFixed(0)} img/s`,
    ],
    ...scores,
    ['wrote', files.map((f) => path.join(out, f)).join(', ')],
  ]);
}
