/**
 * Hostile command lines, table-driven, for every command: malformed flags and values (NaN,
 * Infinity, negative, huge, empty, unknown choices, missing required ones, paths that are files,
 * folders or missing). Each exits 1 with the exact error naming the flag (or argument) and the bad
 * value — never a crash, a stack trace, a hang or a partial write. In-process (runCli): fast.
 * The old spellings (eval --limit, --batch-size) still work and say what replaced them.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystem } from '../../src/io/fileSystemIO.js';
import { tempDir } from '../train/helpers.js';
import { runCli } from './../cli/runCli.js';

let root = '';
/** Paths the cases use: FILE is a file, DIR an empty folder, MODEL a saved model's folder. */
const at = (name: 'FILE' | 'DIR' | 'MODEL' | 'NEW') =>
  path.join(root, { FILE: 'a-file', DIR: 'a-dir', MODEL: 'model', NEW: 'not-yet' }[name]);

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await tempDir('cli-args');
  await fs.writeFile(at('FILE'), 'mine');
  await fs.mkdir(at('DIR'));
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  await model.save(fileSystem(at('MODEL')));
  model.dispose();
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** `$NAME` in an argument becomes that path. */
const expand = (args: string[]) =>
  args.map((a) => a.replace(/\$(FILE|DIR|MODEL|NEW)/g, (_, n: 'FILE') => at(n)));

const bad = (flag: string, value: string, why: string) =>
  `option '${flag}' argument '${value}' is invalid. ${JSON.stringify(value)} ${why}`;

const T = ['train', '--model', 'tf-mnist-sample', '--out', '$NEW'];
const C = ['compare', '--model', 'tf-mnist-sample', '--out', '$NEW'];
const E = ['eval', '$MODEL', '--backend', 'cpu'];
const F = ['fold', '$MODEL', '$NEW', '--backend', 'cpu'];
const X = ['export', '$MODEL', '$NEW', '--format', 'tfjs'];
const B = ['bench', '--quick'];
const LR = 'is not a number in (0, 10].';
const POS = 'is not a positive integer.';
const COUNT_CAP = 'is more than 2147483647, the largest count doconv takes.';
const RUNS = 'is not an integer in [1, 10000].';

