/**
 * A model.json names the files its weights are read from; those names are data from the file, not
 * trusted paths. The rule (src/io/fileSystemIO.ts, confinedPath): relative, inside the model.json's
 * folder. Anything else is refused naming the model file and the path, before any weight file is
 * opened.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinedPath, fileSystem } from '../../src/io/fileSystemIO.js';
import { loadModel } from '../../src/io/loadModel.js';
import { makeTempDir } from '../io/helpers.js';

let root: string;
let modelDir: string;
let modelJson: Record<string, unknown>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await makeTempDir('doconv-hostile-model-');
  modelDir = path.join(root, 'model');
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
  await model.save(fileSystem(modelDir));
  model.dispose();
  modelJson = JSON.parse(await fs.readFile(path.join(modelDir, 'model.json'), 'utf8'));
  // A valid weights file outside the model's folder, of exactly the right size: only the path rule
  // can refuse it.
  await fs.mkdir(path.join(root, 'other'));
  await fs.copyFile(path.join(modelDir, 'weights.bin'), path.join(root, 'other', 'weights.bin'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Writes model.json with its manifest's paths replaced, and loads it. */
async function loadWithPaths(paths: unknown): Promise<tf.LayersModel> {
  const json = structuredClone(modelJson) as { weightsManifest: Array<{ paths: unknown }> };
  json.weightsManifest[0].paths = paths;
  const dir = await fs.mkdtemp(path.join(root, 'case-'));
  await fs.copyFile(path.join(modelDir, 'weights.bin'), path.join(dir, 'weights.bin'));
  await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  return tf.loadLayersModel(fileSystem(path.join(dir, 'model.json')));
}

describe('weightsManifest paths', () => {
  const refused: Array<[string, unknown, RegExp]> = [
    ['a path up and out', ['../other/weights.bin'], /leaves the model's folder/],
    ['a deeper escape', ['sub/../../other/weights.bin'], /leaves the model's folder/],
    ['an absolute path', ['/etc/passwd'], /absolute paths are not allowed/],
    ['a Windows drive path', ['C:\\weights.bin'], /absolute paths are not allowed/],
    ['the folder itself', ['.'], /leaves the model's folder/],
    ['an empty name', [''], /not a non-empty string/],
    ['a number', [42], /not a non-empty string/],
    ['null', [null], /not a non-empty string/],
    ['paths not an array', 'weights.bin', /must have 'paths' and 'weights' arrays/],
  ];
  for (const [label, paths, message] of refused) {
    it(`refuses ${label}`, async () => {
      await expect(loadWithPaths(paths)).rejects.toThrow(message);
    });
  }

  it('loads the plain relative name, and a name in a subfolder', async () => {
    const model = await loadWithPaths(['weights.bin']);
    expect(model.getWeights()).toHaveLength(2);
    model.dispose();
    expect(confinedPath('/m', 'shards/w1.bin', '/m/model.json')).toBe('/m/shards/w1.bin');
  });

  it('refuses a weights path that is a folder, naming it, before reading', async () => {
    const json = structuredClone(modelJson) as { weightsManifest: Array<{ paths: unknown }> };
    json.weightsManifest[0].paths = ['sub'];
    const dir = await fs.mkdtemp(path.join(root, 'case-'));
    await fs.mkdir(path.join(dir, 'sub'));
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    await expect(tf.loadLayersModel(fileSystem(path.join(dir, 'model.json')))).rejects.toThrow(
      /cannot read weights file .*sub .*listed in/,
    );
  });
});

describe('non-finite weights', () => {
  it('loadModel refuses a model with a NaN weight, naming it; allowNonFinite loads it', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 2, inputShape: [3], name: 'd' })],
    });
    const [kernel] = model.getWeights();
    const nanBias = tf.tensor1d([0, NaN]);
    model.setWeights([kernel, nanBias]);
    const dir = path.join(root, 'nan-model');
    await model.save(fileSystem(dir));
    nanBias.dispose();
    model.dispose();
    const tensors = tf.memory().numTensors;
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(
      /NaN or Infinity in 1 weight\(s\): d\/bias/,
    );
    expect(tf.memory().numTensors).toBe(tensors);
    const loaded = await loadModel(fileSystem(dir), { allowNonFinite: true });
    expect(Number.isNaN(loaded.getWeights()[1].dataSync()[1])).toBe(true);
    loaded.dispose();
  });
});
