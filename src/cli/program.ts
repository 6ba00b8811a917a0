/**
 * The `doconv` command line: argument parsing and printing only. Every subcommand is a thin call into a
 * library function exported from doconv/node (trainModel, evaluateSavedModel, foldSavedModel, exportModel,
 * predictFiles, importPytorchCheckpoint, compareConvs, measureTrainingSpeed).
 */
import { Command, type ParseOptions } from 'commander';
import * as fs from 'node:fs';
import { benchCommand } from './commands/bench.js';
import { buildNativeCommand } from './commands/buildNative.js';
import { compareCommand } from './commands/compare.js';
import { convertCommand } from './commands/convert.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { inCliWording } from './flagNames.js';
import { foldCommand } from './commands/fold.js';
import { importCommand } from './commands/import.js';
import { predictCommand } from './commands/predict.js';
import { trainCommand } from './commands/train.js';
import { type CliIO, processIO } from './print.js';

/**
 * The doconv program: a commander Command whose errors reach the user in CLI wording (a library
 * OptionError rendered with flag names, see flagNames.ts), however a command fails.
 */
class DoconvProgram extends Command {
  override async parseAsync(argv?: readonly string[], options?: ParseOptions): Promise<this> {
    try {
      return await super.parseAsync(argv, options);
    } catch (e) {
      throw inCliWording(e);
    }
  }
}

/** The program; tests build one with their own io and exitOverride(). */
export function createProgram(io: CliIO = processIO): Command {
  const program = new DoconvProgram('doconv')
    .version(packageVersion(), '-V, --version', "print doconv's version")
    .description(
      'DO-Conv for TensorFlow.js: train, compare with plain convolutions, fold, evaluate, export.',
    )
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv train --model tf-mnist-sample --conv doconv --epochs 1 --train-limit 6000 --seed 1 --out runs/quick
  $ doconv compare --preset tf-mnist-sample --runs 5
  $ doconv eval runs/quick/folded
  $ doconv fold runs/quick/checkpoint runs/quick/folded2
  $ doconv predict runs/quick digits/ --top-k 3
  $ doconv import runs/pt/checkpoint.safetensors --out runs/imported --dataset mnist`,
    );
  for (const make of [
    trainCommand,
    compareCommand,
    evalCommand,
    foldCommand,
    convertCommand,
    exportCommand,
    predictCommand,
    importCommand,
    benchCommand,
    buildNativeCommand,
  ]) {
    const sub = make(io);
    sub.showHelpAfterError('(add --help for usage)');
    markRequired(sub);
    program.addCommand(sub);
  }
  return program;
}

/** Appends "(required)" to the --help line of each option the command cannot run without. */
function markRequired(cmd: Command): void {
  for (const option of cmd.options) {
    if (option.mandatory && !option.description.endsWith('(required)')) {
      option.description = `${option.description} (required)`;
    }
  }
}

/** The version in doconv's package.json (two folders up from src/cli/ and from dist/cli/). */
function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}
