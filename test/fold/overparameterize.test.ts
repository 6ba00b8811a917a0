import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  foldModel,
  overparameterize,
  zooModelNames,
  zooModelTask,
} from '../../src/node.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { expectClose } from '../helpers/tolerance.js';

const dir = mkdtempSync(join(tmpdir(), 'doconv-overparameterize-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Class and kernel-size pairs a conversion maps between (the DO class of each plain conv class). */
const DO_CLASS: Record<string, string> = {
  Conv1D: 'DOConv1D',
  Conv2D: 'DOConv2D',
  DilatedConv2D: 'DOConv2D',
  DepthwiseConv2D: 'DODepthwiseConv2D',
  SeparableConv2D: 'DOSeparableConv2D',
};

/** Kernel area of a plain conv layer, read from its config (independently of the converter). */
function area(layer: tf.layers.Layer): number {
  return ([layer.getConfig().kernelSize].flat() as number[]).reduce((a, b) => a * b, 1);
}

function outputs(model: tf.LayersModel, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() =>
    [model.predict(x)].flat().map((y) => (y as tf.Tensor).dataSync() as Float32Array),
  );
}

/** Class names and weight shapes, layer by layer: what "the same architecture" means. */
function architecture(model: tf.LayersModel) {
  return model.layers.map((l) => ({
    name: l.name,
    className: l.getClassName() === 'DilatedConv2D' ? 'Conv2D' : l.getClassName(),
    shapes: l.weights.map((w) => w.shape),
  }));
}

/**
 * The conversion's contract on `model`: each convertible conv with a kernel larger than 1 is its
 * DO twin and every other layer is unchanged; outputs equal to 1e-6; folded back, the original
 * architecture with the original outputs.
 */
function checkConversion(model: tf.LayersModel, x: tf.Tensor): tf.LayersModel {
  const converted = overparameterize(model);
  converted.layers.forEach((layer, i) => {
    const original = model.layers[i];
    expect(layer.name).toBe(original.name);
    const className = original.getClassName();
    const expected = DO_CLASS[className] && area(original) > 1 ? DO_CLASS[className] : className;
    expect(layer.getClassName(), layer.name).toBe(expected);
  });
  expect(converted.layers.some((l) => l.getClassName().startsWith('DO'))).toBe(true);
  const before = outputs(model, x);
  const after = outputs(converted, x);
  before.forEach((y, i) => expectClose(after[i], y, 1e-6, `output ${i}`));
  const folded = foldModel(converted);
  expect(architecture(folded)).toEqual(architecture(model));
  outputs(folded, x).forEach((y, i) => expectClose(y, before[i], 1e-5, `folded output ${i}`));
  folded.dispose();
  return converted;
}

/**
 * Random weights, every kernel scaled by 1/√fan-in and BN statistics random, so activations stay
 * finite through 56 layers (randomizeModel's N(0, ½) overflows float32 there).
 */
function randomizeScaled(model: tf.LayersModel, seed: number): void {
  randomizeModel(model, seed);
  for (const layer of model.layers) {
    const weights = layer.getWeights().map((w, i) => {
      const name = layer.weights[i].originalName.split('/').pop()!;
      if (!name.endsWith('kernel')) return w;
      const fanIn = w.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      return tf.mul(w, 2 / Math.sqrt(fanIn));
    });
    layer.setWeights(weights);
  }
}

describe('overparameterize: every zoo net computes what it computed', () => {
  for (const name of zooModelNames) {
    const dense = zooModelTask(name) !== 'classification';
    it(name, () => {
      const shape: [number, number, number] = dense ? [32, 32, 1] : [16, 16, 3];
      const model = buildModel(name, { conv: 'conv', inputShape: shape, numClasses: 3, seed: 2 });
      randomizeScaled(model, 5);
      const x = tf.randomNormal([2, ...shape], 0, 1, 'float32', 9);
      const converted = checkConversion(model, x);
      // The DO-Conv zoo net of the same name has the same layers, classes and weight shapes.
      const zooDo = buildModel(name, { conv: 'doconv', inputShape: shape, numClasses: 3, seed: 2 });
      expect(
        converted.layers.map((l) => [l.getClassName(), l.weights.map((w) => w.shape)]),
      ).toEqual(zooDo.layers.map((l) => [l.getClassName(), l.weights.map((w) => w.shape)]));
      tf.dispose([x]);
      [model, converted, zooDo].forEach((m) => m.dispose());
    });
  }
});

describe('overparameterize: a Keras-style model.json (functional graph, every conv class)', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'kerasFunctional.model.json');
  const load = () =>
    tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: JSON.parse(readFileSync(fixture, 'utf8')).modelTopology }),
    );

  it('converts Conv1D, Conv2D (dilated too), DepthwiseConv2D and SeparableConv2D; outputs equal', async () => {
    const model = await load();
    randomizeModel(model, 3);
    const x = tf.randomNormal([3, 12, 12, 3], 0, 1, 'float32', 4);
    const converted = checkConversion(model, x);
    expect(converted.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'DOConv2D',
      'BatchNormalization',
      'DODepthwiseConv2D',
      'Conv2D', // 1×1: nothing to over-parameterize
      'DOConv2D',
      'Add',
      'DOSeparableConv2D',
      'Reshape',
      'DOConv1D',
      'GlobalAveragePooling1D',
      'Dense',
    ]);
    // Kept: the regularizer (D takes it too), dilation, activation.
    const stem = converted.getLayer('stem').getConfig();
    const l2 = { className: 'L1L2', config: expect.objectContaining({ l1: 0, l2: 0.0001 }) };
    expect(stem.kernelRegularizer).toEqual(l2);
    expect(stem.dRegularizer).toEqual(l2);
    expect(converted.getLayer('dilated').getConfig().dilationRate).toEqual([2, 2]);
    expect(converted.getLayer('temporal').getConfig().dilationRate).toEqual([2]);
    // D starts at zero; W is the kernel as [M·N, C, F].
    const w = converted.getLayer('stem').getWeights();
    expect(w.map((t) => t.shape)).toEqual([[9, 3, 8], [9, 9, 3], [8]]);
    expect(Array.from(w[1].dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(w[0].dataSync())).toEqual(
      Array.from(model.getLayer('stem').getWeights()[0].dataSync()),
    );
    tf.dispose(x);
    model.dispose();
    converted.dispose();
  });

  it('trained as DO-Conv, folded, saved: loads and predicts with plain tfjs, same classes', async () => {
    const model = await load();
    randomizeModel(model, 6);
    const converted = overparameterize(model);
    converted.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    const xs = tf.randomNormal([8, 12, 12, 3], 0, 1, 'float32', 1);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
    await converted.fit(xs, ys, { epochs: 2, batchSize: 4, verbose: 0, shuffle: false });
    const d = converted.getLayer('stem').getWeights()[1];
    expect(tf.max(tf.abs(d)).dataSync()[0]).toBeGreaterThan(0); // D trained
    const folded = foldModel(converted);
    await folded.save(`file://${dir}`);
    const x = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 2);
    const expected = (converted.predict(x) as tf.Tensor).dataSync();
    const input = JSON.stringify({ values: Array.from(x.dataSync()), shape: x.shape });
    const script = join(import.meta.dirname, 'fixtures', 'plainTfjsPredict.mjs');
    const out = execFileSync(process.execPath, [script, dir, input], {
      encoding: 'utf8',
      // A process without doconv prints tfjs's Node banner on stderr: kept out of the test output.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.classes).toEqual(model.layers.map((l) => l.getClassName()));
    expectClose(result.y, expected, 1e-5, 'prediction without doconv');
    tf.dispose([xs, ys, x]);
    [model, converted, folded].forEach((m) => m.dispose());
  });
});

