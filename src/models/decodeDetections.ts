/**
 * From a CenterNet head tensor to boxes, with tensor ops only: a cell is a detection when its
 * heatmap probability is the maximum of its 3×3 neighbourhood (a 3×3 max-pool: CenterNet's
 * replacement for NMS), and the k best such cells over all classes are kept (topk). No JS loop
 * over candidates. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { CENTERNET_OUTPUT_STRIDE } from './centerNetMini.js';
import { formatValue } from '../util/formatValue.js';

/** Options of {@link decodeDetections}. */
export interface DecodeOptions {
  /** Detections kept per image (the k of top-k). Default 20. */
  topK?: number;
  /** Input pixels per heatmap cell. Default 4 (centernet-mini). */
  stride?: number;
}

/** Decoded detections of a batch; the caller disposes the tensors. */
export interface DecodedDetections {
  /** [B, k, 4] boxes x0, y0, x1, y1 in input pixels. */
  boxes: tf.Tensor3D;
  /** [B, k] heatmap probabilities, descending per image. */
  scores: tf.Tensor2D;
  /** [B, k] int32 class indices. */
  classes: tf.Tensor2D;
}

/** heads [B, h, w, K + 4] → the heatmap logits [B, h, w, K], size [B, h, w, 2], offset [B, h, w, 2]. */
export function splitDetectionHeads(heads: tf.Tensor4D): {
  heatmap: tf.Tensor4D;
  size: tf.Tensor4D;
  offset: tf.Tensor4D;
} {
  const k = heads.shape[3] - 4;
  if (heads.rank !== 4 || k < 1) {
    throw new Error(
      `splitDetectionHeads: heads must be [batch, height, width, classes + 4] with classes ≥ 1, got ${formatValue(heads.shape)}`,
    );
  }
  const [heatmap, size, offset] = tf.split(heads, [k, 2, 2], 3) as tf.Tensor4D[];
  return { heatmap, size, offset };
}

/**
 * The top-k 3×3 local maxima of sigmoid(heatmap) with their boxes: centre (cell + offset)·stride,
 * size·stride. Ties between neighbouring cells keep both (as CenterNet); topk breaks ties between
 * equal scores by the lower index (row-major cell, then class).
 */
export function decodeDetections(heads: tf.Tensor4D, opts: DecodeOptions = {}): DecodedDetections {
  const stride = opts.stride ?? CENTERNET_OUTPUT_STRIDE;
  const [batch, h, w, channels] = heads.shape;
  const numClasses = channels - 4;
  const k = Math.min(opts.topK ?? 20, h * w * numClasses);
  if (!Number.isInteger(k) || k < 1) {
    throw new Error(
      `decodeDetections: topK must be a positive integer, got ${formatValue(opts.topK)}`,
    );
  }
  return tf.tidy(() => {
    const { heatmap, size, offset } = splitDetectionHeads(heads);
    const prob = tf.sigmoid(heatmap);
    const peaks = tf.mul(prob, tf.cast(tf.equal(prob, tf.maxPool(prob, 3, 1, 'same')), 'float32'));
    const { values, indices } = tf.topk(tf.reshape(peaks, [batch, h * w * numClasses]), k);
    const cell = tf.floorDiv(indices, tf.scalar(numClasses, 'int32'));
    const classes = tf.sub(indices, tf.mul(cell, tf.scalar(numClasses, 'int32')));
    const row = tf.floorDiv(cell, tf.scalar(w, 'int32'));
    const col = tf.sub(cell, tf.mul(row, tf.scalar(w, 'int32')));
    // Flat row b·h·w + cell of [B·h·w, 2] (gather with batchDims crashes tfjs-backend-wasm 4.22).
    const rows = tf.add(
      cell,
      tf.mul(tf.range(0, batch, 1, 'int32').reshape([batch, 1]), tf.scalar(h * w, 'int32')),
    );
    const at = (t: tf.Tensor4D) =>
      tf.reshape(tf.gather(tf.reshape(t, [batch * h * w, 2]), tf.reshape(rows, [-1])), [
        batch,
        k,
        2,
      ]);
    const [offX, offY] = tf.unstack(at(offset), 2);
    const [sizeW, sizeH] = tf.unstack(at(size), 2);
    const cx = tf.mul(tf.add(tf.cast(col, 'float32'), offX), stride);
    const cy = tf.mul(tf.add(tf.cast(row, 'float32'), offY), stride);
    const halfW = tf.mul(sizeW, stride / 2);
    const halfH = tf.mul(sizeH, stride / 2);
    const boxes = tf.stack(
      [tf.sub(cx, halfW), tf.sub(cy, halfH), tf.add(cx, halfW), tf.add(cy, halfH)],
      2,
    ) as tf.Tensor3D;
    return { boxes, scores: values as tf.Tensor2D, classes: classes as tf.Tensor2D };
  });
}

/** One detected object. */
export interface Detection {
  classIndex: number;
  score: number;
  /** x0, y0, x1, y1 in input pixels. */
  box: [number, number, number, number];
}

/** Decoded tensors as per-image lists, keeping scores ≥ `minScore` (default 0: all k). */
export function detectionLists(decoded: DecodedDetections, minScore = 0): Detection[][] {
  const [batch, k] = decoded.scores.shape;
  const boxes = decoded.boxes.dataSync();
  const scores = decoded.scores.dataSync();
  const classes = decoded.classes.dataSync();
  const out: Detection[][] = [];
  for (let b = 0; b < batch; b++) {
    const list: Detection[] = [];
    for (let i = 0; i < k; i++) {
      const j = b * k + i;
      if (scores[j] < minScore) continue;
      list.push({
        classIndex: classes[j],
        score: scores[j],
        box: [boxes[j * 4], boxes[j * 4 + 1], boxes[j * 4 + 2], boxes[j * 4 + 3]],
      });
    }
    out.push(list);
  }
  return out;
}
