/**
 * loadPytorchStateDict validates everything — names, shapes, dtypes, finiteness — before it writes
 * anything: a bad tensor in the last layer leaves the first layers as they were.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { doConv2d } from '../../src/layers/DOConv2D.js';
import { loadPytorchStateDict, StateDictError } from '../../src/interop/pytorchStateDict.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function net(): tf.LayersModel {
  return tf.sequential({
    layers: [
      doConv2d({ filters: 4, kernelSize: 3, inputShape: [5, 5, 2], name: 'c' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, name: 'fc' }),
    ],
  });
}

function stateDict(): Record<string, tf.Tensor> {
  return {
    'c.W': tf.randomNormal([4, 2, 9], 0, 1, 'float32', 1),
    'c.D': tf.randomNormal([2, 9, 9], 0, 1, 'float32', 2),
    'c.bias': tf.randomNormal([4], 0, 1, 'float32', 3),
    'f.weight': tf.randomNormal([3, 36], 0, 1, 'float32', 4),
    'f.bias': tf.randomNormal([3], 0, 1, 'float32', 5),
  };
}
const map = { c: 'c', f: 'fc' };
const values = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('loadPytorchStateDict writes nothing on a bad input', () => {
  const cases: Array<[string, (sd: Record<string, tf.Tensor>) => void, RegExp]> = [
    [
      'an int32 bias in the last layer',
      (sd) => (sd['f.bias'] = tf.tensor1d([1, 2, 3], 'int32')),
      /dtype mismatch: 'f' gives 'fc\/bias' int32 values, the layer holds float32/,
    ],
    [
      'a NaN in the last layer',
      (sd) => (sd['f.weight'] = tf.fill([3, 36], NaN)),
      /'f' gives 'fc\/kernel' NaN or Infinity values/,
    ],
    [
      'an Infinity in D',
      (sd) => (sd['c.D'] = tf.fill([2, 9, 9], Infinity)),
      /'c' gives 'c\/D' NaN or Infinity values/,
    ],
    [
      'W with the wrong input channels (blamed on W, not on d_diag)',
      (sd) => (sd['c.W'] = tf.randomNormal([4, 3, 9])),
      /W \[4,3,9\] has 3 input channels per group .* but the layer has 2 input channels/,
    ],
  ];
  for (const [label, spoil, message] of cases) {
    it(label, () => {
      const model = net();
      const before = values(model);
      const sd = stateDict();
      spoil(sd);
      const tensors = tf.memory().numTensors;
      expect(() => loadPytorchStateDict(model, sd, { map, onWarning: () => {} })).toThrow(
        StateDictError,
      );
      expect(() => loadPytorchStateDict(model, sd, { map, onWarning: () => {} })).toThrow(message);
      expect(values(model)).toEqual(before);
      expect(tf.memory().numTensors).toBe(tensors);
      tf.dispose(Object.values(sd));
      model.dispose();
    });
  }

  it('allowNonFinite loads NaN weights on request', () => {
    const model = net();
    const sd = stateDict();
    sd['f.bias'] = tf.tensor1d([NaN, 0, 1]);
    loadPytorchStateDict(model, sd, { map, allowNonFinite: true });
    expect(Number.isNaN(model.getLayer('fc').getWeights()[1].dataSync()[0])).toBe(true);
    tf.dispose(Object.values(sd));
    model.dispose();
  });

  it('a key named like an Object.prototype member is reported, not taken for present', () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 1, inputShape: [2], name: 'fc' })],
    });
    const sd: Record<string, tf.Tensor> = Object.create(null);
    expect(() => loadPytorchStateDict(model, sd, { map: { constructor: 'fc' } })).toThrow(
      /missing key 'constructor\.weight'/,
    );
    model.dispose();
  });
});
