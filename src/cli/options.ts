/**
 * Option parsing shared by the subcommands: value parsers that reject bad input naming the value
 * (commander adds the option's name: "option '--epochs <n>' argument 'x' is invalid. …"), and the
 * recipe options common to `train` and `compare`, registered from RECIPE_FLAGS (their flags and
 * help) and read by the library's RECIPE_OPTIONS rows (their rules and choices).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { convKinds, isZooModelName, zooModelNames } from '../models/index.js';
import { isModelPath } from './modelPath.js';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  type LrSchedule,
  PRESET_NAMES,
  PROGRESS_MODES,
  type ProgressMode,
  type RecipeOptions,
} from '../train/index.js';
import {
  RECIPE_OPTIONS,
  type RecipeOptionKey,
  type RecipeOptionRow,
  recipeOptionRows,
  type RecipeOptionValue,
  type RecipeOptionValues,
} from '../train/recipeOptions.js';
import { RECIPE_FLAGS, type RecipeFlagRow } from './recipeFlags.js';
import {
  numberParser,
  parseBaseName,
  parseExistingDir,
  parseInteger,
  parsePath,
  parseIntegerList,
  parsePositiveInt,
  parsePositiveNumberList,
  parseImageSize,
  ValueParseError,
} from './textParsers.js';

/** `parse` as a commander argParser: its ValueParseError becomes commander's InvalidArgumentError. */
export function argParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      if (e instanceof ValueParseError) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}

export const positiveInt = argParser(parsePositiveInt);
export const integer = argParser(parseInteger);
export const integerList = argParser(parseIntegerList);
/** A path that is not empty (for --out and the commands' file arguments). */
export const pathText = argParser(parsePath);
/** A file's base name (for compare --name). */
export const baseName = argParser(parseBaseName);
/** An existing folder (for --data-dir). */
export const existingDir = argParser(parseExistingDir);

/** Commander's name for a flag's value: '--step-every <epochs>' → 'stepEvery'. */
type AttributeName<Flag extends string> = Flag extends `--${infer Name} ${string}`
  ? CamelCase<Name>
  : Flag extends `--${infer Name}`
    ? CamelCase<Name>
    : never;
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** Options every training subcommand shares, as commander parses them (names from the flags). */
export type RecipeFlags = {
  -readonly [
    K in RecipeOptionKey as AttributeName<(typeof RECIPE_FLAGS)[K]['flag']>
  ]?: RecipeOptionValue<(typeof RECIPE_OPTIONS)[K]>;
} & {
  backend: BackendChoice;
  progress: ProgressMode;
};

/** Adds the recipe options (preset, model, data, optimizer, schedule, …) and --backend, --progress to `cmd`. */
export function addRecipeOptions(cmd: Command): Command {
  for (const [key, row] of recipeOptionRows()) {
    for (const option of commanderOptions(RECIPE_FLAGS[key], row)) cmd.addOption(option);
  }
  return cmd
    .addOption(
      new Option(
        '--backend <name>',
        "backend (auto: tfjs-node, else wasm with doconv's kernels, else cpu)",
      )
        .choices(BACKEND_CHOICES)
        .default('auto'),
    )
    .addOption(
      new Option(
        '--progress <mode>',
        'progress display on stderr (auto: bar on a terminal, lines otherwise)',
      )
        .choices(PROGRESS_MODES)
        .default('auto'),
    );
}

/** How a recipe option's flag text is read: by its number rule, or as a path or a list. */
export function recipeTextParser(row: RecipeOptionRow): ((text: string) => unknown) | undefined {
  if (row.rule !== undefined) return numberParser(row.rule);
  if (row.value === 'path') return parseExistingDir;
  if (row.value === 'positive numbers') return parsePositiveNumberList;
  if (row.value === 'image size') return parseImageSize;
  return undefined;
}

/** A row's commander options: the flag, and a switch's --no- form. */
function commanderOptions(flag: RecipeFlagRow, row: RecipeOptionRow): Option[] {
  const option = new Option(flag.flag, flag.help);
  const parse = recipeTextParser(row);
  if (parse !== undefined) option.argParser(argParser(parse));
  if (row.choices !== undefined) option.choices(row.choices);
  // --model also takes a saved model's path (modelPath.ts); anything else is refused as a choice.
  if (flag === RECIPE_FLAGS.model) option.argParser(zooNameOrModelPath);
  if (flag.negation === undefined) return [option];
  return [option, new Option(`--no-${option.long!.slice(2)}`, flag.negation)];
}

