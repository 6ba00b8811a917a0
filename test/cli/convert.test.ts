/**
 * A trained conv model of your own, brought to DO-Conv: `doconv convert`, `doconv train --model
 * path/model.json` (as it is, or over-parameterized) and `--init` (starting weights by layer name),
 * then fold: the folded model has the original classes and weight shapes and loads with plain tfjs.
 * With a learning rate of 1e-12 training changes nothing measurable, so the folded model must give
 * the original model's outputs — which checks that the file's weights (not fresh ones) were trained.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, fileSystem } from '../../src/node.js';
import { readJson, tempDir } from '../train/helpers.js';
import { expectClose } from '../helpers/tolerance.js';
import { runCli } from './runCli.js';

let root: string;
let original: tf.LayersModel;
const x = () => tf.randomNormal([3, 28, 28, 1], 0.5, 0.3, 'float32', 4);
const FAST = ['--epochs', '1', '--train-limit', '64', '--test-limit', '64', '--backend', 'wasm'];

/** The model in `dir`, loaded with plain tfjs from memory (no doconv class involved). */
async function loadPlain(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
  const bin = await fs.readFile(path.join(dir, 'weights.bin'));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
}

const classes = (m: tf.LayersModel) => m.layers.map((l) => l.getClassName());
const shapes = (m: tf.LayersModel) => m.layers.map((l) => l.weights.map((w) => w.shape));
const outputOf = (m: tf.LayersModel) => tf.tidy(() => (m.predict(x()) as tf.Tensor).dataSync());

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await tempDir('convert');
  original = buildModel('tf-mnist-sample', {
    conv: 'conv',
    inputShape: [28, 28, 1],
    numClasses: 10,
    seed: 3,
  });
  await original.save(fileSystem(path.join(root, 'conv')));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('doconv convert', () => {
  it('writes the DO-Conv twin and says which layers changed', async () => {
    const r = await runCli(['convert', path.join(root, 'conv'), path.join(root, 'converted')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/conv1: Conv2D → DOConv2D; conv2: Conv2D → DOConv2D/);
    const json = (await readJson(path.join(root, 'converted', 'model.json'))) as {
      modelTopology: { config: { layers: { class_name: string }[] } };
    };
    expect(json.modelTopology.config.layers.map((l) => l.class_name)).toContain('DOConv2D');
  });

  it('names a missing input', async () => {
    const r = await runCli(['convert', path.join(root, 'nothing'), path.join(root, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(path.join(root, 'nothing'));
  });
});

describe('doconv train --model path/model.json', () => {
  for (const conv of ['doconv', 'conv']) {
    it(`--conv ${conv}: trains the file's model from its weights; folds to the original architecture`, async () => {
      const out = path.join(root, `own-${conv}`);
      const model = path.join(root, 'conv', 'model.json');
      const r = await runCli([
        'train',
        '--model',
        model,
        '--conv',
        conv,
        '--lr',
        '1e-12',
        ...FAST,
        '--out',
        out,
      ]);
      expect(r.code, r.err).toBe(0);
      const summary = (await readJson(path.join(out, 'summary.json'))) as {
        model: string;
        conv: string;
      };
      expect(summary).toMatchObject({ model, conv });
      const folded = await loadPlain(path.join(out, 'folded'));
      expect(classes(folded)).toEqual(classes(original));
      expect(shapes(folded)).toEqual(shapes(original));
      expectClose(outputOf(folded), outputOf(original), 1e-5, 'folded vs original');
      folded.dispose();
    });
  }

  it('resumes a run of a model file from its checkpoint', async () => {
    const out = path.join(root, 'own-resume');
    const model = path.join(root, 'conv', 'model.json');
    const base = ['train', '--model', model, '--train-limit', '64', '--test-limit', '64'];
    const first = await runCli([...base, '--epochs', '1', '--backend', 'wasm', '--out', out]);
    expect(first.code, first.err).toBe(0);
    const again = ['--epochs', '2', '--backend', 'wasm', '--out', out, '--resume', '--no-fold'];
    const resumed = await runCli([...base, ...again]);
    expect(resumed.code, resumed.err).toBe(0);
    const lines = (await fs.readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1, 2]);
  });

  it('--init: the zoo DO-Conv net starts from the converted weights (by layer name)', async () => {
    const out = path.join(root, 'init');
    const args = ['train', '--model', 'tf-mnist-sample', '--conv', 'doconv', '--lr', '1e-12'];
    const r = await runCli([
      ...args,
      '--init',
      path.join(root, 'converted'),
      ...FAST,
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const folded = await loadPlain(path.join(out, 'folded'));
    expect(classes(folded)).toEqual(classes(original));
    expectClose(outputOf(folded), outputOf(original), 1e-5, 'folded vs original');
    folded.dispose();
  });

  it('refuses weights that do not fit, naming every layer and shape, and a model that does not fit the data', async () => {
    const other = buildModel('gluon-lenet', {
      conv: 'conv',
      inputShape: [28, 28, 1],
      numClasses: 10,
    });
    await other.save(fileSystem(path.join(root, 'lenet')));
    const bad = await runCli([
      ...['train', '--model', 'tf-mnist-sample', '--init', path.join(root, 'lenet')],
      ...FAST,
      ...['--out', path.join(root, 'bad-init')],
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/initial weights from .*lenet do not fit model/);
    expect(bad.err).toMatch(/layer 'conv1' is not in|'conv1\/kernel' has shape/);
    const wide = buildModel('tf-mnist-sample', {
      conv: 'conv',
      inputShape: [32, 32, 3],
      numClasses: 10,
    });
    await wide.save(fileSystem(path.join(root, 'wide')));
    const shape = await runCli([
      ...['train', '--model', path.join(root, 'wide', 'model.json')],
      ...FAST,
      ...['--out', path.join(root, 'bad-shape')],
    ]);
    expect(shape.code).toBe(1);
    expect(shape.err).toMatch(/takes inputs of shape \[32,32,3\].*images are \[28,28,1\]/);
  });
});
