import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FileSystemHandler,
  fileSystem,
  registerFileSystemRouter,
  MODEL_JSON_NAME,
  replaceFilesAtomically,
  WEIGHTS_BIN_NAME,
} from '../../src/io/node.js';
import { listTree, makeTempDir } from './helpers.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await makeTempDir();
  dirs.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function sequentialModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  return m;
}

function functionalModel(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 3] });
  const a = tf.layers
    .conv2d({ filters: 3, kernelSize: 3, padding: 'same' })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers.batchNormalization().apply(a) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([input, b]) as tf.SymbolicTensor;
  const out = tf.layers.globalAveragePooling2d({}).apply(sum) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Deterministic input so predictions can be compared across processes. */
function fixedInput(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)),
    shape,
  );
}

function predict(model: tf.LayersModel, shape: number[]): number[] {
  return tf.tidy(() => Array.from((model.predict(fixedInput(shape)) as tf.Tensor).dataSync()));
}

describe('fileSystem IOHandler', () => {
  const cases = [
    { name: 'sequential', build: sequentialModel, shape: [2, 6, 6, 2] },
    { name: 'functional with BN and residual add', build: functionalModel, shape: [2, 5, 5, 3] },
  ];
  for (const c of cases) {
    it(`round-trips a ${c.name} model through file:// with identical predictions`, async () => {
      const dir = path.join(await tempDir(), 'model');
      const model = c.build();
      await model.save(`file://${dir}`);
      expect(await listTree(dir)).toEqual([MODEL_JSON_NAME, WEIGHTS_BIN_NAME]);

      const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON_NAME), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers/);
      expect(json.convertedBy).toBeNull();
      expect(json.weightsManifest).toHaveLength(1);
      expect(json.weightsManifest[0].paths).toEqual([WEIGHTS_BIN_NAME]);

      const loaded = await tf.loadLayersModel(`file://${dir}/${MODEL_JSON_NAME}`);
      expect(predict(loaded, c.shape)).toEqual(predict(model, c.shape));
      model.dispose();
      loaded.dispose();
    });
  }

  it('keeps optimizer state with includeOptimizer (what trainer checkpoints need)', async () => {
    const dir = await tempDir();
    const model = sequentialModel();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const x = fixedInput([4, 6, 6, 2]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
    await model.save(`file://${dir}`, { includeOptimizer: true });
    const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON_NAME), 'utf8'));
    const groups = new Set(json.weightsManifest[0].weights.map((w: { group?: string }) => w.group));
    expect(groups.has('optimizer')).toBe(true);
    const loaded = await tf.loadLayersModel(`file://${dir}/${MODEL_JSON_NAME}`);
    expect(loaded.optimizer).toBeDefined();
    const before = await model.optimizer.getWeights();
    const after = await loaded.optimizer.getWeights();
    expect(after.map((w) => w.name)).toEqual(before.map((w) => w.name));
    after.forEach((w, i) =>
      expect(Array.from(w.tensor.dataSync())).toEqual(Array.from(before[i].tensor.dataSync())),
    );
    tf.dispose([x, y]);
    model.dispose();
    loaded.dispose();
  });

  it('registers the file:// router once, however often it is asked', () => {
    expect(registerFileSystemRouter()).toBe(false);
    expect(tf.io.getSaveHandlers('file://somewhere')).toHaveLength(1);
    expect(tf.io.getLoadHandlers('file://somewhere/model.json')).toHaveLength(1);
    expect(tf.io.getSaveHandlers('http://example.com/model')).not.toContainEqual(
      expect.any(FileSystemHandler),
    );
  });

  it('saves and loads through fileSystem(path) directly, and loads from the directory path too', async () => {
    const dir = await tempDir();
    const model = sequentialModel();
    await model.save(fileSystem(dir));
    const a = await tf.loadLayersModel(fileSystem(path.join(dir, MODEL_JSON_NAME)));
    const b = await tf.loadLayersModel(fileSystem(dir));
    expect(predict(a, [1, 6, 6, 2])).toEqual(predict(model, [1, 6, 6, 2]));
    expect(predict(b, [1, 6, 6, 2])).toEqual(predict(model, [1, 6, 6, 2]));
    [model, a, b].forEach((m) => m.dispose());
  });

  it('replaces an existing model in the directory', async () => {
    const dir = await tempDir();
    const first = sequentialModel();
    const second = functionalModel();
    await first.save(fileSystem(dir));
    await second.save(fileSystem(dir));
    const loaded = await tf.loadLayersModel(fileSystem(dir));
    expect(predict(loaded, [1, 5, 5, 3])).toEqual(predict(second, [1, 5, 5, 3]));
    expect(await listTree(dir)).toEqual([MODEL_JSON_NAME, WEIGHTS_BIN_NAME]);
    [first, second, loaded].forEach((m) => m.dispose());
  });

  it('loads weights from several groups and shard files listed in the manifest', async () => {
    const dir = await tempDir();
    const model = functionalModel();
    await model.save(fileSystem(dir));
    const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON_NAME), 'utf8'));
    const bin = await fs.readFile(path.join(dir, WEIGHTS_BIN_NAME));
    await fs.rm(path.join(dir, WEIGHTS_BIN_NAME));
    // Group 1: the first weight (the conv kernel), cut mid-value into two shards, since TF.js shard
    // boundaries fall at arbitrary byte offsets. Group 2: every other weight in one shard.
    const [first, ...rest] = json.weightsManifest[0].weights as Array<{ shape: number[] }>;
    const firstBytes = first.shape.reduce((a, b) => a * b, 1) * 4;
    await fs.writeFile(path.join(dir, 'group1-shard1of2.bin'), bin.subarray(0, 7));
    await fs.writeFile(path.join(dir, 'group1-shard2of2.bin'), bin.subarray(7, firstBytes));
    await fs.writeFile(path.join(dir, 'group2-shard1of1.bin'), bin.subarray(firstBytes));
    json.weightsManifest = [
      { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [first] },
      { paths: ['group2-shard1of1.bin'], weights: rest },
    ];
    await fs.writeFile(path.join(dir, MODEL_JSON_NAME), JSON.stringify(json));
    const loaded = await tf.loadLayersModel(`file://${path.join(dir, MODEL_JSON_NAME)}`);
    expect(predict(loaded, [2, 5, 5, 3])).toEqual(predict(model, [2, 5, 5, 3]));
    model.dispose();
    loaded.dispose();
  });

  it('fails naming the path when model.json is missing', async () => {
    const missing = path.join(await tempDir(), 'nope', MODEL_JSON_NAME);
    await expect(tf.loadLayersModel(`file://${missing}`)).rejects.toThrow(
      `cannot read model file ${missing}: no such file`,
    );
  });

  it('fails naming the path when model.json is not valid JSON', async () => {
    const dir = await tempDir();
    const file = path.join(dir, MODEL_JSON_NAME);
    await fs.writeFile(file, '{"modelTopology": ');
    await expect(tf.loadLayersModel(fileSystem(file))).rejects.toThrow(
      `model file ${file} is not valid JSON`,
    );
  });

  it('fails naming the file and both sizes when weights.bin is truncated', async () => {
    const dir = await tempDir();
    const model = sequentialModel();
    await model.save(fileSystem(dir));
    const bin = path.join(dir, WEIGHTS_BIN_NAME);
    const full = (await fs.stat(bin)).size;
    await fs.truncate(bin, full - 10);
    await expect(tf.loadLayersModel(fileSystem(dir))).rejects.toThrow(
      new RegExp(
        `weights file ${bin} holds ${full - 10} bytes but .*needing ${full} bytes \\(truncated`,
      ),
    );
    model.dispose();
  });

  it('fails naming the weights file when it is missing', async () => {
    const dir = await tempDir();
    const model = sequentialModel();
    await model.save(fileSystem(dir));
    const bin = path.join(dir, WEIGHTS_BIN_NAME);
    await fs.rm(bin);
    await expect(tf.loadLayersModel(fileSystem(dir))).rejects.toThrow(
      `cannot read weights file ${bin}`,
    );
    model.dispose();
  });

  it('the saved folder loads in plain tfjs (child process, tf.io.fromMemory over fs reads only)', async () => {
    const dir = await tempDir();
    const model = functionalModel();
    await model.save(`file://${dir}`);
    // Runs from the project root so `@tensorflow/tfjs` resolves; never imports doconv.
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import * as fs from 'node:fs';
      import * as path from 'node:path';
      const dir = process.argv[1];
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const group = json.weightsManifest[0];
      const buf = fs.readFileSync(path.join(dir, group.paths[0]));
      const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: group.weights, weightData,
        format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
      }));
      const shape = [2, 5, 5, 3];
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), shape);
      console.log(JSON.stringify(Array.from(model.predict(x).dataSync())));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, dir], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = out.trim().split('\n');
    const theirs = JSON.parse(lines[lines.length - 1]) as number[];
    const ours = predict(model, [2, 5, 5, 3]);
    expect(theirs).toHaveLength(ours.length);
    theirs.forEach((v, i) => expect(v).toBeCloseTo(ours[i], 6));
    model.dispose();
  });
});

