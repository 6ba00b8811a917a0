import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  doConv1d,
  doConv2d,
  doDepthwiseConv2d,
  foldModel,
  loadPytorchStateDict,
  readSafetensors,
} from '../../src/index.js';
import { fileSystem, loadSavedModel } from '../../src/node.js';
import { runCli } from '../cli/runCli.js';
import { expectClose } from '../helpers/tolerance.js';

const dir = mkdtempSync(join(tmpdir(), 'doconv-interop-'));
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

beforeAll(async () => {
  await tf.setBackend('cpu');
  execFileSync(PYTHON, [join(import.meta.dirname, 'make_fixtures.py'), dir], { stdio: 'inherit' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (name: string) => readSafetensors(new Uint8Array(readFileSync(join(dir, name))), name);
const nhwc = (t: tf.Tensor) => tf.transpose(t, [0, 2, 3, 1]);

function ptMnistSample(): tf.LayersModel {
  const pad = () => tf.layers.zeroPadding2d({ padding: 1 });
  return tf.sequential({
    layers: [
      tf.layers.inputLayer({ inputShape: [28, 28, 1] }),
      pad(),
      doConv2d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv1' }),
      pad(),
      doConv2d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv2' }),
      pad(),
      doConv2d({ filters: 10, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv3' }),
      tf.layers.globalAveragePooling2d({}),
    ],
  });
}

function lenet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      doConv2d({
        filters: 8,
        kernelSize: 5,
        padding: 'same',
        inputShape: [28, 28, 1],
        name: 'conv1',
      }),
      tf.layers.batchNormalization({ epsilon: 1e-5, name: 'bn1' }),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      doConv2d({
        filters: 8,
        kernelSize: 3,
        dMul: 11,
        dilationRate: 2,
        padding: 'same',
        activation: 'relu',
        name: 'dil',
      }),
      doConv2d({
        filters: 8,
        kernelSize: 3,
        groups: 2,
        padding: 'same',
        activation: 'relu',
        name: 'grouped',
      }),
      doDepthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }),
      tf.layers.conv2d({ filters: 12, kernelSize: 3, name: 'conv2' }),
      tf.layers.batchNormalization({ epsilon: 1e-5, name: 'bn2' }),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 32, activation: 'relu', name: 'fc1' }),
      tf.layers.dense({ units: 10, name: 'fc2' }),
    ],
  });
}

const cases: {
  name: string;
  build: () => tf.LayersModel;
  map: Record<string, string>;
  departing: string[];
}[] = [
  {
    name: 'pt_mnist_sample',
    build: ptMnistSample,
    map: { conv1: 'conv1', conv2: 'conv2', conv3: 'conv3' },
    departing: [],
  },
  {
    name: 'lenet',
    build: lenet,
    departing: ['grouped', 'dw'],
    map: {
      conv1: 'conv1',
      bn1: 'bn1',
      dil: 'dil',
      grouped: 'grouped',
      dw: 'dw',
      conv2: 'conv2',
      bn2: 'bn2',
      fc1: 'fc1',
      fc2: 'fc2',
    },
  },
];

describe.each(cases)('PyTorch $name → doconv', ({ name, build, map, departing }) => {
  it('reproduces the outputs and every gradient to 1e-4 relative', () => {
    const state = load(`${name}.safetensors`);
    const io = load(`${name}.io.safetensors`);
    const model = build();
    const warnings: string[] = [];
    const report = loadPytorchStateDict(model, state, { map, onWarning: (w) => warnings.push(w) });
    expect(report.loaded.sort()).toEqual(Object.values(map).sort());
    // exactly the departing layers are reported
    for (const layer of departing)
      expect(
        warnings.some((w) => w.includes(`'${layer}'`)),
        layer,
      ).toBe(true);
    expect(warnings.filter((w) => w.includes('departs')).length).toBe(departing.length);

    const x = tf.variable(nhwc(io.x));
    const g = io.g;
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(model.apply(x) as tf.Tensor, g)) as tf.Scalar,
      [x, ...vars],
    );
    const y = model.predict(x) as tf.Tensor;
    expectClose(y.dataSync(), io.y.dataSync(), 1e-4, 'output');
    expectClose(grads[x.name].dataSync(), nhwc(io['grad.x']).dataSync(), 1e-4, 'dL/dx');

    // PyTorch's parameter gradients, converted with the same loader into a twin model.
    const twin = build();
    const gradState: Record<string, tf.Tensor> = { ...state };
    for (const key of Object.keys(io))
      if (key.startsWith('grad.') && key !== 'grad.x') gradState[key.slice(5)] = io[key];
    loadPytorchStateDict(twin, gradState, { map, onWarning: () => {} });
    let compared = 0;
    for (const [j, layer] of model.layers.entries()) {
      if (departing.includes(layer.name)) continue;
      const twinLayer = twin.layers[j];
      layer.trainableWeights.forEach((w, i) => {
        const expected = twinLayer.trainableWeights[i].read().dataSync();
        expectClose(
          grads[(w.read() as tf.Variable).name].dataSync(),
          expected,
          1e-4,
          `dL/d${w.name}`,
        );
        compared++;
      });
    }
    expect(compared).toBeGreaterThanOrEqual(name === 'lenet' ? 14 : 8);

    // and the folded model still computes the same
    const folded = foldModel(model, { fuseBatchNorm: true });
    expectClose(
      (folded.predict(x) as tf.Tensor).dataSync(),
      io.y.dataSync(),
      1e-4,
      'folded output',
    );
  });
});

