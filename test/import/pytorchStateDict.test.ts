import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { doConv2d, loadPytorchStateDict, StateDictError } from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function net(epsilon = 1e-5): tf.LayersModel {
  return tf.sequential({
    layers: [
      doConv2d({ filters: 4, kernelSize: 3, inputShape: [5, 5, 2], name: 'c' }),
      tf.layers.batchNormalization({ epsilon, name: 'bn' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, name: 'fc' }),
    ],
  });
}

function diag(): tf.Tensor {
  const d = new Float32Array(2 * 9 * 9);
  for (let c = 0; c < 2; c++) for (let m = 0; m < 9; m++) d[(c * 9 + m) * 9 + m] = 1;
  return tf.tensor3d(d, [2, 9, 9]);
}

function stateDict(): Record<string, tf.Tensor> {
  return {
    'c.W': tf.randomNormal([4, 2, 9]),
    'c.D': tf.randomNormal([2, 9, 9]),
    'c.d_diag': diag(),
    'c.bias': tf.randomNormal([4]),
    'b.weight': tf.randomNormal([4]),
    'b.bias': tf.randomNormal([4]),
    'b.running_mean': tf.randomNormal([4]),
    'b.running_var': tf.randomUniform([4], 0.5, 1),
    'b.num_batches_tracked': tf.scalar(3, 'int32'),
    'f.weight': tf.randomNormal([3, 4 * 3 * 3]),
    'f.bias': tf.randomNormal([3]),
  };
}
const map = { c: 'c', b: 'bn', f: 'fc' };

describe('loadPytorchStateDict', () => {
  it('converts layouts: DOConv2d W/D, BN, and Linear after Flatten (C·H·W → H·W·C rows)', () => {
    const model = net();
    const sd = stateDict();
    const report = loadPytorchStateDict(model, sd, { map });
    expect(report.loaded).toEqual(['c', 'bn', 'fc']);
    expect(report.warnings).toEqual([]);
    const [kernel, d] = model.getLayer('c').getWeights();
    expect(Array.from(kernel.dataSync())).toEqual(
      Array.from(tf.transpose(sd['c.W'], [2, 1, 0]).dataSync()),
    );
    expect(Array.from(d.dataSync())).toEqual(
      Array.from(tf.transpose(sd['c.D'], [1, 2, 0]).dataSync()),
    );
    expect(Array.from(model.getLayer('bn').getWeights()[3].dataSync())).toEqual(
      Array.from(sd['b.running_var'].dataSync()),
    );
    // TF row (h, w, c) ← PyTorch column (c, h, w)
    const fc = model.getLayer('fc').getWeights()[0].arraySync() as number[][];
    const pt = sd['f.weight'].arraySync() as number[][];
    for (const [h, w, c] of [
      [0, 0, 0],
      [1, 2, 3],
      [2, 1, 2],
    ]) {
      expect(fc[(h * 3 + w) * 4 + c]).toEqual(pt.map((row) => row[(c * 3 + h) * 3 + w]));
    }
  });

  it("warns when the BN epsilon is not PyTorch's", () => {
    const warnings: string[] = [];
    loadPytorchStateDict(net(1e-3), stateDict(), { map, onWarning: (w) => warnings.push(w) });
    expect(warnings.join()).toMatch(/'bn'.*epsilon is 0.001, PyTorch's is 0.00001/);
  });

  it('reports missing, unexpected and mis-shaped keys all at once, and writes nothing', () => {
    const model = net();
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const sd = stateDict();
    delete sd['c.bias'];
    sd['extra.weight'] = tf.zeros([2]);
    sd['f.weight'] = tf.zeros([3, 5]);
    let error: StateDictError | undefined;
    try {
      loadPytorchStateDict(model, sd, { map });
    } catch (e) {
      error = e as StateDictError;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect(error!.problems.join('\n')).toMatch(/missing key 'c.bias'/);
    expect(error!.problems.join('\n')).toMatch(/unexpected key 'extra.weight'/);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);

    delete sd['extra.weight'];
    sd['c.bias'] = tf.zeros([4]);
    expect(() => loadPytorchStateDict(model, sd, { map })).toThrow(/fc.*(shape|Size)/i);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
  });

  it('rejects a d_diag that is not the official identity constant, and unknown layers', () => {
    const sd = stateDict();
    sd['c.d_diag'] = tf.zeros([2, 9, 9]);
    expect(() => loadPytorchStateDict(net(), sd, { map })).toThrow(/d_diag.*not the identity/);
    expect(() => loadPytorchStateDict(net(), stateDict(), { map: { ...map, x: 'nope' } })).toThrow(
      /no layer 'nope'/,
    );
  });
});
