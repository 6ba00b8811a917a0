/**
 * Inference helpers for a user's image: a class mask from a segmenter, a list of boxes from a
 * detector. Browser-safe. The image is given as bytes (0..255, H×W×C, what a canvas or a PNG decoder
 * gives) or as a float tensor already scaled like the training images; bytes are scaled by /255, the
 * trainer's default.
 */
import * as tf from '@tensorflow/tfjs';
import {
  decodeDetections,
  detectionLists,
  type DecodeOptions,
  type Detection,
} from './decodeDetections.js';
import { formatValue } from '../util/formatValue.js';

/** An image: bytes H×W×C with its shape, or a float tensor [H, W, C] (scaled as in training). */
export type TaskImage =
  | { data: Uint8Array | Uint8ClampedArray; height: number; width: number; channels: number }
  | tf.Tensor3D;

function imageBatch(model: tf.LayersModel, image: TaskImage, where: string): tf.Tensor4D {
  const [, h, w, c] = model.inputs[0].shape;
  const shape =
    image instanceof tf.Tensor ? image.shape : [image.height, image.width, image.channels];
  if (shape[0] !== h || shape[1] !== w || shape[2] !== c) {
    throw new Error(
      `${where}: the image is ${formatValue(shape)}, model ${model.name} takes ${formatValue([h, w, c])}`,
    );
  }
  return tf.tidy(() => {
    if (image instanceof tf.Tensor)
      return tf.expandDims(tf.cast(image, 'float32'), 0) as tf.Tensor4D;
    if (image.data.length !== h! * w! * c!) {
      throw new Error(
        `${where}: image.data has ${image.data.length} bytes, expected ${h}×${w}×${c}`,
      );
    }
    return tf.div(tf.tensor4d(Float32Array.from(image.data), [1, h!, w!, c!]), 255) as tf.Tensor4D;
  });
}

/** A class index per pixel (argmax of the segmenter's logits), row-major H×W. */
export function predictMask(
  model: tf.LayersModel,
  image: TaskImage,
): { mask: Uint8Array; height: number; width: number } {
  const out = tf.tidy(() => {
    const logits = model.predict(imageBatch(model, image, 'predictMask')) as tf.Tensor4D;
    return tf.argMax(logits, 3);
  });
  try {
    const [, height, width] = out.shape;
    return { mask: Uint8Array.from(out.dataSync()), height, width };
  } finally {
    out.dispose();
  }
}

/** Options of {@link detectObjects}. */
export interface DetectOptions extends DecodeOptions {
  /** Keep detections with a score ≥ this. Default 0.3. */
  minScore?: number;
}

/** The objects a CenterNet-style detector finds: class, score, box [x0, y0, x1, y1] in pixels. */
export function detectObjects(
  model: tf.LayersModel,
  image: TaskImage,
  opts: DetectOptions = {},
): Detection[] {
  const heads = tf.tidy(
    () => model.predict(imageBatch(model, image, 'detectObjects')) as tf.Tensor4D,
  );
  let decoded;
  try {
    decoded = decodeDetections(heads, opts);
  } finally {
    heads.dispose();
  }
  try {
    return detectionLists(decoded, opts.minScore ?? 0.3)[0];
  } finally {
    tf.dispose([decoded.boxes, decoded.scores, decoded.classes]);
  }
}
