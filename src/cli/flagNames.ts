/**
 * The one place where the library's option names become the CLI's flags. The library names options
 * as its callers spell them ("lr", "schedule.minLr", "dataDir", a loader's "dir") and throws an
 * OptionError for a refused one; `inCliWording` renders that message with the flags here, so a CLI
 * user reads "--min-lr 0.5 is above --lr 0.1" where a library user reads "schedule.minLr 0.5 is
 * above lr 0.1".
 */
import { Option } from 'commander';
import { OptionError } from '../util/optionError.js';
import { RECIPE_FLAGS } from './recipeFlags.js';

/** Library option name → the flag that sets it, for the options outside the recipe table. */
const OTHER_FLAGS: Record<string, string> = {
  out: '--out',
  resume: '--resume',
  overwrite: '--overwrite',
  allowEngineChange: '--allow-engine-change',
  fold: '--no-fold',
  conv: '--conv',
  seed: '--seed',
  seeds: '--seeds',
  runs: '--runs',
  steps: '--steps',
  runsDir: '--runs-dir',
  jobs: '--jobs',
  oversubscribe: '--oversubscribe',
  name: '--name',
  task: '--task',
  backend: '--backend',
  progress: '--progress',
  // the loaders' and the saved-model verbs' names for what train's flags also set
  dir: '--data-dir',
  split: '--split',
  verifyImages: '--verify',
  fuseBatchNorm: '--no-fuse-bn',
  info: '--info',
  layout: '--layout',
  format: '--format',
  // the image-folder loader's size; predict's options
  size: '--image-size',
  topK: '--top-k',
  minScore: '--min-score',
  maxObjects: '--max-objects',
  maskDir: '--masks',
  annotateDir: '--annotate',
};

/** Every library name with a flag: the recipe table's ('schedule.minLr' → '--min-lr') and the rest. */
const FLAGS: ReadonlyMap<string, string> = new Map([
  ...Object.entries(RECIPE_FLAGS).map(([key, row]): [string, string] => [
    key,
    new Option(row.flag).long!,
  ]),
  ...Object.entries(OTHER_FLAGS),
]);

/**
 * How the CLI names a library option: its flag, followed by `setting` unless the flag is a switch
 * ("--overwrite", "--lr 0.1"); an indexed one by its list's flag ("seeds[2]" → "--seeds item 3").
 * A name without a flag stays as it is.
 */
export function flagFor(option: string, setting?: string): string {
  const indexed = /^(.+)\[(\d+)\]$/.exec(option);
  if (indexed !== null) {
    const flag = FLAGS.get(indexed[1]);
    return flag !== undefined ? `${flag} item ${Number(indexed[2]) + 1}` : option;
  }
  const flag = FLAGS.get(option);
  if (flag === undefined) return setting !== undefined ? `${option}: ${setting}` : option;
  const isSwitch = setting === 'true' || setting === 'false';
  return setting !== undefined && !isSwitch ? `${flag} ${setting}` : flag;
}

/** The library names that have a flag (for the table's test). */
export function namedOptions(): string[] {
  return [...FLAGS.keys()];
}

/** An error as the CLI shows it: an OptionError in flag names, anything else unchanged. */
export function inCliWording(e: unknown): unknown {
  if (!(e instanceof OptionError)) return e;
  const shown = new Error(e.render(flagFor));
  shown.stack = `${shown.message}\n(library: ${e.stack ?? e.message})`;
  return shown;
}
