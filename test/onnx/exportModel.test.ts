import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doConv2d, doDepthwiseConv2d, exportModel, fileSystem } from '../../src/node.js';
import { expectClose } from '../helpers/tolerance.js';
import { onnxSession, randomizeForExport, runOnnx } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'doconv-export-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function savedDoModel(): Promise<{ path: string; model: tf.LayersModel }> {
  const model = tf.sequential({
    layers: [
      doConv2d({
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        inputShape: [8, 8, 3],
        useBias: false,
      }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      doConv2d({ filters: 6, kernelSize: 3, groups: 3, strides: 2, padding: 'same' }),
      doDepthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 4 }),
    ],
  });
  randomizeForExport(model, 9);
  const path = join(dir, 'do-model');
  await model.save(fileSystem(path));
  return { path, model };
}

describe('exportModel (what `doconv export` runs)', () => {
  it("--format onnx: writes one .onnx file that onnxruntime runs to TF.js's outputs", async () => {
    const { path, model } = await savedDoModel();
    const out = join(dir, 'out', 'model.onnx');
    const result = await exportModel(join(path, 'model.json'), out, 'onnx');
    expect(result.files).toEqual([out]);
    const bytes = readFileSync(out);
    expect(result.bytes).toBe(bytes.byteLength);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1);
    const session = await onnxSession(new Uint8Array(bytes));
    const [y] = await runOnnx(session, [x]);
    await session.release();
    expectClose(y.data, (model.predict(x) as tf.Tensor).dataSync(), 1e-4, 'onnx file');
  });
  it('--format tfjs: writes the folded model (BN fused, standard layers) to a directory', async () => {
    const { path, model } = await savedDoModel();
    const out = join(dir, 'tfjs-out');
    const result = await exportModel(path, out, 'tfjs');
    expect(result.layerClasses).toEqual([
      'Conv2D',
      'ReLU',
      'Conv2D',
      'SeparableConv2D',
      'GlobalAveragePooling2D',
      'Dense',
    ]);
    const loaded = await tf.loadLayersModel(fileSystem(join(out, 'model.json')));
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2);
    expectClose(
      (loaded.predict(x) as tf.Tensor).dataSync(),
      (model.predict(x) as tf.Tensor).dataSync(),
      1e-4,
      'tfjs export',
    );
    const unfused = await exportModel(path, join(dir, 'tfjs-unfused'), 'tfjs', {
      fuseBatchNorm: false,
    });
    expect(unfused.layerClasses).toContain('BatchNormalization');
  });
  it('refuses an unknown format and a missing model, naming them', async () => {
    await expect(exportModel(dir, join(dir, 'x'), 'tflite' as never)).rejects.toThrow(
      /format must be 'tfjs' or 'onnx', got "tflite"/,
    );
    await expect(
      exportModel(join(dir, 'nothing-here'), join(dir, 'x.onnx'), 'onnx'),
    ).rejects.toThrow(/nothing-here/);
  });
});
