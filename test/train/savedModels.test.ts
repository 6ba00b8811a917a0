/** evaluateSavedModel and foldSavedModel on a trained run's checkpoint (what `doconv eval` / `fold` call). */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import {
  evaluateSavedModel,
  foldSavedModel,
  loadSavedModel,
  modelMetadata,
  trainModel,
  type TrainSummary,
} from '../../src/train/index.js';
import { tempDir, tinyModel } from './helpers.js';

let root: string;
let summary: TrainSummary;
beforeAll(async () => {
  await tf.setBackend('wasm');
  root = await tempDir('saved');
  const r = await trainModel({
    model: tinyModel,
    dataset: 'mnist',
    trainLimit: 128,
    testLimit: 100,
    epochs: 1,
    normalize: 'dataset', // so eval must pick the normalisation up from the model's metadata
    out: path.join(root, 'run'),
  });
  r.model.dispose();
  r.folded?.dispose();
  summary = r.summary;
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('evaluateSavedModel', () => {
  it("checkpoint and folded model reproduce the run's test accuracy with the recorded dataset and normalisation", async () => {
    for (const dir of ['checkpoint', 'folded']) {
      const r = await evaluateSavedModel(path.join(root, 'run', dir), { limit: 100 });
      expect(r).toMatchObject({
        dataset: 'mnist',
        split: 'test',
        normalize: 'dataset',
        count: 100,
      });
      expect('accuracy' in r && r.accuracy).toBe(
        dir === 'checkpoint' ? summary.testAccuracy : summary.foldedTestAccuracy,
      );
    }
  });

  it('metadata records what the model was trained on', async () => {
    const m = await loadSavedModel(path.join(root, 'run', 'folded', 'model.json'));
    expect(modelMetadata(m)).toEqual({
      model: 'tinyModel',
      conv: 'doconv',
      dataset: 'mnist',
      normalize: 'dataset',
      outputKind: 'logits',
      folded: true,
      // the values normalize 'dataset' used on mnist, so predict needs no table
      normalization: { mean: [0.1307], std: [0.3081] },
    });
    m.dispose();
  });

  it('a missing model path is named', async () => {
    await expect(evaluateSavedModel(path.join(root, 'nope'))).rejects.toThrow(
      `model ${JSON.stringify(path.join(root, 'nope'))}: no such file or folder`,
    );
  });
});

describe('foldSavedModel', () => {
  it('writes a standard-layer model and checks its logits', async () => {
    const out = path.join(root, 'folded-again');
    const r = await foldSavedModel(path.join(root, 'run', 'checkpoint'), out, { verifyImages: 50 });
    expect(r.parameters.after).toBeLessThan(r.parameters.before);
    expect(r.maxAbsLogitDiff).toBeLessThan(1e-4);
    const m = await loadSavedModel(out);
    expect(m.layers.map((l) => l.getClassName())).not.toContain('DOConv2D');
    m.dispose();
  });
});
