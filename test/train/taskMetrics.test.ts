import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  boxIoU,
  ConfusionMatrix,
  detectionScores,
  type ScoredBox,
  type TruthBox,
} from '../../src/index.js';

describe('ConfusionMatrix: IoU per class, mIoU over present classes, pixel accuracy (hand-computed)', () => {
  it('truth [0 0 1 1 2 ignore] vs prediction [0 1 1 1 0 2]', () => {
    const m = new ConfusionMatrix(3);
    m.add([0, 0, 1, 1, 2, 255], [0, 1, 1, 1, 0, 2]);
    // counts: (0,0)=1 (0,1)=1 (1,1)=2 (2,0)=1; IoU0 = 1/(2+2−1), IoU1 = 2/(2+3−2), IoU2 = 0/(1+0−0)
    const s = m.scores();
    expect(s.perClassIoU[0]).toBeCloseTo(1 / 3, 12);
    expect(s.perClassIoU[1]).toBeCloseTo(2 / 3, 12);
    expect(s.perClassIoU[2]).toBe(0);
    expect(s.meanIoU).toBeCloseTo(1 / 3, 12);
    expect(s.pixelAccuracy).toBeCloseTo(3 / 5, 12);
    expect(s.pixels).toBe(5);
  });

  it('accumulates over batches: one matrix for the whole set, not a mean of per-image scores', () => {
    const whole = new ConfusionMatrix(2);
    whole.add([0, 0, 0, 1], [0, 0, 0, 0]);
    whole.add([1], [1]);
    // TP0 = 3, FP0 = 1 → IoU0 = 3/4; TP1 = 1, FN1 = 1 → IoU1 = 1/2 (per-image means would give others)
    expect(whole.scores().perClassIoU).toEqual([0.75, 0.5]);
  });

  it('a class absent from truth and predictions is left out; one only predicted scores 0 and counts', () => {
    const m = new ConfusionMatrix(4);
    m.add([0, 0], [0, 3]);
    const s = m.scores();
    expect(s.perClassIoU).toEqual([0.5, null, null, 0]);
    expect(s.meanIoU).toBe(0.25);
  });

  it('empty: mIoU and accuracy 0; bad input names the pixel and the value', () => {
    expect(new ConfusionMatrix(2).scores()).toMatchObject({
      meanIoU: 0,
      pixelAccuracy: 0,
      pixels: 0,
    });
    expect(() => new ConfusionMatrix(2).add([0], [5])).toThrow(/predicted class 5 at pixel 0/);
    expect(() => new ConfusionMatrix(2).add([0, 1], [0])).toThrow(
      /truth has 2 pixels, predicted 1/,
    );
    expect(() => new ConfusionMatrix(0)).toThrow(/numClasses .*0/);
  });
});

const det = (box: number[], score: number, classIndex = 0): ScoredBox => ({
  box: box as never,
  score,
  classIndex,
});
const gt = (box: number[], classIndex = 0): TruthBox => ({ box: box as never, classIndex });

describe('COCO-style AP, 101 recall points (hand-computed)', () => {
  it('boxIoU: overlap, containment, disjoint, empty', () => {
    expect(boxIoU([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    expect(boxIoU([0, 0, 10, 10], [0, 0, 10, 8])).toBe(0.8);
    expect(boxIoU([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
    expect(boxIoU([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0);
  });

  it('TP, FP, TP: precision [1, ½, ⅔] → AP = (51·1 + 50·⅔)/101', () => {
    const dets = [
      [det([0, 0, 10, 10], 0.9), det([50, 50, 60, 60], 0.8), det([20, 20, 30, 30], 0.7)],
    ];
    const gts = [[gt([0, 0, 10, 10]), gt([20, 20, 30, 30])]];
    const expected = (51 + (50 * 2) / 3) / 101;
    for (const t of [0.5, 0.75, 0.95])
      expect(averagePrecision(dets, gts, 0, t)).toBeCloseTo(expected, 12);
  });

  it('a box at IoU 0.8 counts for thresholds 0.5 … 0.8 (7 of 10): AP@0.5 = 1, AP@[.5:.95] = 0.7', () => {
    const s = detectionScores([[det([0, 0, 10, 8], 0.6)]], [[gt([0, 0, 10, 10])]], 1);
    expect(s.ap50).toBe(1);
    expect(s.ap).toBeCloseTo(0.7, 12);
  });

  it('a second detection of a matched box is a false positive', () => {
    const ap = averagePrecision(
      [[det([0, 0, 10, 10], 0.9), det([0, 0, 10, 10], 0.8)]],
      [[gt([0, 0, 10, 10])]],
      0,
      0.5,
    );
    expect(ap).toBe(1); // precision [1, ½] → made non-increasing from the right: recall 1 is reached at precision 1
    const late = averagePrecision(
      [[det([40, 40, 50, 50], 0.9), det([0, 0, 10, 10], 0.8)]],
      [[gt([0, 0, 10, 10])]],
      0,
      0.5,
    );
    expect(late).toBe(0.5); // FP first: precision [0, ½], recall [0, 1]
  });

  it("ties in score keep image order (COCOeval's stable sort): FP in image 0 before TP in image 1", () => {
    const dets = [[det([0, 0, 10, 10], 0.5)], [det([0, 0, 10, 10], 0.5)]];
    expect(averagePrecision(dets, [[], [gt([0, 0, 10, 10])]], 0, 0.5)).toBe(0.5);
    expect(averagePrecision([dets[1], dets[0]], [[gt([0, 0, 10, 10])], []], 0, 0.5)).toBe(1);
  });

  it('no detections: AP 0; no ground truth: null and left out of the mean; nothing at all: 0', () => {
    expect(averagePrecision([[]], [[gt([0, 0, 1, 1])]], 0, 0.5)).toBe(0);
    expect(averagePrecision([[det([0, 0, 1, 1], 0.9)]], [[]], 0, 0.5)).toBeNull();
    const s = detectionScores(
      [[det([0, 0, 10, 10], 0.9, 0), det([0, 0, 5, 5], 0.9, 1)]],
      [[gt([0, 0, 10, 10], 0), gt([20, 20, 30, 30], 2)]],
      3,
    );
    expect(s.perClassAP50).toEqual([1, null, 0]);
    expect(s.ap50).toBe(0.5);
    expect(detectionScores([[]], [[]], 2)).toMatchObject({
      ap: 0,
      ap50: 0,
      truths: 0,
      detections: 0,
    });
    expect(() => averagePrecision([[]], [], 0, 0.5)).toThrow(
      /detections cover 1 images, ground truth 0/,
    );
  });
});
