/**
 * A model.json names the files its weights are read from; those names are data from the file, not
 * trusted paths. The rule (src/io/fileSystemIO.ts, confinedPath): relative, inside the model.json's
 * folder. Anything else is refused naming the model file and the path, before any weight file is
 * opened.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinedPath, fileSystem } from '../../src/io/fileSystemIO.js';
import { loadModel } from '../../src/io/loadModel.js';
import { makeTempDir } from '../io/helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let root: string;
let modelDir: string;
let modelJson: Record<string, unknown>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await makeTempDir('doconv-hostile-model-');
  modelDir = path.join(root, 'model');
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 2, inputShape: [3], name: 'd' })],
  });
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
    ['a path up and out', ['../other/weights.bin'], /leaves its folder/],
    ['a deeper escape', ['sub/../../other/weights.bin'], /leaves its folder/],
    ['an absolute path', ['/etc/passwd'], /absolute paths are not allowed/],
    ['a Windows drive path', ['C:\\weights.bin'], /absolute paths are not allowed/],
    ['the folder itself', ['.'], /leaves its folder/],
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
      /cannot read weights file .*sub \(listed in .*model\.json\): it is a directory/,
    );
  });
});

/** A copy of the saved model in a fresh folder, with `edit` applied to its model.json. */
async function caseWith(edit: (json: Json) => void): Promise<string> {
  const json = structuredClone(modelJson);
  edit(json);
  const dir = await fs.mkdtemp(path.join(root, 'case-'));
  await fs.copyFile(path.join(modelDir, 'weights.bin'), path.join(dir, 'weights.bin'));
  await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

describe('weight files, resolved', () => {
  it('refuses a weights file that is a symlink out of the folder, naming both paths', async () => {
    const dir = await caseWith(() => {});
    await fs.rm(path.join(dir, 'weights.bin'));
    await fs.symlink(path.join(root, 'other', 'weights.bin'), path.join(dir, 'weights.bin'));
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(
      /lists weights file "weights\.bin": .*weights\.bin resolves to .*other\/weights\.bin \(through a symlink\), outside the folder/,
    );
  });

  it('loads through a symlink that stays inside the folder', async () => {
    const dir = await caseWith(() => {});
    await fs.rename(path.join(dir, 'weights.bin'), path.join(dir, 'real.bin'));
    await fs.symlink('real.bin', path.join(dir, 'weights.bin'));
    const model = await loadModel(fileSystem(dir));
    expect(model.getWeights()).toHaveLength(2);
    model.dispose();
  });

  it('refuses a FIFO as weights.bin at once (no hang), saying what it is', async () => {
    const dir = await caseWith(() => {});
    await fs.rm(path.join(dir, 'weights.bin'));
    execFileSync('mkfifo', [path.join(dir, 'weights.bin')]);
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(
      /cannot read weights file .*weights\.bin \(listed in .*model\.json\): it is a FIFO/,
    );
  });

  it('refuses /dev/zero as model.json or behind a weights symlink, never "it is a directory"', async () => {
    await expect(loadModel(fileSystem('/dev/zero'))).rejects.toThrow(
      /cannot read model file \/dev\/zero: it is a character device/,
    );
    const dir = await caseWith(() => {});
    await fs.rm(path.join(dir, 'weights.bin'));
    await fs.symlink('/dev/zero', path.join(dir, 'weights.bin'));
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(/resolves to \/dev\/zero/);
  });

  it('refuses a FIFO as model.json at once', async () => {
    const dir = await fs.mkdtemp(path.join(root, 'case-'));
    execFileSync('mkfifo', [path.join(dir, 'model.json')]);
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(/model\.json: it is a FIFO/);
  });
});

describe('weight specs', () => {
  const refused: Array<[string, (w: Json) => void, RegExp]> = [
    [
      'uint8 quantization with scale null (would load as zeros)',
      (w) => (w.quantization = { dtype: 'uint8', scale: null, min: 0 }),
      /weight "d\/kernel": uint8 quantization needs a finite number 'scale', got null/,
    ],
    [
      'uint16 quantization without min',
      (w) => (w.quantization = { dtype: 'uint16', scale: 1 }),
      /uint16 quantization needs a finite number 'min', got undefined/,
    ],
    [
      'an unknown quantization dtype',
      (w) => (w.quantization = { dtype: 'int4', scale: 1, min: 0 }),
      /quantization dtype must be uint8, uint16 or float16, got "int4"/,
    ],
    ['a negative dimension', (w) => (w.shape = [-3, 2]), /weight "d\/kernel": shape must be/],
    ['a fractional dimension', (w) => (w.shape = [1.5, 4]), /weight "d\/kernel": shape must be/],
    [
      'an unknown dtype',
      (w) => (w.dtype = 'float64'),
      /weight "d\/kernel": unknown dtype "float64"/,
    ],
  ];
  for (const [label, edit, message] of refused) {
    it(`refuses ${label}, naming the file and the weight`, async () => {
      const dir = await caseWith((json) => edit(json.weightsManifest[0].weights[0]));
      await expect(loadModel(fileSystem(dir))).rejects.toThrow(message);
      await expect(loadModel(fileSystem(dir))).rejects.toThrow(/model\.json: weightsManifest\[0\]/);
    });
  }

  it('refuses scale: null through any handler (tf.io.fromMemory), naming the weight', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 1, inputShape: [2], name: 'q' })],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(
        async (a) => ((artifacts = a), { modelArtifactsInfo: {} as tf.io.ModelArtifactsInfo }),
      ),
    );
    model.dispose();
    const specs = artifacts!.weightSpecs!.map((s) => ({
      ...s,
      quantization: { dtype: 'uint8' as const, scale: null as unknown as number, min: 0 },
    }));
    const weightData = new Uint8Array(2 + 1).buffer; // kernel 2×1 and bias 1, one byte each
    await expect(
      loadModel(tf.io.fromMemory({ ...artifacts!, weightSpecs: specs, weightData })),
    ).rejects.toThrow(
      /^loadModel: weight "q\/kernel": uint8 quantization needs a finite number 'scale', got null/,
    );
  });

  it('refuses an int32 weight where the layer holds float32, naming the weight', async () => {
    const dir = await caseWith((json) => (json.weightsManifest[0].weights[0].dtype = 'int32'));
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(
      /d\/kernel.*int32.*float32|d\/kernel.*float32.*int32/,
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
