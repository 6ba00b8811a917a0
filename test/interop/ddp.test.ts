/**
 * Scale-out, end to end: zoo nets trained a few steps by 2-process DDP (tools/train_ddp.py, gloo), then
 * `doconv import` → TF.js, `doconv fold`, `doconv export --format onnx` → onnxruntime-node, each checked
 * against PyTorch's outputs on the same images; every zoo net's twin (the segmentation and detection
 * nets folded and exported too); a grouped DO-Conv net (1 < groups < C, depthwise
 * multiplier 2) trained in PyTorch from the definition; the official sample's state dicts; and DDP's
 * arithmetic (tools/check_ddp.py). Fixtures: ddp_fixtures.py.
 *
 * Tolerance on outputs: 1e-5 · max(1, max |y|). Both sides compute in float32 with different summation
 * orders (and the fold/ONNX composes the kernel first): measured ~4e-7 relative to the largest output,
 * from the trained nets' probabilities and logits (≤ 1) to the random-BN ResNet-56's 3e4.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deriveStateDictMap,
  doConv2d,
  doDepthwiseConv2d,
  foldModel,
  exportOnnx,
  importPytorchCheckpoint,
  loadDataset,
  loadPytorchStateDict,
  loadSavedModel,
  readSafetensors,
  useBestBackend,
  zooModelNames,
  zooModelTask,
} from '../../src/node.js';
import { runCli } from '../cli/runCli.js';
import { onnxSession, runOnnx } from '../onnx/helpers.js';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const TOLERANCE = 1e-5;
const dir = mkdtempSync(join(tmpdir(), 'doconv-ddp-'));
const fixtures = join(dir, 'fixtures');
let checks: { case: string; ok: boolean; maxAbsDiff: number; expect: string; tolerance: number }[];

beforeAll(async () => {
  await useBestBackend(); // wasm: MobileNet-v1 on 200 test images is slow on 'cpu'
  execFileSync(PYTHON, [join(import.meta.dirname, 'ddp_fixtures.py'), fixtures], {
    stdio: 'inherit',
  });
  const report = join(dir, 'check.json');
  const tool = join(import.meta.dirname, '..', '..', 'tools', 'check_ddp.py');
  execFileSync(PYTHON, [tool, '--json', report], { stdio: 'inherit' }); // its default: 20 steps
  checks = JSON.parse(readFileSync(report, 'utf8'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (file: string) => readSafetensors(new Uint8Array(readFileSync(file)), file);
const nhwc = (t: tf.Tensor) => tf.transpose(t, [0, 2, 3, 1]);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** PyTorch's images and outputs (io.safetensors), the images as NHWC. */
function io(name: string): { x: tf.Tensor; y: Float32Array } {
  const t = read(join(fixtures, name, 'io.safetensors'));
  const x = nhwc(t.x);
  const y = t.y.dataSync() as Float32Array;
  tf.dispose([t.x, t.y]);
  return { x, y };
}

/** The tolerance for outputs y: relative to the largest |y| once that exceeds 1. */
const toleranceFor = (y: Float32Array) => TOLERANCE * Math.max(1, ...Array.from(y, Math.abs));

async function expectOutputs(model: tf.LayersModel, name: string, what: string): Promise<void> {
  const { x, y } = io(name);
  const got = model.predict(x) as tf.Tensor;
  expect(maxAbsDiff(got.dataSync(), y), `${name}: ${what}`).toBeLessThanOrEqual(toleranceFor(y));
  tf.dispose([x, got]);
}

async function expectOnnxOutputs(file: string, name: string): Promise<void> {
  const { x, y } = io(name);
  const session = await onnxSession(new Uint8Array(readFileSync(file)));
  const [out] = await runOnnx(session, [x]);
  expect(maxAbsDiff(out.data, y), `${name}: ONNX`).toBeLessThanOrEqual(toleranceFor(y));
  x.dispose();
  await session.release();
}