const cases: Array<[string[], string]> = [
  // train: numbers
  [[...T, '--lr', 'NaN'], bad('--lr <rate>', 'NaN', LR)],
  [[...T, '--lr', 'Infinity'], bad('--lr <rate>', 'Infinity', LR)],
  [[...T, '--lr', '1e30'], bad('--lr <rate>', '1e30', LR)],
  [[...T, '--lr', '0'], bad('--lr <rate>', '0', LR)],
  [[...T, '--lr', '-0.1'], bad('--lr <rate>', '-0.1', LR)],
  [[...T, '--lr', ''], bad('--lr <rate>', '', LR)],
  [[...T, '--lr', '0.1x'], bad('--lr <rate>', '0.1x', LR)],
  [[...T, '--epochs', '0'], bad('--epochs <n>', '0', POS)],
  [[...T, '--epochs', '-1'], bad('--epochs <n>', '-1', POS)],
  [[...T, '--epochs', '1.5'], bad('--epochs <n>', '1.5', POS)],
  [[...T, '--epochs', 'NaN'], bad('--epochs <n>', 'NaN', POS)],
  [[...T, '--epochs', '1e3'], bad('--epochs <n>', '1e3', POS)],
  [[...T, '--batch-size', '0'], bad('--batch-size <n>', '0', POS)],
  [
    [...T, '--batch-size', '99999999999999999999'],
    bad('--batch-size <n>', '99999999999999999999', COUNT_CAP),
  ],
  // Digits within a safe integer but past any count (#23 class 10): refused by the parser.
  [[...T, '--epochs', '100000000000000'], bad('--epochs <n>', '100000000000000', COUNT_CAP)],
  [[...B, '--steps', '1000000000000'], bad('--steps <n>', '1000000000000', COUNT_CAP)],
  [[...T, '--eval-batch-size', 'Infinity'], bad('--eval-batch-size <n>', 'Infinity', POS)],
  [[...T, '--train-limit', '0'], bad('--train-limit <n>', '0', POS)],
  [[...T, '--test-limit', '-5'], bad('--test-limit <n>', '-5', POS)],
  [[...T, '--holdout', ''], bad('--holdout <n>', '', POS)],
  [[...T, '--workers', '0'], bad('--workers <n>', '0', POS)],
  // integer flags take digits only (docs/cli.md): no sign '+', no surrounding spaces
  [[...T, '--epochs', '+5'], bad('--epochs <n>', '+5', POS)],
  [[...T, '--epochs', ' 5'], bad('--epochs <n>', ' 5', POS)],
  [[...T, '--workers', '2 '], bad('--workers <n>', '2 ', POS)],
  [[...T, '--seed', '+1'], bad('--seed <n>', '+1', 'is not an integer.')],
  [[...T, '--seed', '1.5'], bad('--seed <n>', '1.5', 'is not an integer.')],
  [[...T, '--seed', 'NaN'], bad('--seed <n>', 'NaN', 'is not an integer.')],
  [
    [...T, '--weight-decay', '-1e-4'],
    bad('--weight-decay <lambda>', '-1e-4', 'is not a number ≥ 0.'),
  ],
  [[...T, '--weight-decay', 'NaN'], bad('--weight-decay <lambda>', 'NaN', 'is not a number ≥ 0.')],
  [[...T, '--momentum', '1'], bad('--momentum <m>', '1', 'is not a number in [0, 1).')],
  [[...T, '--beta2', '-Infinity'], bad('--beta2 <b>', '-Infinity', 'is not a number in [0, 1).')],
  [[...T, '--epsilon', '0'], bad('--epsilon <e>', '0', 'is not a number in (0, 1].')],
  [
    [...T, '--schedule', 'step', '--step-every', '3', '--gamma', '2'],
    bad('--gamma <g>', '2', 'is not a number in (0, 1].'),
  ],
  [
    [...T, '--schedule', 'step', '--milestones', '3,,5'],
    bad('--milestones <epochs>', '3,,5', 'is not a comma-separated list of positive numbers.'),
  ],
  [
    [...T, '--schedule', 'step', '--milestones', '3,NaN'],
    bad('--milestones <epochs>', '3,NaN', 'is not a comma-separated list of positive numbers.'),
  ],
  [
    [...T, '--schedule', 'cosine', '--lr', '0.1', '--min-lr', '0.5'],
    'doconv: error: --min-lr 0.5 is above --lr 0.1: a cosine schedule decays from --lr down to --min-lr',
  ],
  [[...T, '--min-lr', '0.001'], '--min-lr needs --schedule cosine (got --schedule (none))'],
  // train: choices, required, combinations
  [
    [...T, '--optimizer', 'rmsprop'],
    "option '--optimizer <kind>' argument 'rmsprop' is invalid. Allowed choices are sgd, adam.",
  ],
  [
    [...T, '--dataset', 'svhn'],
    "option '--dataset <name>' argument 'svhn' is invalid. Allowed choices are mnist, fashion-mnist, cifar10, folder, mnist-scenes.",
  ],
  [
    [...T, '--schedule', 'linear'],
    "option '--schedule <kind>' argument 'linear' is invalid. Allowed choices are",
  ],
  [
    [...T, '--backend', 'gpu'],
    "option '--backend <name>' argument 'gpu' is invalid. Allowed choices are",
  ],
  [
    [...T, '--progress', 'fancy'],
    "option '--progress <mode>' argument 'fancy' is invalid. Allowed choices are",
  ],
  [[...T, '--model', ''], "option '--model <name>' argument '' is invalid. Allowed choices are"],
  [['train', '--model', 'tf-mnist-sample'], "error: required option '--out <dir>' not specified"],
  [
    ['train', '--out', '$NEW'],
    'give --preset <name> (tf-mnist-sample, pt-mnist-sample, gluon-lenet) or --model <name>',
  ],
  [[...T, '--epochs'], "error: option '--epochs <n>' argument missing"],
  [
    [...T, '--lr', '0.1', 'extra'],
    "error: too many arguments for 'train'. Expected 0 arguments but got 1.",
  ],
  // train: paths
  [
    ['train', '--model', 'tf-mnist-sample', '--out', ''],
    bad('--out <dir>', '', 'is not a path (it is empty).'),
  ],
  [
    ['train', '--model', 'tf-mnist-sample', '--out', '$FILE'],
    `doconv: error: out ${JSON.stringify('$FILE')} is a file, not a folder`,
  ],
  [
    ['train', '--model', 'tf-mnist-sample', '--out', '$FILE/run'],
    `doconv: error: cannot make out folder ${JSON.stringify('$FILE/run')}: a part of the path is a file`,
  ],
  [
    [...T, '--dataset', 'cifar10', '--data-dir', '$FILE'],
    `option '--data-dir <dir>' argument '$FILE' is invalid. ${JSON.stringify('$FILE')} is not a folder.`,
  ],
  [
    [...T, '--dataset', 'cifar10', '--data-dir', '$NEW'],
    `option '--data-dir <dir>' argument '$NEW' is invalid. ${JSON.stringify('$NEW')}: no such folder.`,
  ],
  [[...T, '--data-dir', ''], bad('--data-dir <dir>', '', 'is not a folder (the path is empty).')],
  [
    [...T, '--dataset', 'cifar10', '--data-dir', '$DIR', '--epochs', '1'],
    'doconv: error: CIFAR-10: ',
  ],
  // compare
  [[...C, '--runs', '0'], bad('--runs <n>', '0', RUNS)],
  [[...C, '--runs', 'Infinity'], bad('--runs <n>', 'Infinity', RUNS)],
  // 2^31 runs listed their seeds until memory ran out.
  [[...C, '--runs', '2147483647'], bad('--runs <n>', '2147483647', RUNS)],
  [
    [...C, '--seeds', '1,x'],
    bad('--seeds <list>', '1,x', 'is not a comma-separated list of integers.'),
  ],
  [[...C, '--seeds', ''], bad('--seeds <list>', '', 'is not a comma-separated list of integers.')],
  [
    [...C, '--seeds', '1,1'],
    'doconv: error: --seeds must not repeat (each run has a folder of its own), got [1,1]',
  ],
  [[...C, '--jobs', '-2'], bad('--jobs <n>', '-2', POS)],
  [[...C, '--lr', 'NaN'], bad('--lr <rate>', 'NaN', LR)],
  [
    [...C, '--name', '../escape'],
    bad('--name <name>', '../escape', 'is not a file name (no folders, not empty).'),
  ],
  [[...C, '--name', ''], bad('--name <name>', '', 'is not a file name (no folders, not empty).')],
  [[...C, '--runs-dir', ''], bad('--runs-dir <dir>', '', 'is not a path (it is empty).')],
  [
    ['compare', '--model', 'tf-mnist-sample', '--out', ''],
    bad('--out <dir>', '', 'is not a path (it is empty).'),
  ],
  [
    ['compare', '--model', 'tf-mnist-sample', '--out', '$FILE'],
    `doconv: error: out ${JSON.stringify('$FILE')} is a file, not a folder`,
  ],
  [
    [...C, '--runs-dir', '$FILE'],
    `doconv: error: runsDir ${JSON.stringify('$FILE')} is a file, not a folder`,
  ],
  [
    [...C, '--preset', 'keras'],
    "option '--preset <name>' argument 'keras' is invalid. Allowed choices are",
  ],
  // eval
  [['eval'], "error: missing required argument 'model'"],
  [
    ['eval', ''],
    `error: command-argument value '' is invalid for argument 'model'. "" is not a path (it is empty).`,
  ],
  [['eval', '$NEW'], `doconv: error: model ${JSON.stringify('$NEW')}: no such file or folder`],
  [
    ['eval', '$DIR', '--backend', 'cpu'],
    `cannot read model file ${'$DIR'}/model.json: no such file`,
  ],
  [
    ['eval', '$FILE', '--backend', 'cpu'],
    `model "${'$FILE'}" is not a model.json (it does not start with "{"); give a TF.js model.json, or a folder holding one`,
  ],
  [[...E, '--test-limit', '0'], bad('--test-limit <n>', '0', POS)],
  [[...E, '--train-limit', 'NaN'], bad('--train-limit <n>', 'NaN', POS)],
  [
    [...E, '--train-limit', '5'],
    'error: --train-limit 5 does not apply to --split test; use --test-limit (or --split train)',
  ],
  [
    [...E, '--split', 'train', '--test-limit', '5'],
    'error: --test-limit 5 does not apply to --split train; use --train-limit',
  ],
  [
    [...E, '--limit', '5', '--test-limit', '5'],
    'error: give --test-limit only (--limit is its old spelling)',
  ],
  [
    [...E, '--batch-size', '8', '--eval-batch-size', '8'],
    'error: give --eval-batch-size only (--batch-size is its old spelling in eval)',
  ],
  [[...E, '--eval-batch-size', '0'], bad('--eval-batch-size <n>', '0', POS)],
  [[...E, '--limit', '-1'], bad('--limit <n>', '-1', POS)],
  [
    [...E, '--split', 'val'],
    "option '--split <split>' argument 'val' is invalid. Allowed choices are train, test.",
  ],
  [
    [...E, '--normalize', 'zscore'],
    "option '--normalize <kind>' argument 'zscore' is invalid. Allowed choices are none, dataset.",
  ],
  [[...E, '--dataset', 'cifar10'], 'doconv: error: cifar10: dir is required'],
  [
    [...E, '--data-dir', '$NEW'],
    `option '--data-dir <dir>' argument '$NEW' is invalid. ${JSON.stringify('$NEW')}: no such folder.`,
  ],
  // fold
  [['fold', '$MODEL'], "error: missing required argument 'out'"],
  [
    ['fold', '', '$NEW'],
    `error: command-argument value '' is invalid for argument 'in'. "" is not a path (it is empty).`,
  ],
  [
    ['fold', '$MODEL', ''],
    `error: command-argument value '' is invalid for argument 'out'. "" is not a path (it is empty).`,
  ],
  [
    ['fold', '$NEW', '$DIR', '--backend', 'cpu'],
    `doconv: error: model ${JSON.stringify('$NEW')}: no such file or folder`,
  ],
  [
    ['fold', '$MODEL', '$FILE', '--backend', 'cpu'],
    `doconv: error: output ${JSON.stringify('$FILE')} is a file, not a folder`,
  ],
  [[...F, '--verify', '0'], bad('--verify <n>', '0', POS)],
  [[...F, '--verify', 'NaN'], bad('--verify <n>', 'NaN', POS)],
  [
    [...F, '--data-dir', '$FILE'],
    `option '--data-dir <dir>' argument '$FILE' is invalid. ${JSON.stringify('$FILE')} is not a folder.`,
  ],
  // export
  [['export', '$MODEL', '$NEW'], "error: required option '--format <format>' not specified"],
  [
    ['export', '$MODEL', '$NEW', '--format', 'tflite'],
    "option '--format <format>' argument 'tflite' is invalid. Allowed choices are",
  ],
  [
    ['export', '$MODEL', '', '--format', 'onnx'],
    `error: command-argument value '' is invalid for argument 'out'. "" is not a path (it is empty).`,
  ],
  [
    ['export', '$NEW', '$DIR', '--format', 'tfjs'],
    `cannot read model file ${'$NEW'}: no such file`,
  ],
  [
    ['export', '$MODEL', '$FILE', '--format', 'tfjs'],
    `doconv: error: out ${JSON.stringify('$FILE')} is a file, not a folder`,
  ],
  [
    ['export', '$MODEL', '$DIR', '--format', 'onnx'],
    `doconv: error: out ${JSON.stringify('$DIR')} is a folder; --format onnx writes a file (e.g. model.onnx)`,
  ],
  [['export', '$MODEL', '$FILE/m.onnx', '--format', 'onnx'], `is a file, not a folder`],
  [[...X, '--fuse-bn'], "error: unknown option '--fuse-bn'"],
  // bench
  [[...B, '--steps', '0'], bad('--steps <n>', '0', POS)],
  [[...B, '--steps', 'Infinity'], bad('--steps <n>', 'Infinity', POS)],
  [[...B, '--batch-size', 'NaN'], bad('--batch-size <n>', 'NaN', POS)],
  [[...B, '--workers', '-1'], bad('--workers <n>', '-1', POS)],
  [
    [...B, '--model', 'vgg'],
    "option '--model <name>' argument 'vgg' is invalid. Allowed choices are",
  ],
  [
    [...B, '--dataset', 'svhn'],
    "option '--dataset <shape>' argument 'svhn' is invalid. Allowed choices are mnist, cifar10.",
  ],
  [
    [...B, '--conv', 'dconv'],
    "option '--conv <kind>' argument 'dconv' is invalid. Allowed choices are conv, doconv.",
  ],
  // the program
  [['trian'], "error: unknown command 'trian'"],
  [['--verbose'], "error: unknown option '--verbose'"],
];

