/**
 * The command line on a generated image folder (MNIST digits as PNG and JPEG, one folder per class):
 * `train --dataset folder` writes the class names and curves.svg, `fold` keeps the metadata, `eval`
 * scores the folder's val split, and `predict` on the val files gives the same accuracy with the
 * class names in its output.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { loadImageFolderSplits } from '../../src/data/imageFolder.js';
import { writeDigitFolder } from '../data/imageFiles.js';
import { readJson, tempDir } from '../train/helpers.js';
import { type CliResult, expectExitOne, runCli } from './runCli.js';

let root: string;
let data: string;
let out: string;
let trained: CliResult;
beforeAll(async () => {
  root = await tempDir('cli-folder');
  data = path.join(root, 'digits');
  await writeDigitFolder(data, 150, { classes: [0, 1, 7], names: ['zero', 'one', 'seven'] });
  await fs.writeFile(path.join(data, 'seven', 'broken.jpg'), 'not a jpeg');
  out = path.join(root, 'run');
  trained = await runCli([
    ...['train', '--model', 'tf-mnist-sample', '--dataset', 'folder', '--data-dir', data],
    ...['--image-size', '20', '--epochs', '3', '--batch-size', '8', '--out', out],
    ...['--backend', 'wasm', '--progress', 'none'],
  ]);
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('doconv on an image folder', () => {
  it('train: prints the classes and the skipped file, writes curves.svg and the class names', async () => {
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toMatch(/^classes\s+one, seven, zero$/m);
    expect(trained.out).toMatch(
      /^data\s+folder: \d+ train \/ \d+ test images at 20×20×1, 1 file\(s\) skipped/m,
    );
    expect(trained.out).toContain(path.join(out, 'curves.svg'));
    const summary = await readJson(path.join(out, 'summary.json'));
    const broken = path.join(data, 'seven', 'broken.jpg');
    expect(summary.imageFolder.skipped).toEqual([
      {
        file: broken,
        reason: `${broken}: not a PNG or JPEG file (it starts with 6e 6f 74 20 61 20 6a 70)`,
      },
    ]);
    expect(summary.classNames).toEqual(['one', 'seven', 'zero']);
    expect((await fs.readFile(path.join(out, 'curves.svg'), 'utf8')).startsWith('<svg')).toBe(true);
  });

  it('fold, eval and predict agree, with the class names', async () => {
    const refolded = path.join(root, 'refolded');
    const folded = await runCli([
      'fold',
      path.join(out, 'checkpoint'),
      refolded,
      '--backend',
      'wasm',
    ]);
    expect(folded.code, folded.err).toBe(0);
    const meta = (await readJson(path.join(refolded, 'model.json'))).userDefinedMetadata.doconv;
    expect(meta).toMatchObject({ classNames: ['one', 'seven', 'zero'], folded: true });

    const summary = await readJson(path.join(out, 'summary.json'));
    const evaluated = await runCli([
      'eval',
      refolded,
      '--data-dir',
      data,
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(evaluated.code, evaluated.err).toBe(0);
    expect(JSON.parse(evaluated.out).accuracy).toBeCloseTo(summary.testAccuracy, 9);

    // predict on the val split's files (the split is seeded: the loader gives the same files).
    const { val } = await loadImageFolderSplits(data, { size: 20, onWarning: () => {} });
    const predicted = await runCli([
      'predict',
      refolded,
      ...val.files,
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(predicted.code, predicted.err).toBe(0);
    const report = JSON.parse(predicted.out);
    expect(report.classNames).toEqual(['one', 'seven', 'zero']);
    let correct = 0;
    for (const p of report.predictions) {
      const truth = path.basename(path.dirname(p.file));
      expect(p.top[0].className).toBe(report.classNames[p.top[0].classIndex]);
      if (p.top[0].className === truth) correct++;
    }
    expect(correct / report.predictions.length).toBeCloseTo(summary.testAccuracy, 9);

    // (the default backend: doconv-native where the addon is built)
    const text = await runCli(['predict', out, path.join(data, 'zero'), '--top-k', '2']);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(
      /zero\/\d+\.(png|jpg) {2}(zero|one|seven) \d+\.\d\d %, (zero|one|seven) \d+\.\d\d %$/m,
    );
  });

  it('refuses --dataset folder without --data-dir, a bad --image-size, --image-size on mnist, --holdout on a folder', async () => {
    await expectExitOne(
      runCli([
        'train',
        '--model',
        'tf-mnist-sample',
        '--dataset',
        'folder',
        '--out',
        path.join(root, 'x'),
      ]),
      '--dataset folder needs --data-dir <dir>',
    );
    await expectExitOne(
      runCli([
        'train',
        '--model',
        'tf-mnist-sample',
        '--image-size',
        '3x',
        '--out',
        path.join(root, 'x'),
      ]),
      "option '--image-size <size>' argument '3x' is invalid",
    );
    // The library's refusals, in flag names.
    await expectExitOne(
      runCli([
        'train',
        '--model',
        'tf-mnist-sample',
        '--image-size',
        '8',
        '--out',
        path.join(root, 'x'),
      ]),
      '--image-size resizes the images of --dataset folder; mnist has a fixed size',
    );
    await expectExitOne(
      runCli([
        ...['train', '--model', 'tf-mnist-sample', '--dataset', 'folder', '--data-dir', data],
        ...['--holdout', '5', '--out', path.join(root, 'x')],
      ]),
      '--holdout 5 is not used with --dataset folder',
    );
  });
});
