/** Bad arguments fail before any work, with a message naming the argument and the value. */
import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

const cases: Array<[string, string[], RegExp]> = [
  [
    'unknown model',
    ['train', '--model', 'resnet-7', '--out', 'x'],
    /option '--model <name>' argument 'resnet-7' is invalid\. Allowed choices are tf-mnist-sample, /,
  ],
  [
    'unknown preset',
    ['compare', '--preset', 'keras'],
    /option '--preset <name>' argument 'keras' is invalid/,
  ],
  [
    'bad --epochs (zero)',
    ['train', '--model', 'tf-mnist-sample', '--epochs', '0', '--out', 'x'],
    /option '--epochs <n>' argument '0' is invalid\. "0" is not a positive integer\./,
  ],
  [
    'bad --epochs (text)',
    ['train', '--model', 'tf-mnist-sample', '--epochs', 'five', '--out', 'x'],
    /option '--epochs <n>' argument 'five' is invalid/,
  ],
  [
    'bad --workers',
    ['train', '--model', 'tf-mnist-sample', '--workers', '0', '--out', 'x'],
    /option '--workers <n>' argument '0' is invalid\. "0" is not a positive integer\./,
  ],
  [
    'bad --jobs',
    ['compare', '--preset', 'tf-mnist-sample', '--jobs', 'two'],
    /option '--jobs <n>' argument 'two' is invalid\. "two" is not a positive integer\./,
  ],
  [
    'bad --lr',
    ['train', '--model', 'tf-mnist-sample', '--lr', '-0.1', '--out', 'x'],
    /option '--lr <rate>' argument '-0.1' is invalid\. "-0.1" is not a number in \(0, 10\]\./,
  ],
  [
    'bad --conv',
    ['train', '--model', 'tf-mnist-sample', '--conv', 'dconv', '--out', 'x'],
    /option '--conv <kind>' argument 'dconv' is invalid\. Allowed choices are conv, doconv\./,
  ],
  [
    'missing --out',
    ['train', '--model', 'tf-mnist-sample'],
    /required option '--out <dir>' not specified/,
  ],
  [
    'neither --model nor --preset',
    ['train', '--out', 'x'],
    /give --preset <name> \(tf-mnist-sample, pt-mnist-sample, gluon-lenet\) or --model <name>/,
  ],
  [
    'cifar10 without --data-dir',
    ['train', '--model', 'resnet-20', '--dataset', 'cifar10', '--out', 'x'],
    /--dataset cifar10 needs --data-dir \(a folder with data_batch_1.bin/,
  ],
  [
    'missing data dir',
    [
      'train',
      '--model',
      'resnet-20',
      '--dataset',
      'cifar10',
      '--data-dir',
      '/no/such/cifar',
      '--out',
      'x',
    ],
    /option '--data-dir <dir>' argument '\/no\/such\/cifar' is invalid\. "\/no\/such\/cifar": no such folder\./,
  ],
  [
    'step schedule without milestones',
    ['train', '--model', 'tf-mnist-sample', '--schedule', 'step', '--out', 'x'],
    /--schedule step needs exactly one of --milestones <epochs> or --step-every <n>/,
  ],
  [
    'milestones without step schedule',
    ['train', '--model', 'tf-mnist-sample', '--milestones', '3', '--out', 'x'],
    /--milestones, --step-every and --gamma need --schedule step/,
  ],
  [
    'bad --milestones',
    [
      'train',
      '--model',
      'tf-mnist-sample',
      '--schedule',
      'step',
      '--milestones',
      '3,x',
      '--out',
      'x',
    ],
    /argument '3,x' is invalid\. "3,x" is not a comma-separated list of positive numbers\./,
  ],
  [
    'bad --runs',
    ['compare', '--preset', 'tf-mnist-sample', '--runs', '0'],
    /option '--runs <n>' argument '0' is invalid/,
  ],
  ['eval without a model', ['eval'], /missing required argument 'model'/],
  ['fold without an output', ['fold', 'in'], /missing required argument 'out'/],
  [
    'export without --format',
    ['export', 'a', 'b'],
    /required option '--format <format>' not specified/,
  ],
  [
    'bench with bad --steps',
    ['bench', '--quick', '--steps', '-3'],
    /option '--steps <n>' argument '-3' is invalid/,
  ],
  ['unknown subcommand', ['trian'], /unknown command 'trian'/],
  ['unknown option', ['train', '--epoch', '3', '--out', 'x'], /unknown option '--epoch'/],
];

describe('bad arguments', () => {
  for (const [name, args, message] of cases) {
    it(`${name}: doconv ${args.join(' ')}`, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
    });
  }

  it('eval of a missing model names the path', async () => {
    const r = await runCli(['eval', '/no/such/model', '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('model "/no/such/model": no such file or folder');
  });
});
