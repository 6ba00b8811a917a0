/** doconv's loader names the layer and the weight when a model.json's weights do not fit its model. */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DOConv2D } from '../../src/index.js';
import { fileSystem, MODEL_JSON_NAME } from '../../src/io/fileSystemIO.js';
import { loadModel } from '../../src/io/loadModel.js';
import { loadSavedModel } from '../../src/train/savedModels.js';
import { makeTempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});
beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A saved DO model; `tamper` edits its model.json's weight specs. */
async function savedModel(
  tamper?: (specs: tf.io.WeightsManifestEntry[]) => void,
): Promise<{ dir: string; model: tf.LayersModel }> {
  const dir = await makeTempDir();
  dirs.push(dir);
  const model = tf.sequential({
    layers: [
      new DOConv2D({ filters: 6, kernelSize: 3, inputShape: [5, 5, 4], name: 'conv' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, name: 'dense' }),
    ],
  });
  model.setUserDefinedMetadata({ doconv: { model: 'test' } });
  await model.save(fileSystem(dir));
  if (tamper) {
    const file = path.join(dir, MODEL_JSON_NAME);
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as tf.io.ModelJSON;
    tamper(json.weightsManifest[0].weights);
    await fs.writeFile(file, JSON.stringify(json));
  }
  return { dir, model };
}

describe('loadModel', () => {
  it('loads a good model with its weights and metadata', async () => {
    const { dir, model } = await savedModel();
    const loaded = await loadModel(fileSystem(dir));
    expect(loaded.getUserDefinedMetadata()).toEqual({ doconv: { model: 'test' } });
    const x = tf.randomNormal([2, 5, 5, 4]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  });

  it('a model.json whose weight shapes do not fit names each layer and weight, where doconv loads models', async () => {
    // Same byte counts, so only the shapes are wrong: D [9,9,4] → [9,4,9], kernel [9,4,6] → [9,6,4].
    const { dir } = await savedModel((specs) => {
      for (const spec of specs) {
        if (spec.name === 'conv/D') spec.shape = [9, 4, 9];
        if (spec.name === 'conv/kernel') spec.shape = [9, 6, 4];
      }
    });
    const named =
      /2 of 5 weights[^]*DOConv2D 'conv': weight 'conv\/kernel' has shape \[9,4,6\], the weights data has \[9,6,4\][^]*DOConv2D 'conv': weight 'conv\/D' has shape \[9,9,4\], the weights data has \[9,4,9\]/;
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(named);
    await expect(loadSavedModel(dir)).rejects.toThrow(named);
    // tfjs' loader itself says only this (README, Keras):
    await expect(tf.loadLayersModel(fileSystem(dir))).rejects.toThrow(/^Shape mismatch/);
  });

  it("other failures keep tfjs' error", async () => {
    const { dir } = await savedModel((specs) => {
      specs[specs.length - 1].name = 'dense/nonexistent';
    });
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(
      /no target variable: dense\/nonexistent/,
    );
  });
});
