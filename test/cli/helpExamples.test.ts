/**
 * Every `$ doconv …` example in every --help is parse-checked through the real command definitions:
 * commander reads each flag and value (choices, number rules, required options), and for train and
 * compare the recipe is built as the action would (recipeFromFlags: flag combinations). The actions
 * are replaced, so nothing trains: this keeps `npm test` fast (the spawned train.e2e test runs the
 * real thing once). Folders given to --data-dir are swapped for a temp folder that exists.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecipeFlags, recipeFromFlags } from '../../src/cli/options.js';
import { createProgram } from '../../src/cli/program.js';
import { tempDir } from '../train/helpers.js';
import { runCli } from './runCli.js';
import { isZooModelName, zooModelTask } from '../../src/models/zoo.js';

const COMMANDS = ['train', 'compare', 'eval', 'fold', 'export', 'bench'];

/** The examples of a help text, as argument lists (continuations joined, # comments dropped). */
function helpExamples(help: string): string[][] {
  const text = help.slice(help.indexOf('Examples:'));
  const joined = text.replace(/\\\n\s*/g, ' ');
  return joined
    .split('\n')
    .filter((l) => /^\s*\$ doconv\b/.test(l))
    .map((l) => l.replace(/\s#.*$/, '').replace(/^\s*\$ doconv\s*/, ''))
    .map((l) => l.trim().split(/\s+/).filter(Boolean));
}

/** Parses `args` with every action replaced; returns the command reached and what it got. */
async function parseOnly(args: string[]): Promise<{ name: string; flags: unknown }> {
  const program = createProgram({ out: () => {}, err: () => {} });
  let reached: { name: string; flags: unknown } | undefined;
  const quiet = { writeOut: () => {}, writeErr: () => {} };
  program.exitOverride().configureOutput(quiet);
  for (const cmd of program.commands as Command[]) {
    cmd.exitOverride().configureOutput(quiet);
    cmd.action((...actionArgs: unknown[]) => {
      // commander passes the arguments, then the options, then the command.
      reached = { name: cmd.name(), flags: actionArgs[actionArgs.length - 2] };
    });
  }
  await program.parseAsync(['node', 'doconv', ...args]);
  if (reached === undefined) throw new Error(`no command ran for: doconv ${args.join(' ')}`);
  return reached;
}

let dataDir = '';
beforeAll(async () => {
  dataDir = await tempDir('help-examples');
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('helpExamples reads the examples as a shell would split them', () => {
  it('joins continuations and drops comments', () => {
    const help =
      'Examples:\n  $ doconv a --x 1   # note\n  $ doconv b --y \\\n      --z 2  # more\n';
    expect(helpExamples(help)).toEqual([
      ['a', '--x', '1'],
      ['b', '--y', '--z', '2'],
    ]);
  });
});

describe('every --help example parses through the real command definitions', () => {
  for (const command of [undefined, ...COMMANDS]) {
    it(`doconv ${command ?? ''} --help examples`, async () => {
      const help = await runCli(command ? [command, '--help'] : ['--help']);
      const examples = helpExamples(help.out);
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        if (command !== undefined) expect(example[0]).toBe(command);
        const args = example.map((a, i) => (example[i - 1] === '--data-dir' ? dataDir : a));
        const { name, flags } = await parseOnly(args).catch((e: Error) => {
          throw new Error(`doconv ${example.join(' ')}: ${e.message}`);
        });
        // Segmentation/detection runs go to the task trainer, which reads its own flags.
        const { task, model } = flags as { task?: string; model?: string };
        const isTaskRun =
          task !== undefined ||
          (model !== undefined &&
            isZooModelName(model) &&
            zooModelTask(model) !== 'classification');
        if ((name === 'train' || name === 'compare') && !isTaskRun) {
          expect(() => recipeFromFlags(flags as RecipeFlags), example.join(' ')).not.toThrow();
        }
      }
    });
  }
});
