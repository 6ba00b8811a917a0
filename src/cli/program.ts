/**
 * The `doconv` command line: argument parsing and printing only. Every subcommand is a thin call into a
 * library function exported from doconv/node (trainModel, evaluateSavedModel, foldSavedModel, exportModel,
 * importPytorchCheckpoint, compareConvs, measureTrainingSpeed).
 */
import { Command } from 'commander';
import { benchCommand } from './commands/bench.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { foldCommand } from './commands/fold.js';
import { importCommand } from './commands/import.js';
import { trainCommand } from './commands/train.js';
import { type CliIO, processIO } from './print.js';

/** The program; tests build one with their own io and exitOverride(). */
export function createProgram(io: CliIO = processIO): Command {
  const program = new Command('doconv')
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
  $ doconv import runs/pt/checkpoint.safetensors --out runs/imported --dataset mnist`,
    );
  for (const make of [
    trainCommand,
    compareCommand,
    evalCommand,
    foldCommand,
    exportCommand,
    importCommand,
    benchCommand,
  ]) {
    const sub = make(io);
    sub.showHelpAfterError('(add --help for usage)');
    program.addCommand(sub);
  }
  return program;
}
