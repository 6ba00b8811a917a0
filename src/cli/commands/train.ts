/** `doconv train`: parse, call trainModel, print the summary. */
import { Command, Option } from 'commander';
import * as path from 'node:path';
import {
  addRecipeOptions,
  integer,
  CONV_CHOICES,
  pathText,
  type RecipeFlags,
  recipeOrExit,
} from '../options.js';
import { type CliIO, commandLine } from '../print.js';
import { CHECKPOINT_DIR, taskOf, trainModel, type TrainOptions } from '../../train/index.js';
import type { ConvKind } from '../../models/index.js';
import { runSummaryText } from '../runSummary.js';
import { modelFromFlags } from '../modelPath.js';
import { checkOutputPath } from '../../io/outputPaths.js';

interface TrainFlags extends RecipeFlags {
  conv: ConvKind;
  seed: number;
  out: string;
  resume?: boolean;
  allowEngineChange?: boolean;
  oversubscribe?: boolean;
  overwrite?: boolean;
  fold: boolean;
  json?: boolean;
  init?: string;
}

export function trainCommand(io: CliIO): Command {
  const cmd = new Command('train')
    .summary('train one model, checkpoint each epoch, fold and check it')
    .description(
      'Train one zoo model (seeded: same seed + engine → same result), checkpoint every epoch, then fold it and check the folded model.\n' +
        'Writes OUT/metrics.jsonl (a line per epoch), OUT/checkpoint/ (model, optimizer, epoch state), OUT/folded/ (folded TF.js model) and OUT/summary.json.',
    )
    .addOption(
      new Option('--conv <kind>', 'conv: plain convolutions (baseline); doconv: DO-Conv / DO-DConv')
        .choices(CONV_CHOICES)
        .default('doconv'),
    )
    .addOption(
      new Option('--seed <n>', 'seeds initialisation, shuffling and augmentation')
        .argParser(integer)
        .default(1),
    )
    .addOption(
      new Option('--out <dir>', 'output folder').argParser(pathText).makeOptionMandatory(),
    );
  addRecipeOptions(cmd)
    .option(
      '--resume',
      'continue the run in --out from its last checkpoint (to the same result as an uninterrupted run)',
    )
    .option(
      '--allow-engine-change',
      'with --resume: continue a checkpoint written on another engine or oneDNN thread count (the run then differs from an uninterrupted one)',
    )
    .addOption(
      new Option(
        '--init <path>',
        "starting weights: a saved model (model.json or its folder, e.g. doconv convert's output) whose layers match --model's by name",
      ).argParser(pathText),
    )
    .option(
      '--oversubscribe',
      "start --workers past this machine's cores or what its free memory holds (refused otherwise)",
    )
    .option('--overwrite', 'replace a run already in --out')
    .option('--no-fold', 'skip folding and the folded-model evaluation')
    .option('--json', 'print summary.json to stdout instead of the text summary')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv train --model tf-mnist-sample --conv doconv --epochs 1 --train-limit 6000 --seed 1 --out runs/quick
  $ doconv train --preset pt-mnist-sample --conv conv --seed 3 --out runs/pt-conv-3
  $ doconv train --preset tf-mnist-sample --out runs/tf --resume          # after an interruption (Ctrl-C)
  $ doconv train --model resnet-20 --dataset cifar10 --data-dir ~/cifar-10-batches-bin --epochs 30 --workers 2 --out runs/r20   # both cores
  $ doconv train --model resnet-20 --dataset cifar10 --data-dir DIR --schedule step --milestones 100,150 --epochs 200 --weight-decay 1e-4 --out runs/r20-long
  $ doconv train --task segmentation --conv doconv --epochs 6 --out runs/seg        # deeplab-mini on mnist-scenes
  $ doconv train --model centernet-mini --conv conv --train-limit 4000 --out runs/det
  $ doconv train --model my-net/model.json --conv doconv --dataset fashion-mnist --out runs/mine   # your own model (DO-Conv)
  $ doconv train --model tf-mnist-sample --conv doconv --init runs/converted --lr 1e-4 --out runs/ft   # after doconv convert`,
    )
    .action(async (flags: TrainFlags) => {
      // The run folder must not be (in, or hold) a folder or file the run reads.
      await checkOutputPath('--out', flags.out, [
        ...(flags.dataDir !== undefined ? [{ what: '--data-dir', path: flags.dataDir }] : []),
        ...(flags.init !== undefined ? [{ what: '--init', path: flags.init }] : []),
        ...(flags.model?.endsWith('.json') ? [{ what: '--model', path: flags.model }] : []),
      ]);
      const recipe = recipeOrExit(cmd, flags);
      if (flags.init !== undefined && taskOf(recipe) !== 'classification') {
        cmd.error('error: --init is for classification models');
      }
      recipe.model = await modelFromFlags(recipe.model, flags.init);
      // First Ctrl-C: stop between steps, keeping the last epoch checkpoint; a second one exits at once.
      // The second exits through process.exit, whose exit hook removes the lock on --out.
      const abort = new AbortController();
      const exitNow = () => process.exit(130);
      const onSigint = () => {
        process.off('SIGINT', onSigint);
        process.on('SIGINT', exitNow);
        io.err('\ninterrupted: stopping (Ctrl-C again to exit at once)');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const run: TrainOptions = {
          ...recipe,
          conv: flags.conv,
          seed: flags.seed,
          out: flags.out,
          resume: flags.resume,
          allowEngineChange: flags.allowEngineChange,
          oversubscribe: flags.oversubscribe,
          overwrite: flags.overwrite,
          fold: flags.fold,
          backend: flags.backend,
          progress: flags.progress,
          signal: abort.signal,
        };
        io.out(runSummaryText(await trainModel(run), flags));
      } catch (e) {
        if (abort.signal.aborted) {
          const again = commandLine().includes('--resume')
            ? commandLine()
            : `${commandLine()} --resume`;
          io.err(
            `stopped; the last finished epoch is in ${path.join(flags.out, CHECKPOINT_DIR)}. Continue with:\n  ${again}`,
          );
          process.exitCode = 130;
          return;
        }
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGINT', exitNow);
      }
    });
  return cmd;
}