describe('hostile command lines: exit 1, one clear error naming the flag and the value', () => {
  for (const [args, message] of cases) {
    it(`doconv ${args.map((a) => (a === '' ? "''" : a)).join(' ')}`, async () => {
      const before = await fs.readdir(root);
      const r = await runCli(expand(args));
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain(expand([message])[0]);
      expect(r.err).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
      expect(r.out).toBe(''); // no result printed
      // No partial write: nothing new in the temp root, the file untouched, the folder empty.
      expect(await fs.readdir(root)).toEqual(before);
      expect(await fs.readFile(at('FILE'), 'utf8')).toBe('mine');
      expect(await fs.readdir(at('DIR'))).toEqual([]);
    });
  }
});

describe('the old spellings still work and say what replaced them', () => {
  it('eval --limit and --batch-size', async () => {
    const r = await runCli([...expand(E), '--limit', '5', '--batch-size', '2', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ count: 5, split: 'test' });
    expect(r.err).toContain('doconv: eval --limit is now --test-limit (the limit of --split test)');
    expect(r.err).toContain(
      'doconv: eval --batch-size is now --eval-batch-size (as in train and compare)',
    );
  });

  it('eval --split train --train-limit', async () => {
    const r = await runCli([...expand(E), '--split', 'train', '--train-limit', '3', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ count: 3, split: 'train' });
  });
});