export function zooNameOrModelPath(text: string): string {
  if (isZooModelName(text) || isModelPath(text)) return text;
  throw new InvalidArgumentError(
    `Allowed choices are ${zooModelNames.join(', ')}, or a saved model (path/model.json).`,
  );
}

/** Where commander puts a row's value among the parsed flags. */
function flagName(key: RecipeOptionKey): string {
  return new Option(RECIPE_FLAGS[key].flag).attributeName();
}

/** The library's RecipeOptions from the parsed flags; errors name the flag. */
export function recipeFromFlags(f: RecipeFlags): RecipeOptions {
  const values: RecipeOptionValues = {};
  for (const [key] of recipeOptionRows()) {
    const value = (f as Record<string, unknown>)[flagName(key)];
    if (value !== undefined) Object.assign(values, { [key]: value });
  }
  // (--dataset mnist-scenes alone: the library says which models it is for.)
  const given = [values.preset, values.model, values.task, values.dataset === 'mnist-scenes'];
  if (given.every((v) => v === undefined || v === false)) {
    throw new InvalidArgumentError(
      `give --preset <name> (${PRESET_NAMES.join(', ')}) or --model <name> (${zooModelNames.join(', ')})`,
    );
  }
  if (values.dataset === 'folder' && values.dataDir === undefined) {
    throw new InvalidArgumentError(
      '--dataset folder needs --data-dir <dir> (one subfolder of PNG/JPEG images per class, or train/ and val/ folders of those)',
    );
  }
  const recipe: RecipeOptions = {};
  for (const [key, value] of Object.entries(values)) {
    if (!key.startsWith('schedule.')) Object.assign(recipe, { [key]: value });
  }
  const schedule = scheduleFromFlags(values);
  if (schedule !== undefined) recipe.schedule = schedule;
  return recipe;
}

/** recipeFromFlags, ending the command with commander's error (exit 1) on a flag that does not fit. */
export function recipeOrExit(cmd: Command, flags: RecipeFlags): RecipeOptions {
  try {
    return recipeFromFlags(flags);
  } catch (e) {
    if (e instanceof InvalidArgumentError) cmd.error(`error: ${e.message}`);
    throw e;
  }
}

function scheduleFromFlags(f: RecipeOptionValues): LrSchedule | undefined {
  const kind = f['schedule.kind'];
  const warmupEpochs = f['schedule.warmupEpochs'];
  if (kind === undefined && warmupEpochs !== undefined) {
    throw new InvalidArgumentError(
      '--warmup needs --schedule <kind> (the schedule it warms up: constant, step or cosine)',
    );
  }
  const schedule = scheduleKindFromFlags(f);
  return schedule === undefined || warmupEpochs === undefined
    ? schedule
    : { ...schedule, warmupEpochs };
}

function scheduleKindFromFlags(f: RecipeOptionValues): LrSchedule | undefined {
  const kind = f['schedule.kind'];
  const milestones = f['schedule.milestones'];
  const every = f['schedule.every'];
  const gamma = f['schedule.gamma'];
  const minLr = f['schedule.minLr'];
  if (kind !== 'step' && (milestones !== undefined || every !== undefined || gamma !== undefined)) {
    throw new InvalidArgumentError(
      `--milestones, --step-every and --gamma need --schedule step (got --schedule ${kind ?? '(none)'})`,
    );
  }
  if (kind !== 'cosine' && minLr !== undefined) {
    throw new InvalidArgumentError(
      `--min-lr needs --schedule cosine (got --schedule ${kind ?? '(none)'})`,
    );
  }
  switch (kind) {
    case undefined:
      return undefined;
    case 'constant':
      return { kind: 'constant' };
    case 'cosine':
      return minLr !== undefined ? { kind: 'cosine', minLr } : { kind: 'cosine' };
    case 'step': {
      if ((milestones === undefined) === (every === undefined)) {
        throw new InvalidArgumentError(
          '--schedule step needs exactly one of --milestones <epochs> or --step-every <n>',
        );
      }
      const factor = gamma !== undefined ? { gamma } : {};
      return milestones !== undefined
        ? { kind: 'step', milestones, ...factor }
        : { kind: 'step', every, ...factor };
    }
  }
}

/** The conv kinds, for --conv. */
export const CONV_CHOICES = convKinds;
