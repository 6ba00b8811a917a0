/**
 * Outputs that are never an input (src/io/outputPaths.ts): `fold ck ck` (and `convert ck ck`) replaced the checkpoint it
 * folded, `export ck ck/model.json --format onnx` turned model.json into ONNX bytes, `import
 * x.safetensors --out x.safetensors --overwrite` replaced the input with a folder, `--out /`
 * trained into the file-system root and `export` replaced an existing file silently. Each is now
 * refused naming both paths, and the input is byte for byte what it was.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/interop/safetensors.js';
import { convertSavedModel } from '../../src/interop/convertSavedModel.js';
import { exportModel } from '../../src/interop/onnx/exportModel.js';
import { fileSystem } from '../../src/io/fileSystemIO.js';
import { checkOutputPath, OutputPathError } from '../../src/io/outputPaths.js';
import { importPytorchCheckpoint } from '../../src/train/importCheckpoint.js';
import { prepareRunFolder, runFolder } from '../../src/train/runFolder.js';
import { foldSavedModel } from '../../src/train/savedModels.js';
import { loadModelBuilder, withInitialWeights } from '../../src/train/modelFile.js';
import { trainModel } from '../../src/train/trainModel.js';
import { runCli } from '../cli/runCli.js';
import { tempDir } from '../train/helpers.js';

let root = '';
let ck = '';
let weights = '';

/** Every file under `dir` with its bytes, to show an input was not touched. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir, { recursive: true })).map(String).sort()) {
    const p = path.join(dir, name);
    if ((await fs.stat(p)).isFile()) out[name] = (await fs.readFile(p)).toString('base64');
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await tempDir('output-paths');
  ck = path.join(root, 'run', 'checkpoint');
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 3 })],
  });
  await model.save(fileSystem(ck));
  model.dispose();
  weights = path.join(root, 'x.safetensors');
  const t = { w: tf.tensor1d([1, 2]) };
  await fs.writeFile(weights, writeSafetensors(t));
  tf.dispose(Object.values(t));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('checkOutputPath', () => {
  it('refuses the same path, a path inside, a path holding the input, a symlink and a hard link to it', async () => {
    const input = [{ what: 'input', path: ck }];
    await expect(checkOutputPath('output', ck, input)).rejects.toThrow(
      /^output ".*checkpoint" is the same path as input ".*checkpoint": writing it would change the input/,
    );
    await expect(checkOutputPath('output', path.join(ck, 'sub'), input)).rejects.toThrow(
      /is inside input/,
    );
    await expect(checkOutputPath('output', path.join(root, 'run'), input)).rejects.toThrow(
      /holds input/,
    );
    const link = path.join(root, 'link-to-ck');
    await fs.symlink(ck, link);
    await expect(checkOutputPath('output', link, input)).rejects.toThrow(
      /is the same path as input/,
    );
    const hard = path.join(root, 'hard.safetensors');
    await fs.link(weights, hard);
    await expect(
      checkOutputPath('out', hard, [{ what: 'checkpoint', path: weights }]),
    ).rejects.toThrow(/is the same file as checkpoint .*\(a hard link\)/);
    await expect(
      checkOutputPath('output', path.join(root, 'elsewhere'), input),
    ).resolves.toBeUndefined();
  });

  it('refuses the file-system root and the home folder', async () => {
    await expect(checkOutputPath('out', '/')).rejects.toThrow(/^out "\/" is the file-system root/);
    await expect(checkOutputPath('out', '/tmp/..')).rejects.toThrow(OutputPathError);
    await expect(checkOutputPath('out', os.homedir())).rejects.toThrow(/is your home folder/);
  });
});

describe('every writer uses it, and leaves the input as it was', () => {
  it('fold ck ck', async () => {
    const before = await snapshot(ck);
    await expect(foldSavedModel(ck, ck)).rejects.toThrow(/output .* is the same path as input/);
    await expect(foldSavedModel(path.join(ck, 'model.json'), ck)).rejects.toThrow(/holds input/);
    expect(await snapshot(ck)).toEqual(before);
  });

  it('convert ck ck', async () => {
    const before = await snapshot(ck);
    await expect(convertSavedModel(ck, ck)).rejects.toThrow(/output .* is the same path as input/);
    expect(await snapshot(ck)).toEqual(before);
  });

  it('export ck ck/model.json --format onnx, and export ck ck --format tfjs', async () => {
    const before = await snapshot(ck);
    await expect(exportModel(ck, path.join(ck, 'model.json'), 'onnx')).rejects.toThrow(
      /outPath .*model\.json" is inside inPath|is the same path as inPath/,
    );
    await expect(exportModel(ck, ck, 'tfjs')).rejects.toThrow(/is the same path as inPath/);
    expect(await snapshot(ck)).toEqual(before);
  });

  it('import x.safetensors --out x.safetensors --overwrite', async () => {
    const before = await fs.readFile(weights);
    await expect(
      importPytorchCheckpoint({
        checkpoint: weights,
        out: weights,
        overwrite: true,
        model: 'tf-mnist-sample',
      }),
    ).rejects.toThrow(/out ".*x\.safetensors" is the same path as checkpoint/);
    await expect(
      importPytorchCheckpoint({
        checkpoint: weights,
        out: root,
        overwrite: true,
        model: 'tf-mnist-sample',
      }),
    ).rejects.toThrow(/holds checkpoint/);
    expect(await fs.readFile(weights)).toEqual(before);
  });

  it('a run folder is never / or the home folder (library and --out)', async () => {
    await expect(prepareRunFolder(runFolder('/'), {}, () => {})).rejects.toThrow(
      /file-system root/,
    );
    await expect(prepareRunFolder(runFolder(os.homedir()), {}, () => {})).rejects.toThrow(
      /home folder/,
    );
    const r = await runCli(['train', '--model', 'tf-mnist-sample', '--out', '/', '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--out "\/" is the file-system root/);
    const compare = await runCli(['compare', '--model', 'tf-mnist-sample', '--out', '/']);
    expect(compare.code).toBe(1);
    expect(compare.err).toMatch(/out "\/" is the file-system root/);
    const inData = await runCli([
      'train',
      '--model',
      'tf-mnist-sample',
      '--out',
      path.join(ck, 'run'),
      '--data-dir',
      ck,
    ]);
    expect(inData.err).toMatch(/--out ".*" is inside --data-dir/);
  });

  it('trainModel itself refuses a run folder in or over its data, model file or --init weights', async () => {
    // The CLI checked this; the library wrote the run into the data folder (or the model's).
    const data = path.join(root, 'images');
    await fs.mkdir(path.join(data, 'cat'), { recursive: true });
    const before = await snapshot(ck);
    const refused: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        'inside dataDir',
        () =>
          trainModel({
            model: 'tf-mnist-sample',
            dataset: 'folder',
            dataDir: data,
            out: path.join(data, 'run'),
          }),
        /^out ".*images\/run" is inside dataDir ".*images"/,
      ],
      [
        'holding dataDir',
        () => trainModel({ model: 'tf-mnist-sample', dataset: 'folder', dataDir: data, out: root }),
        /^out ".*" holds dataDir ".*images"/,
      ],
      [
        'the model file',
        async () => trainModel({ model: await loadModelBuilder(ck), out: ck, resume: true }),
        /^out ".*checkpoint" is the same path as model ".*checkpoint"/,
      ],
      [
        'beside the --init weights',
        async () =>
          trainModel({
            model: await withInitialWeights('tf-mnist-sample', ck),
            out: path.join(ck, 'run'),
          }),
        /^out ".*checkpoint\/run" is inside init ".*checkpoint"/,
      ],
    ];
    for (const [label, run, message] of refused) {
      await expect(run(), label).rejects.toThrow(message);
    }
    expect(await fs.readdir(data)).toEqual(['cat']);
    expect(await snapshot(ck)).toEqual(before);
  });

  it('export refuses an existing file or model without --overwrite, and replaces it with', async () => {
    const onnx = path.join(root, 'mine.onnx');
    await fs.writeFile(onnx, 'keep me');
    const r = await runCli(['export', ck, onnx, '--format', 'onnx']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /out ".*mine\.onnx" already exists; choose another <out> or pass --overwrite/,
    );
    expect(await fs.readFile(onnx, 'utf8')).toBe('keep me');
    const tfjs = path.join(root, 'deploy');
    expect((await runCli(['export', ck, tfjs, '--format', 'tfjs'])).code).toBe(0);
    const again = await runCli(['export', ck, tfjs, '--format', 'tfjs']);
    expect(again.err).toMatch(/already holds a model \(model\.json\)/);
    expect((await runCli(['export', ck, onnx, '--format', 'onnx', '--overwrite'])).code).toBe(0);
    expect((await fs.readFile(onnx)).length).toBeGreaterThan(100);
  });
});
