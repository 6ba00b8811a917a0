/** `doconv fold IN OUT`: parse, call foldSavedModel, print. */
import { Command, Option } from 'commander';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  foldSavedModel,
  selectBackend,
} from '../../train/index.js';
import { existingDir, pathText, positiveInt } from '../options.js';
import { type CliIO, keyValues } from '../print.js';

interface FoldFlags {
  fuseBn: boolean;
  verify?: number;
  dataDir?: string;
  backend: BackendChoice;
  json?: boolean;
}

export function foldCommand(io: CliIO): Command {
  return new Command('fold')
    .summary('fold a saved model into standard layers')
    .description(
      'Fold a saved model: every DOConv2D / DODepthwiseConv2D becomes a standard conv holding its composed kernel, and\n' +
        'BatchNorms after linear convs are merged into them. The result loads with plain @tensorflow/tfjs.',
    )
    .argument('<in>', "model.json, or a folder holding one (e.g. a run's checkpoint/)", pathText)
    .argument('<out>', 'folder to write model.json + weights.bin into', pathText)
    .option('--no-fuse-bn', 'keep BatchNorm layers separate')
    .addOption(
      new Option(
        '--verify <n>',
        "compare logits of the folded and original model on N test images of the model's dataset",
      ).argParser(positiveInt),
    )
    .addOption(new Option('--data-dir <dir>', 'dataset folder for --verify').argParser(existingDir))
    .addOption(new Option('--backend <name>', 'backend').choices(BACKEND_CHOICES).default('auto'))
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv fold runs/quick/checkpoint runs/quick/folded-again
  $ doconv fold my-model/model.json deploy/ --verify 1000`,
    )
    .action(async (input: string, output: string, flags: FoldFlags) => {
      await selectBackend(flags.backend, io.err);
      const r = await foldSavedModel(input, output, {
        fuseBatchNorm: flags.fuseBn,
        verifyImages: flags.verify,
        dataDir: flags.dataDir,
      });
      io.out(
        flags.json
          ? JSON.stringify(r, null, 2)
          : keyValues([
              ['folded', `${r.input} → ${r.output}`],
              ['parameters', `${r.parameters.before} → ${r.parameters.after}`],
              ...(r.maxAbsLogitDiff !== null
                ? [['max |Δ logits|', r.maxAbsLogitDiff.toExponential(2)] as [string, string]]
                : []),
            ]),
      );
    });
}
