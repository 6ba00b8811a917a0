/** Every subcommand has --help with a usage line, its options and examples. */
import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

const SUBCOMMANDS: Array<[string, string[]]> = [
  [
    'train',
    [
      '--model <name>',
      '--conv <kind>',
      '--out <dir>',
      '--resume',
      '--preset <name>',
      '--weight-decay <lambda>',
      '--no-decay-d',
    ],
  ],
  [
    'compare',
    [
      '--preset <name>',
      '--runs <n>',
      '--out <dir>',
      '--seeds <list>',
      '--jobs <n>',
      '--workers <n>',
    ],
  ],
  [
    'eval',
    [
      '<model>',
      '--dataset <name>',
      '--test-limit <n>',
      '--train-limit <n>',
      '--eval-batch-size <n>',
    ],
  ],
  ['fold', ['<in>', '<out>', '--no-fuse-bn', '--verify <n>']],
  ['export', ['<in>', '<out>', '--format <format>']],
  [
    'import',
    [
      '<checkpoint>',
      '--model <name>',
      '--conv <kind>',
      '--out <dir>',
      '--dataset <name>',
      '--test-limit <n>',
    ],
  ],
  ['bench', ['--quick', '--model <name>', '--steps <n>', '--workers <n>']],
];

describe('doconv --help', () => {
  it('lists every subcommand and examples', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const [name] of SUBCOMMANDS) expect(r.out).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    expect(r.out).toContain('Examples:');
  });

  for (const [name, expected] of SUBCOMMANDS) {
    it(`doconv ${name} --help`, async () => {
      const r = await runCli([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: doconv ${name} `));
      for (const text of expected) expect(r.out).toContain(text);
      expect(r.out).toMatch(/Examples:\n {2}\$ doconv /);
    });
  }

  it('help documents whether D gets weight decay', async () => {
    const r = await runCli(['train', '--help']);
    expect(r.out).toMatch(/--decay-d\s+weight decay also applies to DO-Conv's D \(the\s+default/);
  });
});
