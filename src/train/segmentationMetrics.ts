/**
 * Semantic segmentation scores from one confusion matrix accumulated over the whole test set (not a
 * mean of per-image scores, which over-weights small images and empty classes):
 *
 *   IoU_c = TP_c / (TP_c + FP_c + FN_c),   mIoU = mean of IoU_c over the classes present,
 *   pixel accuracy = Σ_c TP_c / labelled pixels.
 *
 * A class is present when it occurs in the ground truth or in the predictions (TP + FP + FN > 0), as
 * torchmetrics and mmsegmentation count it: a class only ever predicted scores 0 and counts; one that
 * appears in neither is left out (null). Labels ≥ numClasses (255 = ignore) are skipped.
 */

import { formatValue } from '../util/formatValue.js';

/** The scores a confusion matrix gives. */
export interface SegmentationScores {
  /** IoU per class (background included), null where the class is absent from truth and predictions. */
  perClassIoU: (number | null)[];
  /** Mean IoU over the present classes (0 when none is). */
  meanIoU: number;
  /** Correct pixels / labelled pixels. */
  pixelAccuracy: number;
  /** Labelled pixels counted. */
  pixels: number;
}

/** A K×K confusion matrix, rows = ground truth, columns = prediction. */
export class ConfusionMatrix {
  /** counts[t·K + p]: pixels of true class t predicted as p. */
  readonly counts: Float64Array;

  constructor(readonly numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new Error(
        `ConfusionMatrix: numClasses must be a positive integer, got ${formatValue(numClasses)}`,
      );
    }
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds pixels: `truth[i]` against `predicted[i]`; truth ≥ numClasses is ignored. */
  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    if (truth.length !== predicted.length) {
      throw new Error(
        `ConfusionMatrix.add: truth has ${truth.length} pixels, predicted ${predicted.length}`,
      );
    }
    const k = this.numClasses;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      if (t >= k) continue;
      const p = predicted[i];
      if (!(p >= 0 && p < k)) {
        throw new Error(
          `ConfusionMatrix.add: predicted class ${p} at pixel ${i} is outside 0..${k - 1}`,
        );
      }
      this.counts[t * k + p]++;
    }
  }

  /** IoU per class, mIoU and pixel accuracy. */
  scores(): SegmentationScores {
    const k = this.numClasses;
    const perClassIoU: (number | null)[] = [];
    let correct = 0;
    let pixels = 0;
    for (let c = 0; c < k; c++) {
      let row = 0;
      let col = 0;
      for (let j = 0; j < k; j++) {
        row += this.counts[c * k + j];
        col += this.counts[j * k + c];
      }
      const tp = this.counts[c * k + c];
      const union = row + col - tp;
      perClassIoU.push(union > 0 ? tp / union : null);
      correct += tp;
      pixels += row;
    }
    const present = perClassIoU.filter((v): v is number => v !== null);
    return {
      perClassIoU,
      meanIoU: present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0,
      pixelAccuracy: pixels ? correct / pixels : 0,
      pixels,
    };
  }
}
