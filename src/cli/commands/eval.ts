/** `doconv eval MODEL`: parse, call evaluateSavedModel, print. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DATASET_NAMES, type DatasetName } from '../../data/loadDataset.js';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  evaluateSavedModel,
  NORMALIZE_KINDS,
  type NormalizeKind,
  selectBackend,
} from '../../train/index.js';
import { existingDir, pathText, positiveInt } from '../options.js';
import { type CliIO, keyValues, percent } from '../print.js';
import { formatTaskScores } from '../runSummary.js';

interface EvalFlags {
  dataset?: DatasetName;
  dataDir?: string;
  split: 'train' | 'test';
  testLimit?: number;
  trainLimit?: number;
  evalBatchSize: number;
  normalize?: NormalizeKind;
  backend: BackendChoice;
  json?: boolean;
  /** Old spellings, still read: --limit (now --test-limit / --train-limit), --batch-size (now --eval-batch-size). */
  limit?: number;
  batchSize?: number;
}

export function evalCommand(io: CliIO): Command {
  const cmd = new Command('eval')
    .summary('evaluate a saved model on a dataset')
    .description(
      "Evaluate a saved TF.js model (a model.json, or a folder holding one: a run's checkpoint/ or folded/) on a dataset split.\n" +
        'Dataset and normalisation default to what the model was trained with (recorded by `doconv train`).',
    )
    .argument('<model>', 'model.json, or a folder holding one', pathText)
    .addOption(
      new Option(
        '--dataset <name>',
        'dataset (default: the one the model was trained on, else mnist)',
      ).choices(DATASET_NAMES),
    )
    .addOption(
      new Option('--data-dir <dir>', 'folder with the dataset files').argParser(existingDir),
    )
    .addOption(
      new Option('--split <split>', 'which split').choices(['train', 'test']).default('test'),
    )
    .addOption(
      new Option('--test-limit <n>', 'first N test images only (--split test)').argParser(
        positiveInt,
      ),
    )
    .addOption(
      new Option('--train-limit <n>', 'first N training images only (--split train)').argParser(
        positiveInt,
      ),
    )
    .addOption(
      new Option('--eval-batch-size <n>', 'images per forward pass')
        .argParser(positiveInt)
        .default(256),
    )
    .addOption(
      new Option(
        '--normalize <kind>',
        'pixel normalisation (default: the one the model was trained with)',
      ).choices(NORMALIZE_KINDS),
    )
    .addOption(new Option('--backend <name>', 'backend').choices(BACKEND_CHOICES).default('auto'))
    .option('--json', 'print the result as JSON')
    // The old spellings: still work, say what replaced them, not in --help.
    .addOption(new Option('--limit <n>').argParser(positiveInt).hideHelp())
    .addOption(new Option('--batch-size <n>').argParser(positiveInt).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  $ doconv eval runs/quick/checkpoint
  $ doconv eval runs/quick/folded --test-limit 1000
  $ doconv eval runs/f/folded/model.json --dataset fashion-mnist --split train --train-limit 5000`,
    )
    .action(async (model: string, flags: EvalFlags) => {
      let limit: number | undefined;
      let batchSize: number;
      try {
        ({ limit, batchSize } = evalLimits(cmd, flags, io));
      } catch (e) {
        if (e instanceof InvalidArgumentError) cmd.error(`error: ${e.message}`);
        throw e;
      }
      await selectBackend(flags.backend, io.err);
      const r = await evaluateSavedModel(model, {
        dataset: flags.dataset,
        dataDir: flags.dataDir,
        split: flags.split,
        limit,
        batchSize,
        normalize: flags.normalize,
      });
      if (flags.json) {
        io.out(JSON.stringify(r, null, 2));
        return;
      }
      io.out(
        'task' in r
          ? keyValues([
              ['model', `${r.model} (${r.task}, ${r.parameters} parameters)`],
              ['data', `mnist-scenes ${r.split}, ${r.count} scenes`],
              ['scores', formatTaskScores(r)],
              ['loss', r.loss.toFixed(4)],
            ])
          : keyValues([
              ['model', `${r.model} (${r.parameters} parameters)`],
              ['data', `${r.dataset} ${r.split}, ${r.count} images, normalize ${r.normalize}`],
              ['accuracy', percent(r.accuracy)],
              ['loss', r.loss.toFixed(4)],
            ]),
      );
    });
  return cmd;
}

/** The split's image limit and the batch size from the flags, old spellings included. */
function evalLimits(
  cmd: Command,
  flags: EvalFlags,
  io: CliIO,
): { limit: number | undefined; batchSize: number } {
  const { split } = flags;
  const own = split === 'train' ? '--train-limit' : '--test-limit';
  const other = split === 'train' ? '--test-limit' : '--train-limit';
  const otherValue = split === 'train' ? flags.testLimit : flags.trainLimit;
  if (otherValue !== undefined) {
    throw new InvalidArgumentError(
      `${other} ${otherValue} does not apply to --split ${split}; use ${own}${split === 'test' ? ' (or --split train)' : ''}`,
    );
  }
  let limit = split === 'train' ? flags.trainLimit : flags.testLimit;
  if (flags.limit !== undefined) {
    if (limit !== undefined) {
      throw new InvalidArgumentError(`give ${own} only (--limit is its old spelling)`);
    }
    io.err(`doconv: eval --limit is now ${own} (the limit of --split ${split})`);
    limit = flags.limit;
  }
  let batchSize = flags.evalBatchSize;
  if (flags.batchSize !== undefined) {
    if (cmd.getOptionValueSource('evalBatchSize') !== 'default') {
      throw new InvalidArgumentError(
        'give --eval-batch-size only (--batch-size is its old spelling in eval)',
      );
    }
    io.err('doconv: eval --batch-size is now --eval-batch-size (as in train and compare)');
    batchSize = flags.batchSize;
  }
  return { limit, batchSize };
}
