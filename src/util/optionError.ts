/**
 * A refused option, named by its library name ("lr", "schedule.minLr", "dataDir", a loader's
 * "dir"). The message is written once, as a function of how an option is named: the library shows
 * its own names, and the CLI renders the same sentence with its flags ("--lr", "--min-lr") through
 * one table (src/cli/flagNames.ts). Browser-safe, imports nothing: any floor may throw it.
 */
/**
 * How a message spells an option; with `setting`, the option set to that value ("overwrite: true"
 * in the library's words, "--overwrite" in the CLI's).
 */
export type OptionNamer = (option: string, setting?: string) => string;

/** The library's spelling: the option's own name ("lr"), or "name: setting". */
export const libraryName: OptionNamer = (option, setting) =>
  setting !== undefined ? `${option}: ${setting}` : option;

export class OptionError extends Error {
  /** The options the message names, by their library names (the first is the one refused). */
  readonly options: readonly string[];
  private readonly write: (name: OptionNamer) => string;

  /**
   * `options`: the library name(s) the message mentions; `write(name)`: the message, spelling each
   * of them as `name(option)`. An option with an index ("seeds[2]") is named by its base's name.
   */
  constructor(options: string | readonly string[], write: (name: OptionNamer) => string) {
    super(write(libraryName));
    this.name = 'OptionError';
    this.options = typeof options === 'string' ? [options] : options;
    this.write = write;
  }

  /** The message with every option spelled by `name` (e.g. the CLI's flag names). */
  render(name: OptionNamer): string {
    return this.write(name);
  }
}