describe('DDP (2 processes) → doconv import → fold → ONNX: the same outputs as PyTorch', () => {
  for (const name of ['tf-mnist-sample', 'mobilenet-v1']) {
    it(`${name}: TF.js, folded and ONNX outputs equal PyTorch's; the accuracies on the test slice match`, async () => {
      const ckpt = join(fixtures, name, 'checkpoint.safetensors');
      const info = JSON.parse(readFileSync(join(fixtures, name, 'checkpoint.json'), 'utf8'));
      expect(info).toMatchObject({
        model: name,
        worldSize: 2,
        backend: 'gloo',
        composition: 'definition',
      });
      const imported = join(dir, `${name}-imported`);
      const r = await runCli(['import', ckpt, '--out', imported, '--dataset', 'mnist', '--json']);
      expect(r.err).not.toMatch(/error/);
      const result = JSON.parse(r.out);
      expect(result.warnings).toEqual([]);
      // Same 200 test images on both sides (the JSON's slice), the same predictions.
      expect(result.tfjs.count).toBe(info.testImages);
      expect(result.tfjs.accuracy).toBe(info.testAccuracy);

      // The images doconv reads are the ones PyTorch read: the same IDX bytes, the same p/255.
      const { x } = io(name);
      const ds = await loadDataset('mnist', { split: 'test', limit: x.shape[0] });
      expect(Array.from(x.dataSync())).toEqual(Array.from(ds.images, (p) => Math.fround(p / 255)));
      x.dispose();

      // `doconv eval` reads the data set and normalisation recorded in the imported model.
      const ev = await runCli(['eval', imported, '--limit', String(info.testImages), '--json']);
      expect(JSON.parse(ev.out)).toMatchObject({ dataset: 'mnist', accuracy: info.testAccuracy });

      const model = await loadSavedModel(imported);
      await expectOutputs(model, name, 'imported');
      model.dispose();
      const folded = join(dir, `${name}-folded`);
      expect((await runCli(['fold', imported, folded])).code).toBe(0);
      const foldedModel = await loadSavedModel(folded);
      expect(foldedModel.layers.some((l) => l.getClassName().startsWith('DO'))).toBe(false);
      await expectOutputs(foldedModel, name, 'folded');
      foldedModel.dispose();
      const onnx = join(dir, `${name}.onnx`);
      expect((await runCli(['export', imported, onnx, '--format', 'onnx'])).code).toBe(0);
      await expectOnnxOutputs(onnx, name);
    });
  }
});

describe("every zoo net's PyTorch twin computes the TS builder's function (random D and BN statistics)", () => {
  for (const name of zooModelNames) {
    const task = zooModelTask(name);
    // The task nets (dilated 'same' convs, TF.js's bilinear grid, concatenated heads) are also folded
    // and exported: the path a task net takes after `doconv import` (64×64 inputs, cheap).
    const what =
      task === 'classification' ? 'the same outputs' : 'the same outputs, folded and ONNX too';
    it(`${name}: importPytorchCheckpoint → ${what}`, async () => {
      const folder = join(fixtures, 'twins', name);
      const r = await importPytorchCheckpoint({
        checkpoint: join(folder, 'checkpoint.safetensors'),
        out: join(dir, 'twins', name),
      });
      expect(r).toMatchObject({
        model: name,
        task,
        conv: 'doconv',
        layout: 'layer-names',
        warnings: [],
      });
      const model = await loadSavedModel(r.out);
      await expectOutputs(model, join('twins', name), 'imported');
      model.dispose();
      if (task === 'classification') return;
      const folded = join(dir, 'twins', `${name}-folded`);
      expect((await runCli(['fold', r.out, folded])).code).toBe(0);
      const foldedModel = await loadSavedModel(folded);
      expect(foldedModel.layers.some((l) => l.getClassName().startsWith('DO'))).toBe(false);
      expect(foldedModel.getUserDefinedMetadata()).toMatchObject({
        doconv: { model: name, task, dataset: 'mnist-scenes', folded: true },
      });
      await expectOutputs(foldedModel, join('twins', name), 'folded');
      foldedModel.dispose();
      const onnx = join(dir, 'twins', `${name}.onnx`);
      expect((await runCli(['export', r.out, onnx, '--format', 'onnx'])).code).toBe(0);
      await expectOnnxOutputs(onnx, join('twins', name));
    });
  }
});

