/**
 * COCO-style average precision (pycocotools' COCOeval, bbox, one area range, all detections kept):
 *
 * For class c and IoU threshold t: detections of c from all images sorted by score (descending;
 * equal scores keep their input order: image order, then order within the image, as COCOeval's
 * stable mergesort does); each is matched to the unmatched ground-truth box of c in its image with
 * the highest IoU ≥ t (of equal IoUs the later box, as COCOeval's loop does), else it is a false
 * positive. Precision is made non-increasing from the right, and read at the 101 recall points
 * 0, 0.01, …, 1 (the first detection reaching that recall; 0 past the last): AP = their mean.
 * A class without ground truth has no AP (null, left out of the mean); a class with ground truth
 * but no detections has AP 0. AP@0.5 uses t = 0.5, AP@[.5:.95] the mean over t = 0.5, 0.55, …, 0.95.
 */

/** A box [x0, y0, x1, y1]. */
export type Box = readonly [number, number, number, number];

/** A scored detection. */
export interface ScoredBox {
  box: Box;
  classIndex: number;
  score: number;
}

/** A ground-truth object. */
export interface TruthBox {
  box: Box;
  classIndex: number;
}

/** The COCO thresholds 0.5 : 0.05 : 0.95. */
export const COCO_IOU_THRESHOLDS = Array.from(
  { length: 10 },
  (_, i) => Math.round((0.5 + 0.05 * i) * 100) / 100,
);
const RECALL_POINTS = Array.from({ length: 101 }, (_, i) => i / 100);

/** Intersection over union of two boxes (0 when both are empty). */
export function boxIoU(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  const inter = w > 0 && h > 0 ? w * h : 0;
  const union =
    Math.max(0, a[2] - a[0]) * Math.max(0, a[3] - a[1]) +
    Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]) -
    inter;
  return union > 0 ? inter / union : 0;
}

/** AP of one class at one threshold; null when the class has no ground truth. */
export function averagePrecision(
  detections: readonly (readonly ScoredBox[])[],
  truths: readonly (readonly TruthBox[])[],
  classIndex: number,
  iouThreshold: number,
): number | null {
  if (detections.length !== truths.length) {
    throw new Error(
      `averagePrecision: detections cover ${detections.length} images, ground truth ${truths.length}`,
    );
  }
  const gts = truths.map((list) => list.filter((t) => t.classIndex === classIndex));
  const numGt = gts.reduce((s, l) => s + l.length, 0);
  if (numGt === 0) return null;
  const dets: { image: number; det: ScoredBox }[] = [];
  detections.forEach((list, image) => {
    for (const det of list) if (det.classIndex === classIndex) dets.push({ image, det });
  });
  // Array.prototype.sort is stable: equal scores keep image order, then order within the image.
  dets.sort((a, b) => b.det.score - a.det.score);
  const matched = gts.map((l) => new Array<boolean>(l.length).fill(false));
  let tp = 0;
  let fp = 0;
  const precision: number[] = [];
  const recall: number[] = [];
  for (const { image, det } of dets) {
    let best = -1;
    let bestIoU = Math.min(iouThreshold, 1 - 1e-10);
    gts[image].forEach((gt, g) => {
      if (matched[image][g]) return;
      const iou = boxIoU(det.box, gt.box);
      if (iou < bestIoU) return;
      bestIoU = iou;
      best = g;
    });
    if (best >= 0) {
      matched[image][best] = true;
      tp++;
    } else fp++;
    precision.push(tp / (tp + fp));
    recall.push(tp / numGt);
  }
  for (let i = precision.length - 2; i >= 0; i--)
    precision[i] = Math.max(precision[i], precision[i + 1]);
  let sum = 0;
  let i = 0;
  for (const r of RECALL_POINTS) {
    while (i < recall.length && recall[i] < r) i++;
    if (i < recall.length) sum += precision[i];
  }
  return sum / RECALL_POINTS.length;
}

/** AP per class and their means. */
export interface DetectionScores {
  /** AP@0.5 per class (null: no ground truth of that class). */
  perClassAP50: (number | null)[];
  /** AP@[.5:.95] per class. */
  perClassAP: (number | null)[];
  /** Mean over the classes with ground truth. */
  ap50: number;
  ap: number;
  /** Ground-truth boxes and detections counted. */
  truths: number;
  detections: number;
}

/** COCO-style AP@0.5 and AP@[.5:.95] of `detections` against `truths` (one list per image). */
export function detectionScores(
  detections: readonly (readonly ScoredBox[])[],
  truths: readonly (readonly TruthBox[])[],
  numClasses: number,
): DetectionScores {
  const perClassAP50: (number | null)[] = [];
  const perClassAP: (number | null)[] = [];
  for (let c = 0; c < numClasses; c++) {
    const aps = COCO_IOU_THRESHOLDS.map((t) => averagePrecision(detections, truths, c, t));
    perClassAP50.push(aps[0]);
    perClassAP.push(
      aps[0] === null ? null : (aps as number[]).reduce((a, b) => a + b, 0) / aps.length,
    );
  }
  const mean = (xs: (number | null)[]) => {
    const present = xs.filter((v): v is number => v !== null);
    return present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
  };
  return {
    perClassAP50,
    perClassAP,
    ap50: mean(perClassAP50),
    ap: mean(perClassAP),
    truths: truths.reduce((s, l) => s + l.length, 0),
    detections: detections.reduce((s, l) => s + l.length, 0),
  };
}
