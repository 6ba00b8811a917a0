import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOConvBase, fileSystem, foldModel } from '../../src/node.js';
import { buildModel, zooModelNames, zooModelTask } from '../../src/models/index.js';
import { expectClose } from '../helpers/tolerance.js';
import {
  attr,
  expectOnnxMatchesTfjs,
  initializerDims,
  nodesOf,
  randomizeForExport,
} from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'doconv-onnx-zoo-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAPES = { mnist: [28, 28, 1], cifar: [32, 32, 3] } as const;
/** The segmentation and detection nets need sides divisible by 8. */
const SCENE_SHAPES = { gray: [32, 32, 1], rgb: [32, 32, 3] } as const;
const shapesOf = (name: string) =>
  zooModelTask(name) === 'classification' ? SHAPES : SCENE_SHAPES;
const BATCH = 2;

/** Conv-like layers of a model (each must become exactly one ONNX Conv). */
function convLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter(
    (l) =>
      l instanceof DOConvBase ||
      ['Conv2D', 'DepthwiseConv2D', 'DilatedConv2D'].includes(l.getClassName()),
  );
}

describe('every zoo model → ONNX: onnxruntime gives the TF.js outputs (random weights, D and BN statistics)', () => {
  zooModelNames.forEach((name, m) => {
    for (const conv of ['conv', 'doconv'] as const) {
      for (const [shapeName, inputShape] of Object.entries(shapesOf(name))) {
        it(`${name} ${conv} ${shapeName}`, async () => {
          const seed = 1000 * m + (conv === 'doconv' ? 500 : 0) + inputShape[2];
          const model = buildModel(name, { conv, inputShape, numClasses: 10, seed });
          randomizeForExport(model, seed);
          const x = tf.randomNormal([BATCH, ...inputShape], 0, 1, 'float32', seed);
          const decoded = await expectOnnxMatchesTfjs(model, [x]);
          x.dispose();
          // One Conv per conv layer, with the layer's groups; transposes only at the input and before a Flatten.
          const convs = nodesOf(decoded, 'Conv');
          const layers = convLayers(model);
          expect(convs).toHaveLength(layers.length);
          layers.forEach((layer, i) => {
            const groups =
              layer instanceof DOConvBase
                ? layer.convGroups
                : layer.getClassName() === 'DepthwiseConv2D'
                  ? (layer.getWeights()[0].shape[2] as number)
                  : 1;
            expect(attr(convs[i], 'group') ?? 1, layer.name).toBe(groups);
            const inChannels = (layer.input as tf.SymbolicTensor).shape[3] as number;
            expect(initializerDims(decoded, convs[i], 1)?.[1], layer.name).toBe(
              inChannels / groups,
            );
          });
          // One at the input, one before each Flatten or after each Reshape (the layout changes
          // there), and one at a 4D (NHWC) output.
          const relayouts = model.layers.filter((l) =>
            ['Flatten', 'Reshape'].includes(l.getClassName()),
          ).length;
          const imageOut = model.outputs[0].shape.length === 4 ? 1 : 0;
          expect(nodesOf(decoded, 'Transpose').length).toBeLessThanOrEqual(
            1 + relayouts + imageOut,
          );
          model.dispose();
        });
      }
    }
  });
});

describe('the folded TF.js model of every zoo net loads and predicts with plain @tensorflow/tfjs', () => {
  it('each doconv zoo net, folded with BN fusion and saved, predicts the same in a process without doconv', async () => {
    const jobs: { dir: string; input: { values: number[]; shape: number[] } }[] = [];
    const expected: Float32Array[] = [];
    const standard: string[][] = [];
    for (const [m, name] of zooModelNames.entries()) {
      const inputShape =
        zooModelTask(name) !== 'classification'
          ? SCENE_SHAPES.gray
          : name.includes('mnist') || name === 'gluon-lenet'
            ? SHAPES.mnist
            : SHAPES.cifar;
      const model = buildModel(name, { conv: 'doconv', inputShape, numClasses: 10, seed: m });
      randomizeForExport(model, 7 * m);
      const folded = foldModel(model, { fuseBatchNorm: true });
      const modelDir = join(dir, name);
      await folded.save(fileSystem(modelDir));
      const x = tf.randomNormal([BATCH, ...inputShape], 0, 1, 'float32', m);
      expected.push((model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      jobs.push({ dir: modelDir, input: { values: Array.from(x.dataSync()), shape: x.shape } });
      standard.push(folded.layers.map((l) => l.getClassName()));
      x.dispose();
      model.dispose();
      folded.dispose();
    }
    const jobsFile = join(dir, 'jobs.json');
    writeFileSync(jobsFile, JSON.stringify(jobs));
    const script = join(import.meta.dirname, 'fixtures', 'plainTfjsPredictMany.mjs');
    const out = execFileSync(process.execPath, [script, jobsFile], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      // A process without doconv prints tfjs's Node banner on stderr: kept out of the test output.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const results = JSON.parse(out.trim().split('\n').pop()!) as {
      classes: string[];
      y: number[];
    }[];
    expect(results).toHaveLength(zooModelNames.length);
    results.forEach((r, i) => {
      expect(r.classes, zooModelNames[i]).toEqual(standard[i]);
      expect(
        r.classes.some((c) => c.startsWith('DO')),
        zooModelNames[i],
      ).toBe(false);
      expectClose(r.y, expected[i], 1e-4, `${zooModelNames[i]} in plain tfjs`);
    });
  });
});
