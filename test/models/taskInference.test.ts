import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  decodeDetections,
  detectionLists,
  detectObjects,
  predictMask,
} from '../../src/index.js';
import { randomizeModel } from '../helpers/randomizeModel.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const bytes = Uint8Array.from({ length: 32 * 32 }, (_, i) => (i * 37) % 256);

describe("inference helpers for a user's image", () => {
  it('predictMask: the argmax of the logits of pixels/255, from bytes or a tensor; nothing leaked', () => {
    const model = buildModel('deeplab-mini', {
      conv: 'doconv',
      inputShape: [32, 32, 1],
      numClasses: 4,
      seed: 1,
    });
    randomizeModel(model, 2);
    const before = tf.memory().numTensors;
    const { mask, height, width } = predictMask(model, {
      data: bytes,
      height: 32,
      width: 32,
      channels: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect([height, width, mask.length]).toEqual([32, 32, 1024]);
    const x = tf.div(tf.tensor4d(Float32Array.from(bytes), [1, 32, 32, 1]), 255);
    const want = tf.argMax(model.predict(x) as tf.Tensor, 3).dataSync();
    expect(Array.from(mask)).toEqual(Array.from(want));
    const fromTensor = predictMask(model, tf.squeeze(x, [0]) as tf.Tensor3D);
    expect(fromTensor.mask).toEqual(mask);
    expect(new Set(mask).size).toBeGreaterThan(1);
    expect(() => predictMask(model, { data: bytes, height: 32, width: 16, channels: 1 })).toThrow(
      /predictMask: the image is \[32,16,1\], model deeplab-mini takes \[32,32,1\]/,
    );
    expect(() =>
      predictMask(model, { data: bytes.subarray(1), height: 32, width: 32, channels: 1 }),
    ).toThrow(/image.data has 1023 bytes, expected 32×32×1/);
    tf.dispose(x);
    model.dispose();
  });

  it('detectObjects: the decoded top-k peaks with score ≥ minScore, as {classIndex, score, box}', () => {
    const model = buildModel('centernet-mini', {
      conv: 'conv',
      inputShape: [32, 32, 1],
      numClasses: 3,
      seed: 1,
    });
    randomizeModel(model, 3);
    const before = tf.memory().numTensors;
    const found = detectObjects(
      model,
      { data: bytes, height: 32, width: 32, channels: 1 },
      { minScore: 0, topK: 5 },
    );
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.div(tf.tensor4d(Float32Array.from(bytes), [1, 32, 32, 1]), 255);
    const heads = model.predict(x) as tf.Tensor4D;
    const decoded = decodeDetections(heads, { topK: 5 });
    expect(found).toEqual(detectionLists(decoded, 0)[0]);
    expect(found).toHaveLength(5);
    for (const d of found) {
      expect(d.score).toBeGreaterThanOrEqual(0);
      expect(d.box).toHaveLength(4);
    }
    expect(
      detectObjects(model, { data: bytes, height: 32, width: 32, channels: 1 }, { minScore: 1.1 }),
    ).toEqual([]);
    tf.dispose([x, heads, decoded.boxes, decoded.scores, decoded.classes]);
    model.dispose();
  });
});