describe('atomic save', () => {
  it('leaves the old model intact and no temp files when the commit fails part-way', async () => {
    const dir = await tempDir();
    const old = sequentialModel();
    await old.save(fileSystem(dir));
    const oldBin = await fs.readFile(path.join(dir, WEIGHTS_BIN_NAME));
    // model.json replaced by a non-empty directory: weights.bin gets renamed into place, then the
    // model.json rename fails, so weights.bin must be rolled back.
    await fs.rm(path.join(dir, MODEL_JSON_NAME));
    await fs.mkdir(path.join(dir, MODEL_JSON_NAME, 'blocker'), { recursive: true });
    const other = functionalModel();
    await expect(other.save(fileSystem(dir))).rejects.toThrow(
      `fileSystem(${dir}).save failed, nothing was changed`,
    );
    expect(await fs.readFile(path.join(dir, WEIGHTS_BIN_NAME))).toEqual(oldBin);
    expect(await listTree(dir)).toEqual([
      MODEL_JSON_NAME,
      `${MODEL_JSON_NAME}/blocker`,
      WEIGHTS_BIN_NAME,
    ]);
    old.dispose();
    other.dispose();
  });

  it('writes nothing when the weight data does not match the specs', async () => {
    const root = await tempDir();
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: {},
      weightSpecs: [{ name: 'w', shape: [4], dtype: 'float32' }],
      weightData: new ArrayBuffer(8),
    };
    await expect(fileSystem(path.join(root, 'a', 'b')).save(artifacts)).rejects.toThrow(
      'weightData has 8 bytes but the 1 weight specs need 16',
    );
    expect(await listTree(root)).toEqual([]);
  });

  it('removes the folders it created and its temp files when writing fails mid-way', async () => {
    const root = await tempDir();
    const target = path.join(root, 'a', 'b');
    // A chunk that is not bytes makes the second write throw after the folders and a temp file exist.
    const bad = [new Uint8Array(3), 42 as unknown as Uint8Array];
    await expect(
      replaceFilesAtomically(target, [
        { name: 'first.bin', data: new Uint8Array(5) },
        { name: 'second.bin', data: bad },
      ]),
    ).rejects.toThrow();
    expect(await listTree(root)).toEqual([]);
  });

  it('keeps files already in an existing folder when writing fails mid-way', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'first.bin'), 'old');
    const bad = [42 as unknown as Uint8Array];
    await expect(
      replaceFilesAtomically(dir, [
        { name: 'first.bin', data: 'new' },
        { name: 'second.bin', data: bad },
      ]),
    ).rejects.toThrow();
    expect(await listTree(dir)).toEqual(['first.bin']);
    expect(await fs.readFile(path.join(dir, 'first.bin'), 'utf8')).toBe('old');
  });

  it('fails naming the directory when it cannot be created', async () => {
    const root = await tempDir();
    await fs.writeFile(path.join(root, 'file'), 'x');
    const model = sequentialModel();
    const target = path.join(root, 'file', 'model');
    await expect(model.save(fileSystem(target))).rejects.toThrow(
      `cannot create directory ${target}`,
    );
    expect(await listTree(root)).toEqual(['file']);
    model.dispose();
  });

  it('rejects file names with a directory part', async () => {
    const dir = await tempDir();
    await expect(replaceFilesAtomically(dir, [{ name: '../x', data: '' }])).rejects.toThrow(
      'file name must be a plain base name, got "../x"',
    );
  });
});
