/**
 * The recipe-option table (src/train/recipeOptions.ts) and the CLI's flags for it
 * (src/cli/recipeFlags.ts) agree: every row is a flag of `train` and `compare`, reads its example
 * value, and lands on the row's key in RecipeOptions.
 */
import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { type RecipeFlags, recipeFromFlags, recipeTextParser } from '../../src/cli/options.js';
import { RECIPE_FLAGS, type RecipeFlagRow } from '../../src/cli/recipeFlags.js';
import { createProgram } from '../../src/cli/program.js';
import type { RecipeOptions } from '../../src/train/index.js';
import { type RecipeOptionKey, recipeOptionRows } from '../../src/train/recipeOptions.js';

const COMMANDS = ['train', 'compare'] as const;

/** What a schedule modifier needs beside it to be accepted. */
const CONTEXT: Partial<Record<RecipeOptionKey, string[]>> = {
  'schedule.milestones': ['--schedule', 'step'],
  'schedule.every': ['--schedule', 'step'],
  'schedule.gamma': ['--schedule', 'step', '--step-every', '30'],
  'schedule.minLr': ['--schedule', 'cosine'],
  'schedule.warmupEpochs': ['--schedule', 'cosine'],
};

/** The RecipeOptions `doconv COMMAND ARGS` would train with (the command's action replaced). */
async function recipeOf(
  command: (typeof COMMANDS)[number],
  args: string[],
): Promise<RecipeOptions> {
  const program = createProgram({ out: () => {}, err: () => {} }).exitOverride();
  const cmd = program.commands.find((c) => c.name() === command)!.exitOverride();
  let flags: RecipeFlags | undefined;
  cmd.action((f: RecipeFlags) => {
    flags = f;
  });
  const required = command === 'train' ? ['--out', 'unused'] : [];
  await program.parseAsync(['node', 'doconv', command, ...required, ...args]);
  return recipeFromFlags(flags!);
}

/** The value at a row's key: 'schedule.gamma' is `schedule.gamma`. */
function valueAt(recipe: RecipeOptions, key: RecipeOptionKey): unknown {
  const [option, field] = key.split('.');
  const value = (recipe as Record<string, unknown>)[option];
  return field === undefined ? value : (value as Record<string, unknown> | undefined)?.[field];
}

describe('the recipe-option table drives the CLI', () => {
  for (const command of COMMANDS) {
    it(`every row is a flag of ${command}`, () => {
      const cmd = createProgram().commands.find((c) => c.name() === command)!;
      const flags = cmd.options.map((o) => o.flags);
      for (const [key] of recipeOptionRows()) {
        const row: RecipeFlagRow = RECIPE_FLAGS[key];
        expect(flags).toContain(row.flag);
        if (row.negation !== undefined) {
          expect(flags).toContain(`--no-${new Option(row.flag).long!.slice(2)}`);
        }
      }
    });
  }

  for (const [key, rules] of recipeOptionRows()) {
    const row: RecipeFlagRow & { choices?: readonly string[] } = {
      ...RECIPE_FLAGS[key],
      choices: rules.choices,
    };
    const parse = recipeTextParser(rules);
    const model = key === 'model' ? [] : ['--model', 'tf-mnist-sample'];
    const context = CONTEXT[key] ?? [];
    if (row.example !== undefined) {
      const expected = parse !== undefined ? parse(row.example) : row.example;
      for (const command of COMMANDS) {
        it(`${command} ${row.flag.split(' ')[0]} ${row.example} → ${key}`, async () => {
          if (row.choices !== undefined) expect(row.choices).toContain(row.example);
          const recipe = await recipeOf(command, [
            ...model,
            ...context,
            row.flag.split(' ')[0],
            row.example!,
          ]);
          expect(valueAt(recipe, key)).toEqual(expected);
        });
      }
    } else {
      it(`${row.flag} is a switch: on lands ${key} true, --no- lands false`, async () => {
        expect(row.flag).not.toContain(' ');
        expect(row.negation).toBeDefined();
        const off = `--no-${row.flag.slice(2)}`;
        for (const command of COMMANDS) {
          expect(valueAt(await recipeOf(command, [...model, row.flag]), key)).toBe(true);
          expect(valueAt(await recipeOf(command, [...model, off]), key)).toBe(false);
        }
      });
    }
  }

  it('a recipe without flags sets no option but the model', async () => {
    expect(await recipeOf('compare', ['--model', 'resnet-20'])).toEqual({ model: 'resnet-20' });
  });
});
