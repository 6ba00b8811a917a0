/** `doconv eval MODEL`: parse, call evaluateSavedModel, print. */
import { Command, Option } from 'commander';
import { DATASET_NAMES } from '../../data/loadDataset.js';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  evaluateSavedModel,
  type EvaluateSavedOptions,
  NORMALIZE_KINDS,
  selectBackend,
} from '../../train/index.js';
import { existingDir, positiveInt } from '../options.js';
import { type CliIO, keyValues, percent } from '../print.js';
import { evaluateSavedTaskModel, readSavedModelTask } from '../../train/taskSavedModels.js';
import { formatTaskScores } from '../taskCommands.js';

interface EvalFlags extends Omit<EvaluateSavedOptions, 'dataDir'> {
  dataDir?: string;
  backend: BackendChoice;
  json?: boolean;
}

export function evalCommand(io: CliIO): Command {
  return new Command('eval')
    .summary('evaluate a saved model on a dataset')
    .description(
      "Evaluate a saved TF.js model (a model.json, or a folder holding one: a run's checkpoint/ or folded/) on a dataset split.\n" +
        'Dataset and normalisation default to what the model was trained with (recorded by `doconv train`).',
    )
    .argument('<model>', 'model.json, or a folder holding one')
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
    .addOption(new Option('--limit <n>', 'first N images only').argParser(positiveInt))
    .addOption(
      new Option('--batch-size <n>', 'images per forward pass').argParser(positiveInt).default(256),
    )
    .addOption(
      new Option(
        '--normalize <kind>',
        'pixel normalisation (default: the one the model was trained with)',
      ).choices(NORMALIZE_KINDS),
    )
    .addOption(new Option('--backend <name>', 'backend').choices(BACKEND_CHOICES).default('auto'))
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv eval runs/quick/checkpoint
  $ doconv eval runs/quick/folded --limit 1000
  $ doconv eval runs/f/folded/model.json --dataset fashion-mnist --split train`,
    )
    .action(async (model: string, flags: EvalFlags) => {
      await selectBackend(flags.backend, io.err);
      if ((await readSavedModelTask(model)) !== null) {
        // A segmentation or detection model: scored on the mnist-scenes split it was trained with.
        const t = await evaluateSavedTaskModel(model, {
          split: flags.split,
          limit: flags.limit,
          batchSize: flags.batchSize,
        });
        io.out(
          flags.json
            ? JSON.stringify(t, null, 2)
            : keyValues([
                ['model', `${t.model} (${t.task}, ${t.parameters} parameters)`],
                ['data', `mnist-scenes ${t.split}, ${t.count} scenes`],
                ['scores', formatTaskScores(t)],
                ['loss', t.loss.toFixed(4)],
              ]),
        );
        return;
      }
      const r = await evaluateSavedModel(model, {
        dataset: flags.dataset,
        dataDir: flags.dataDir,
        split: flags.split,
        limit: flags.limit,
        batchSize: flags.batchSize,
        normalize: flags.normalize,
      });
      io.out(
        flags.json
          ? JSON.stringify(r, null, 2)
          : keyValues([
              ['model', `${r.model} (${r.parameters} parameters)`],
              ['data', `${r.dataset} ${r.split}, ${r.count} images, normalize ${r.normalize}`],
              ['accuracy', percent(r.accuracy)],
              ['loss', r.loss.toFixed(4)],
            ]),
      );
    });
}
