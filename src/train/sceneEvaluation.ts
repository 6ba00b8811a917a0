/**
 * The scorers of the scene tasks, for the one evaluation loop (evaluate.ts scoreBatches):
 * segmentation (loss, mIoU from one confusion matrix, pixel accuracy) and detection (loss,
 * COCO-style AP@0.5 and AP@[.5:.95] of the decoded top-k peaks); `evaluateTask` scores a model on a
 * scene set, beside a second one (the folded model) compared on raw outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { sceneBatches, type DenseTask } from '../data/sceneBatches.js';
import { sceneBoxes, type SceneSet } from '../data/scenes.js';
import { decodeDetections, detectionLists, type Detection } from '../models/decodeDetections.js';
import { ConfusionMatrix } from './segmentationMetrics.js';
import { detectionScores, type TruthBox } from './detectionMetrics.js';
import { centerNetLoss, pixelCrossEntropy } from './losses.js';
import { scoreBatches, type Scorer } from './evaluate.js';

/** Options of {@link evaluateTask}. */
export interface TaskEvaluateOptions {
  /** Scenes per forward pass. Default 64. */
  batchSize?: number;
  /** detection: detections kept per image. Default 20. */
  topK?: number;
  /** A second model run on the same batches; its scores are returned and the max |Δ| of outputs. */
  compareWith?: tf.LayersModel;
}

/** Scores of one model on a test set (fractions 0..1). */
export interface TaskEvaluation {
  task: DenseTask;
  loss: number;
  /** segmentation: mIoU; detection: AP@[.5:.95] — the task's headline number. */
  score: number;
  segmentation?: { meanIoU: number; pixelAccuracy: number; perClassIoU: (number | null)[] };
  detection?: {
    ap50: number;
    ap: number;
    perClassAP50: (number | null)[];
    perClassAP: (number | null)[];
  };
  count: number;
}

/** The loss the trainer minimises for `task`. */
export function taskLoss(task: DenseTask, ys: tf.Tensor, out: tf.Tensor): tf.Scalar {
  return task === 'segmentation' ? pixelCrossEntropy(ys, out) : centerNetLoss(ys, out);
}

/** A scene task's running score over `set` (one per model evaluated). */
export class SceneScorer implements Scorer<TaskEvaluation> {
  private lossSum = 0;
  private readonly confusion: ConfusionMatrix | null;
  private readonly detections: Detection[][] = [];
  private readonly truths: TruthBox[][] = [];

  constructor(
    private readonly task: DenseTask,
    private readonly set: SceneSet,
    private readonly topK: number,
  ) {
    this.confusion = task === 'segmentation' ? new ConfusionMatrix(set.numClasses) : null;
  }

  /** Adds one batch of outputs (inside tidy). */
  add(ys: tf.Tensor, out: tf.Tensor, size: number, first: number): void {
    this.lossSum += taskLoss(this.task, ys, out).dataSync()[0] * size;
    if (this.confusion) {
      this.confusion.add(ys.dataSync(), tf.argMax(out, 3).dataSync());
      return;
    }
    const decoded = decodeDetections(out as tf.Tensor4D, { topK: this.topK });
    this.detections.push(...detectionLists(decoded));
    for (let i = 0; i < size; i++) this.truths.push(sceneBoxes(this.set, first + i));
  }

  result(): TaskEvaluation {
    const count = this.set.count;
    const loss = this.lossSum / count;
    if (this.confusion) {
      const s = this.confusion.scores();
      return {
        task: this.task,
        loss,
        score: s.meanIoU,
        segmentation: {
          meanIoU: s.meanIoU,
          pixelAccuracy: s.pixelAccuracy,
          perClassIoU: s.perClassIoU,
        },
        count,
      };
    }
    const d = detectionScores(this.detections, this.truths, this.set.numClasses - 1);
    return {
      task: this.task,
      loss,
      score: d.ap,
      detection: { ap50: d.ap50, ap: d.ap, perClassAP50: d.perClassAP50, perClassAP: d.perClassAP },
      count,
    };
  }
}

/**
 * Runs `model` (inference mode) over `set`; with `compareWith`, also that model, returning its
 * scores as `compared` and max |model(x) − compareWith(x)| over every output value.
 */
export function evaluateTask(
  model: tf.LayersModel,
  set: SceneSet,
  task: DenseTask,
  opts: TaskEvaluateOptions = {},
): TaskEvaluation & { compared?: TaskEvaluation; maxAbsOutputDiff?: number } {
  const topK = opts.topK ?? 20;
  const stream = sceneBatches(set, opts.batchSize ?? 64, { task });
  const scorer = () => new SceneScorer(task, set, topK);
  if (opts.compareWith === undefined) return scoreBatches(model, stream, scorer()).own!;
  const compare = { model: opts.compareWith, scorer: scorer() };
  const r = scoreBatches(model, stream, scorer(), compare);
  return { ...r.own!, compared: r.other!, maxAbsOutputDiff: r.maxAbsDiff };
}