describe('PyTorch DOConv1d (tools/doconv_torch) → doconv DOConv1D', () => {
  const map = { do1: 'do1', do2: 'do2', plain: 'plain' };
  const build = () =>
    tf.sequential({
      layers: [
        doConv1d({
          filters: 6,
          kernelSize: 3,
          padding: 'same',
          dilationRate: 2,
          activation: 'relu',
          inputShape: [17, 3],
          name: 'do1',
        }),
        doConv1d({
          filters: 4,
          kernelSize: 5,
          strides: 2,
          dMul: 7,
          useBias: false,
          activation: 'relu',
          name: 'do2',
        }),
        tf.layers.conv1d({ filters: 5, kernelSize: 3, name: 'plain' }),
      ],
    });
  const nlc = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1]);

  it('reproduces the outputs and every gradient to 1e-4 relative, and folds to Conv1D', () => {
    const state = load('sequence1d.safetensors');
    const io = load('sequence1d.io.safetensors');
    const model = build();
    const report = loadPytorchStateDict(model, state, { map, composition: 'definition' });
    expect(report.loaded.sort()).toEqual(['do1', 'do2', 'plain']);
    const x = tf.variable(nlc(io.x));
    const g = nlc(io.g);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(model.apply(x) as tf.Tensor, g)) as tf.Scalar,
      [x, ...vars],
    );
    expectClose((model.predict(x) as tf.Tensor).dataSync(), nlc(io.y).dataSync(), 1e-4, 'output');
    expectClose(grads[x.name].dataSync(), nlc(io['grad.x']).dataSync(), 1e-4, 'dL/dx');
    const twin = build();
    const gradState: Record<string, tf.Tensor> = { ...state };
    for (const key of Object.keys(io))
      if (key.startsWith('grad.') && key !== 'grad.x') gradState[key.slice(5)] = io[key];
    loadPytorchStateDict(twin, gradState, { map, composition: 'definition' });
    let compared = 0;
    model.layers.forEach((layer, j) =>
      layer.trainableWeights.forEach((w, i) => {
        expectClose(
          grads[(w.read() as tf.Variable).name].dataSync(),
          twin.layers[j].trainableWeights[i].read().dataSync(),
          1e-4,
          `dL/d${w.name}`,
        );
        compared++;
      }),
    );
    expect(compared).toBe(7); // do1: W, D, bias; do2: W, D; plain: kernel, bias
    const folded = foldModel(model);
    expect(folded.layers.map((l) => l.getClassName())).toEqual(['Conv1D', 'Conv1D', 'Conv1D']);
    expectClose((folded.predict(x) as tf.Tensor).dataSync(), nlc(io.y).dataSync(), 1e-4, 'folded');
  });

  it('doconv import --model path/model.json: the state_dict into a model.json of your own', async () => {
    const mine = join(dir, 'sequence1d-model');
    const architecture = build();
    await architecture.save(fileSystem(mine));
    architecture.dispose();
    const out = join(dir, 'sequence1d-imported');
    const r = await runCli([
      'import',
      join(dir, 'sequence1d.safetensors'),
      '--model',
      join(mine, 'model.json'),
      '--composition',
      'definition',
      '--out',
      out,
      '--backend',
      'cpu',
    ]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/layer-names layout, 3 layers, definition DO-Conv composition/);
    const io = load('sequence1d.io.safetensors');
    const imported = await loadSavedModel(out);
    expect(imported.layers.map((l) => l.getClassName())).toEqual([
      'DOConv1D',
      'DOConv1D',
      'Conv1D',
    ]);
    const y = imported.predict(nlc(io.x)) as tf.Tensor;
    expectClose(y.dataSync(), nlc(io.y).dataSync(), 1e-4, 'imported output');
    imported.dispose();
  });
});
