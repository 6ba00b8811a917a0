/**
 * `doconv import`: a PyTorch-layout checkpoint (written here from a TF.js model, keys named as
 * tools/train_ddp.py names them) becomes a model folder computing the same function; bad input fails
 * naming the file, key or value, and leaves nothing behind.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  doConv2d,
  fileSystem,
  loadSavedModel,
  overparameterize,
  writeSafetensors,
} from '../../src/node.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { toPytorchStateDict } from '../helpers/toPytorchStateDict.js';
import { runCli } from './runCli.js';

const dir = mkdtempSync(join(tmpdir(), 'doconv-import-'));
const ckpt = join(dir, 'checkpoint.safetensors');
const official = join(dir, 'official.safetensors');
let source: tf.LayersModel;
const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 5);

function save(file: string, state: Record<string, tf.Tensor>): void {
  writeFileSync(file, writeSafetensors(state));
  tf.dispose(Object.values(state));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  source = buildModel('pt-mnist-sample', {
    conv: 'doconv',
    inputShape: [28, 28, 1],
    numClasses: 10,
    seed: 3,
  });
  randomizeModel(source, 11);
  save(ckpt, toPytorchStateDict(source));
  const info = {
    format: 'doconv-pytorch-checkpoint/1',
    model: 'pt-mnist-sample',
    conv: 'doconv',
    composition: 'definition',
    dataset: 'mnist',
    normalize: 'none',
    inputShape: [28, 28, 1],
    numClasses: 10,
    testAccuracy: 0.5,
    testImages: 40,
  };
  writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify(info));
  save(official, toPytorchStateDict(source, ['0', '2', '4']));
});
afterAll(() => {
  source.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function expectSameFunction(folder: string): Promise<void> {
  const imported = await loadSavedModel(folder);
  const want = (source.predict(x) as tf.Tensor).dataSync();
  expect(Array.from((imported.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(want));
  imported.dispose();
}

describe('doconv import', () => {
  it('imports a layer-named checkpoint, model and conv from its JSON, and evaluates it', async () => {
    const out = join(dir, 'ok');
    const r = await runCli([
      'import',
      ckpt,
      '--out',
      out,
      '--dataset',
      'mnist',
      '--backend',
      'cpu',
    ]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/model +pt-mnist-sample \(doconv\), 6603 parameters/);
    expect(r.out).toMatch(/keys +layer-names layout, 3 layers, definition DO-Conv composition/);
    expect(r.out).toMatch(/PyTorch +50\.00 % on 40 mnist test images/);
    expect(r.out).toMatch(/TF\.js +\d+\.\d\d % on 40 mnist test images/); // the JSON's slice
    await expectSameFunction(out);
    const model = await loadSavedModel(out);
    expect(model.getUserDefinedMetadata()).toMatchObject({
      doconv: { model: 'pt-mnist-sample', conv: 'doconv', dataset: 'mnist', folded: false },
    });
    model.dispose();
    expect(existsSync(join(out, 'import.json'))).toBe(true);
  });

  it("imports the official sample's nn.Sequential keys (0.W, 2.W, 4.W) into pt-mnist-sample", async () => {
    const out = join(dir, 'official');
    const r = await runCli([
      'import',
      official,
      '--model',
      'pt-mnist-sample',
      '--out',
      out,
      '--backend',
      'cpu',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sequential layout, 3 layers, pytorch-official DO-Conv composition/);
    await expectSameFunction(out);
  });

  const failures: Array<[string, () => string[], RegExp]> = [
    [
      'a missing checkpoint',
      () => [join(dir, 'nope.safetensors'), '--model', 'pt-mnist-sample'],
      /cannot read checkpoint .*nope\.safetensors: no such file/,
    ],
    [
      '--model contradicting the JSON',
      () => [ckpt, '--model', 'tf-mnist-sample'],
      /--model "tf-mnist-sample" contradicts .*checkpoint\.json, which says model "pt-mnist-sample"/,
    ],
    [
      'no model named anywhere',
      () => [official],
      /official\.safetensors: which zoo model is it\? Give --model/,
    ],
    [
      'an unknown --model',
      () => [ckpt, '--model', 'resnet-7'],
      /option '--model <name>' argument 'resnet-7' is invalid\. Allowed choices are tf-mnist-sample/,
    ],
    [
      'keys of another net',
      () => [official, '--model', 'tf-mnist-sample'],
      /official\.safetensors as tf-mnist-sample \(doconv, sequential layout\): loadPytorchStateDict: nothing was loaded, 4 problem\(s\):\n {2}missing key '4\.weight' \(for layer 'dense'\)\n {2}unexpected key '4\.D' \[16,9,9\]/,
    ],
    [
      'a JSON naming an unknown data set',
      () => [ckpt, '--info', join(dir, 'imagenet.json')],
      /imagenet\.json: dataset "imagenet" is not one of mnist, fashion-mnist, cifar10/,
    ],
    [
      'a JSON that is not JSON',
      () => [ckpt, '--info', join(dir, 'bad.json')],
      /bad\.json is not valid JSON/,
    ],
  ];
  for (const [what, args, message] of failures) {
    it(`fails on ${what}, naming it, and writes nothing`, async () => {
      writeFileSync(join(dir, 'bad.json'), '{"model": ');
      writeFileSync(
        join(dir, 'imagenet.json'),
        '{"model": "pt-mnist-sample", "dataset": "imagenet"}',
      );
      const out = join(dir, `fail-${what.replace(/\W+/g, '-')}`);
      const r = await runCli(['import', ...args(), '--out', out, '--backend', 'cpu']);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('imports a detection net (centernet-mini) as a task model: mnist-scenes metadata, same outputs', async () => {
    const net = buildModel('centernet-mini', {
      conv: 'doconv',
      inputShape: [64, 64, 1],
      numClasses: 10,
      seed: 4,
    });
    randomizeModel(net, 12);
    const folder = join(dir, 'centernet');
    const file = join(folder, 'checkpoint.safetensors');
    mkdirSync(folder);
    save(file, toPytorchStateDict(net));
    const info = { model: 'centernet-mini', conv: 'doconv', composition: 'definition' };
    writeFileSync(join(folder, 'checkpoint.json'), JSON.stringify(info));
    const out = join(dir, 'centernet-imported');
    const r = await runCli(['import', file, '--out', out, '--backend', 'cpu']);
    expect(r.err).not.toMatch(/error/);
    expect(r.out).toMatch(/model +centernet-mini \(doconv, detection\)/);
    const imported = await loadSavedModel(out);
    expect(imported.getUserDefinedMetadata()).toEqual({
      doconv: {
        model: 'centernet-mini',
        task: 'detection',
        conv: 'doconv',
        dataset: 'mnist-scenes',
        sceneSeed: 2026,
        testLimit: 1000,
        topK: 20,
        normalize: 'none',
        outputKind: 'logits',
        folded: false,
      },
    });
    const scenes = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 6);
    const want = net.predict(scenes) as tf.Tensor;
    const got = imported.predict(scenes) as tf.Tensor;
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([scenes, want, got]);
    imported.dispose();
    net.dispose();

    // A classification data set does not apply to it, and nothing is written.
    const refused = join(dir, 'centernet-refused');
    const bad = await runCli([
      'import',
      file,
      '--out',
      refused,
      '--dataset',
      'mnist',
      '--backend',
      'cpu',
    ]);
    expect(bad.err).toMatch(
      /dataset "mnist": centernet-mini is a detection net, scored on mnist-scenes, not on a classification data set/,
    );
    expect(existsSync(refused)).toBe(false);
  });

  /** A model of the user's own: a plain conv, a DO-Conv, a dense head, with its own layer names. */
  function ownModel(): tf.LayersModel {
    return tf.sequential({
      layers: [
        tf.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          strides: 2,
          activation: 'relu',
          inputShape: [28, 28, 1],
          name: 'stem',
        }),
        doConv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'mix' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 10, name: 'head' }),
      ],
    });
  }

  it('imports into a model of your own (--model path/model.json), as saved or converted by --conv', async () => {
    const mine = join(dir, 'mine');
    const twin = ownModel();
    await twin.save(fileSystem(mine)); // the user's model.json (its weights are not the checkpoint's)
    randomizeModel(twin, 21);
    const file = join(dir, 'mine.safetensors');
    save(file, toPytorchStateDict(twin));
    const out = join(dir, 'mine-imported');
    const r = await runCli([
      'import',
      file,
      '--model',
      join(mine, 'model.json'),
      '--composition',
      'definition',
      '--out',
      out,
      '--backend',
      'cpu',
    ]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `${join(mine, 'model.json')} (doconv), ${twin.countParams()} parameters`,
    );
    expect(r.out).toMatch(/layer-names layout, 3 layers, definition DO-Conv composition/);
    const imported = await loadSavedModel(out);
    expect(imported.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D',
      'DOConv2D',
      'Flatten',
      'Dense',
    ]);
    const want = twin.predict(x) as tf.Tensor;
    const got = imported.predict(x) as tf.Tensor;
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    expect(imported.getUserDefinedMetadata()).toMatchObject({
      doconv: { model: join(mine, 'model.json'), conv: 'doconv', folded: false },
    });
    tf.dispose([want, got]);
    imported.dispose();

    // --conv doconv: the plain model.json over-parameterized first, then a DO checkpoint loaded.
    const plain = join(dir, 'mine-plain');
    const base = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [28, 28, 1], name: 'stem' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 10, name: 'head' }),
      ],
    });
    await base.save(fileSystem(plain));
    const over = overparameterize(base);
    randomizeModel(over, 22);
    const doFile = join(dir, 'mine-do.safetensors');
    save(doFile, toPytorchStateDict(over));
    const converted = join(dir, 'mine-converted');
    const c = await runCli([
      'import',
      doFile,
      '--model',
      plain,
      '--conv',
      'doconv',
      '--out',
      converted,
      '--backend',
      'cpu',
    ]);
    expect(c.err).not.toMatch(/error/);
    const back = await loadSavedModel(converted);
    expect(back.layers.map((l) => l.getClassName())).toEqual(['DOConv2D', 'Flatten', 'Dense']);
    const w = over.predict(x) as tf.Tensor;
    const g = back.predict(x) as tf.Tensor;
    expect(Array.from(g.dataSync())).toEqual(Array.from(w.dataSync()));
    tf.dispose([w, g]);
    [back, over, base, twin].forEach((m) => m.dispose());

    // The same DO checkpoint into the plain model as saved: the keys do not fit, all named.
    const refused = join(dir, 'mine-refused');
    const bad = await runCli([
      'import',
      doFile,
      '--model',
      plain,
      '--out',
      refused,
      '--backend',
      'cpu',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(
      /mine-do\.safetensors as .*mine-plain \(conv, layer-names layout\).*missing key 'stem\.weight'/s,
    );
    expect(existsSync(refused)).toBe(false);
    // With --dataset: evaluated on it when the model takes its images, refused naming both shapes when not.
    const evaluated = await runCli([
      'import',
      file,
      '--model',
      join(mine, 'model.json'),
      '--dataset',
      'mnist',
      '--test-limit',
      '16',
      '--out',
      join(dir, 'mine-evaluated'),
      '--backend',
      'cpu',
    ]);
    expect(evaluated.err).not.toMatch(/error/);
    expect(evaluated.out).toMatch(/TF\.js +\d+\.\d\d % on 16 mnist test images/);
    const small = join(dir, 'mine-small');
    const smallModel = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [14, 14, 1], name: 'stem' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 10, name: 'head' }),
      ],
    });
    await smallModel.save(fileSystem(small));
    const smallState = toPytorchStateDict(smallModel);
    smallModel.dispose();
    save(join(dir, 'small.safetensors'), smallState);
    const wrongShape = await runCli([
      'import',
      join(dir, 'small.safetensors'),
      '--model',
      small,
      '--dataset',
      'mnist',
      '--out',
      join(dir, 'mine-wrong-shape'),
      '--backend',
      'cpu',
    ]);
    expect(wrongShape.err).toMatch(
      /model .*mine-small takes inputs of shape \[14,14,1\], mnist's test images are \[28,28,1\]/,
    );
    expect(existsSync(join(dir, 'mine-wrong-shape'))).toBe(false);
    // The output may not be the model's own folder.
    const onto = await runCli([
      'import',
      file,
      '--model',
      plain,
      '--out',
      plain,
      '--overwrite',
      '--backend',
      'cpu',
    ]);
    expect(onto.code).not.toBe(0);
    expect(existsSync(join(plain, 'model.json'))).toBe(true);
  });

  it('refuses an existing --out folder, naming it', async () => {
    const out = join(dir, 'ok'); // written by the first test
    const r = await runCli(['import', ckpt, '--out', out, '--backend', 'cpu']);
    expect(r.err).toContain(`${out} already exists; choose a new --out folder`);
  });
});
