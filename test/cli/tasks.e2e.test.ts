/**
 * The segmentation and detection nets from the real executable: `doconv train --task segmentation`
 * on 2 worker threads (multi-pixel targets and the task loss crossing threads), `eval` of the folded
 * model, `export` to ONNX checked in onnxruntime, `compare` on detection, and the refusals.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { loadMnistScenes, loadSavedModel } from '../../src/node.js';
import { makeSceneBatch } from '../../src/data/sceneBatches.js';
import { onnxSession, runOnnx } from '../onnx/helpers.js';
import { expectClose } from '../helpers/tolerance.js';
import { readJson, tempDir } from '../train/helpers.js';
import { expectExitOne, runCli, spawnCli, type CliResult } from './runCli.js';

let root: string;
let seg: string;
let trained: CliResult;
const small = [
  '--train-limit',
  '32',
  '--test-limit',
  '8',
  '--batch-size',
  '16',
  '--epochs',
  '1',
  '--backend',
  'wasm',
];
beforeAll(async () => {
  await tf.setBackend('wasm');
  root = await tempDir('cli-tasks');
  seg = path.join(root, 'seg');
  trained = await spawnCli(
    [
      'train',
      '--task',
      'segmentation',
      '--dataset',
      'mnist-scenes',
      '--conv',
      'conv',
      ...small,
      '--workers',
      '2',
      '--out',
      seg,
    ],
    180_000,
  );
}, 200_000);
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('doconv train|eval|export|compare for segmentation and detection', () => {
  it("train --task segmentation (deeplab-mini, 2 workers) prints mIoU and the folded model's, writes the run", async () => {
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toMatch(/^model\s+deeplab-mini \(segmentation, conv\)/m);
    expect(trained.out).toMatch(/^test\s+mIoU \d+\.\d\d %, pixel accuracy \d+\.\d\d %/m);
    expect(trained.out).toMatch(/^folded\s+mIoU .* \(max \|Δ outputs\| /m);
    expect(trained.err).toMatch(/^epoch 1\/1: train loss [\d.]+ \| test loss [\d.]+ mIoU [\d.]+/m);
    const summary = await readJson(path.join(seg, 'summary.json'));
    expect(summary).toMatchObject({ task: 'segmentation', trainImages: 32, testImages: 8 });
    expect(summary.config.workers).toBe(2);
    expect(summary.maxAbsOutputDiff).toBeLessThan(1e-3);
  });

  it('eval of the folded model scores what the run recorded', async () => {
    const r = await runCli(['eval', path.join(seg, 'folded'), '--json', '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    const summary = await readJson(path.join(seg, 'summary.json'));
    const got = JSON.parse(r.out);
    expect(got).toMatchObject({ task: 'segmentation', count: 8, model: 'deeplab-mini' });
    expect(got.segmentation.meanIoU).toBeCloseTo(summary.foldedTest.segmentation.meanIoU, 6);
  });

  it('eval refuses the flags that do not apply to a segmentation model, naming them', async () => {
    const folded = path.join(seg, 'folded');
    await expectExitOne(
      runCli(['eval', folded, '--dataset', 'mnist', '--normalize', 'dataset', '--backend', 'wasm']),
      `--dataset, --normalize: not used by ${folded}, a segmentation model (deeplab-mini); it is scored on the mnist-scenes it was trained with`,
    );
  });

  it('fold --verify checks the folded model on the scenes (DilatedConv2D → Conv2D, BN fused)', async () => {
    const r = await runCli([
      'fold',
      path.join(seg, 'checkpoint'),
      path.join(root, 'folded2'),
      '--verify',
      '4',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.maxAbsLogitDiff).toBeLessThan(1e-3);
    expect(report.parameters.after).toBeLessThan(report.parameters.before);
    const classes = await layerClasses(path.join(root, 'folded2'));
    expect(classes).not.toContain('DilatedConv2D');
    expect(classes).not.toContain('BatchNormalization');
  });

  it('export --format onnx: onnxruntime gives the TF.js logits on real scenes', async () => {
    const file = path.join(root, 'seg.onnx');
    const r = await runCli(['export', path.join(seg, 'checkpoint'), file, '--format', 'onnx']);
    expect(r.code, r.err).toBe(0);
    const model = await loadSavedModel(path.join(seg, 'checkpoint'));
    const scenes = await loadMnistScenes({ split: 'test', count: 2 });
    const { xs, ys } = makeSceneBatch(scenes, [0, 1], { task: 'segmentation' });
    const session = await onnxSession(new Uint8Array(await fs.readFile(file)));
    const [got] = await runOnnx(session, [xs]);
    await session.release();
    const want = model.predict(xs) as tf.Tensor;
    expect(got.dims).toEqual([2, 64, 64, 11]);
    expectClose(got.data, want.dataSync(), 1e-4, 'ONNX vs TF.js');
    tf.dispose([xs, ys, want]);
    model.dispose();
  });

  it('compare --model centernet-mini: a table per metric (AP@[.5:.95], AP@0.5), JSON and SVG', async () => {
    const out = path.join(root, 'cmp');
    const r = await runCli([
      'compare',
      '--model',
      'centernet-mini',
      ...small,
      '--runs',
      '1',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('**AP@[.5:.95]** (%)');
    expect(r.out).toContain('**AP@0.5** (%)');
    expect(r.out).toMatch(/\| DO-Conv \| [\d.]+ \|/);
    const record = await readJson(path.join(out, 'centernet-mini.json'));
    expect(record).toMatchObject({ task: 'detection', seeds: [1] });
    expect(record.maxAbsOutputDiff.doconv[0]).toBeLessThan(1e-3);
    expect(await fs.readFile(path.join(out, 'centernet-mini.svg'), 'utf8')).toContain(
      'AP@[.5:.95]',
    );
    // The DO-Conv detector exports as standard TF.js layers (DO-DConv folded, BN fused).
    const tfjsOut = path.join(root, 'det-tfjs');
    const e = await runCli([
      'export',
      path.join(out, 'runs', 'doconv-seed1', 'checkpoint'),
      tfjsOut,
      '--format',
      'tfjs',
    ]);
    expect(e.code, e.err).toBe(0);
    const classes = await layerClasses(tfjsOut);
    expect(classes.filter((c) => c.startsWith('DO') || c === 'BatchNormalization')).toEqual([]);
    expect(classes).toContain('DepthwiseConv2D');
  }, 120_000);

  it('refuses a task that does not match the model, a preset with a dense model, and unused flags', async () => {
    const out = ['--out', path.join(root, 'x')];
    await expectExitOne(
      runCli(['train', '--model', 'resnet-20', '--task', 'detection', ...out]),
      '--task detection does not match --model resnet-20, a classification model',
    );
    await expectExitOne(
      runCli(['train', '--task', 'segmentation', '--dataset', 'cifar10', ...out]),
      '--dataset: not used by deeplab-mini',
    );
    await expectExitOne(
      runCli(['train', '--dataset', 'mnist-scenes', ...out]),
      '--dataset mnist-scenes needs a segmentation or detection model',
    );
    await expectExitOne(
      runCli(['train', '--model', 'resnet-20', '--dataset', 'mnist-scenes', ...out]),
      'dataset "mnist-scenes" is for the segmentation and detection models',
    );
  });
});

/** The class names of the layers of the TF.js model saved in `dir`. */
async function layerClasses(dir: string): Promise<string[]> {
  const saved = await readJson(path.join(dir, 'model.json'));
  return saved.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
}