/** The TF.js twin of ddp_fixtures.py's Grouped net (not a zoo net). */
function groupedNet(): tf.LayersModel {
  return tf.sequential({
    name: 'grouped',
    layers: [
      doConv2d({
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        inputShape: [28, 28, 1],
        name: 'conv1',
      }),
      doConv2d({
        filters: 12,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        groups: 2,
        activation: 'relu',
        name: 'g2',
      }),
      doConv2d({ filters: 16, kernelSize: 3, groups: 4, activation: 'relu', name: 'g4' }),
      doDepthwiseConv2d({
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        activation: 'relu',
        name: 'dw',
      }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 10, name: 'fc' }),
    ],
  });
}

describe('a grouped DO-Conv trained in PyTorch from the definition imports exactly', () => {
  it("groups 2 and 4 of 8/12 channels, depthwise × 2: TF.js, folded and ONNX equal PyTorch's", async () => {
    const state = read(join(fixtures, 'grouped', 'checkpoint.safetensors'));
    const model = groupedNet();
    const { map } = deriveStateDictMap(model, Object.keys(state));
    const report = loadPytorchStateDict(model, state, { map, composition: 'definition' });
    expect(report.warnings).toEqual([]);
    await expectOutputs(model, 'grouped', 'imported');
    await expectOutputs(foldModel(model), 'grouped', 'folded');
    const onnx = join(dir, 'grouped.onnx');
    writeFileSync(onnx, exportOnnx(model));
    await expectOnnxOutputs(onnx, 'grouped');

    // Read as the official module's (its W reshape for 1 < groups < C): another function, with warnings.
    // On 'cpu': the official composition uses tf.einsum, which the wasm backend lacks.
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const official = groupedNet();
      const warnings: string[] = [];
      loadPytorchStateDict(official, state, { map, onWarning: (w) => warnings.push(w) });
      expect(warnings.length).toBe(3); // g2, g4, dw
      const { x, y } = io('grouped');
      const other = official.predict(x) as tf.Tensor;
      expect(maxAbsDiff(other.dataSync(), y)).toBeGreaterThan(1e-2);
      tf.dispose([x, other]);
      official.dispose();
    } finally {
      await tf.setBackend(backend);
    }
    tf.dispose(Object.values(state));
    model.dispose();
  });
});

describe("the official PyTorch sample's state dicts (nn.Sequential: 0.W, 0.D, 0.d_diag, 0.bias, 2.W, …)", () => {
  for (const conv of ['doconv', 'conv'] as const) {
    it(`${conv}: doconv import --model pt-mnist-sample computes the sample's function`, async () => {
      const name = `official-${conv}`;
      const out = join(dir, `${name}-imported`);
      const r = await runCli([
        'import',
        join(fixtures, name, 'checkpoint.safetensors'),
        '--model',
        'pt-mnist-sample',
        '--out',
        out,
        '--json',
      ]);
      expect(r.err).not.toMatch(/error/);
      expect(JSON.parse(r.out)).toMatchObject({
        layout: 'sequential',
        conv,
        map: { 0: 'conv1', 2: 'conv2', 4: 'conv3' },
      });
      const model = await loadSavedModel(out);
      await expectOutputs(model, name, 'imported');
      model.dispose();
    });
  }
});

describe('what DDP computes (tools/check_ddp.py)', () => {
  it('2 processes train the weights 1 process trains with the same global batch; with BatchNorm they differ', () => {
    const byCase = Object.fromEntries(checks.map((c) => [c.case, c]));
    expect(byCase['float64 no-BN'].maxAbsDiff).toBeLessThanOrEqual(1e-12);
    expect(byCase['float64 no-BN conv'].maxAbsDiff).toBeLessThanOrEqual(1e-12);
    expect(byCase['float32 no-BN'].maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(byCase['float64 BN'].maxAbsDiff).toBeGreaterThan(1e-6);
    expect(checks.every((c) => c.ok)).toBe(true);
  });
});