describe('overparameterize: what it leaves alone', () => {
  it('keeps a causal Conv1D and a dilated DepthwiseConv2D, naming them in a warning', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.depthwiseConv2d({
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          inputShape: [6, 6, 2],
          name: 'dw_dilated',
        }),
        tf.layers.reshape({ targetShape: [36, 2] }),
        tf.layers.conv1d({ filters: 2, kernelSize: 3, padding: 'causal', name: 'causal' }),
        tf.layers.conv1d({ filters: 2, kernelSize: 3, name: 'plain1d' }),
      ],
    });
    const warnings: string[] = [];
    const converted = overparameterize(model, { onWarning: (m) => warnings.push(m) });
    expect(converted.layers.map((l) => l.getClassName())).toEqual([
      'DepthwiseConv2D',
      'Reshape',
      'Conv1D',
      'DOConv1D',
    ]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/'dw_dilated'.*dilationRate \[2,2\]/);
    expect(warnings[1]).toMatch(/'causal'.*'causal' padding/);
    model.dispose();
    converted.dispose();
  });

  it('leaves the input model as it was and leaks no tensors', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 3, kernelSize: 3, inputShape: [5, 5, 2] }),
        tf.layers.separableConv2d({ filters: 2, kernelSize: 2, depthMultiplier: 2 }),
      ],
    });
    const weightsBefore = model.getWeights().map((w) => Array.from(w.dataSync()));
    const tensors = tf.memory().numTensors;
    const converted = overparameterize(model);
    converted.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Conv2D', 'SeparableConv2D']);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weightsBefore);
    model.dispose();
  });

  it('refuses a nested model, naming it', () => {
    const inner = tf.sequential({
      name: 'inner',
      layers: [tf.layers.conv2d({ filters: 1, kernelSize: 3, inputShape: [4, 4, 1] })],
    });
    const outer = tf.sequential({ layers: [inner] });
    expect(() => overparameterize(outer)).toThrow(/nested model 'inner'/);
    outer.dispose();
  });
});
