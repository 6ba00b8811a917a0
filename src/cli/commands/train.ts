/** `doconv train`: parse, call trainModel, print the summary. */
import { Command, InvalidArgumentError, Option } from 'commander';
import * as path from 'node:path';
import {
  addRecipeOptions,
  integer,
  CONV_CHOICES,
  pathText,
  recipeFromFlags,
  type RecipeFlags,
} from '../options.js';
import { type CliIO, commandLine, keyValues, percent } from '../print.js';
import {
  CHECKPOINT_DIR,
  describeEngine,
  FOLDED_DIR,
  METRICS_FILE,
  SUMMARY_FILE,
  trainModel,
  type TrainSummary,
} from '../../train/index.js';
import type { ConvKind, ZooTask } from '../../models/index.js';
import { resolveTask, runTaskTrain, TASK_CHOICES, taskRecipeFromFlags } from '../taskCommands.js';

interface TrainFlags extends RecipeFlags {
  conv: ConvKind;
  seed: number;
  out: string;
  resume?: boolean;
  allowEngineChange?: boolean;
  overwrite?: boolean;
  fold: boolean;
  json?: boolean;
  task?: ZooTask;
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
    .addOption(new Option('--out <dir>', 'output folder').argParser(pathText).makeOptionMandatory())
    .addOption(
      new Option(
        '--task <task>',
        "what to train for (default: the model's own task); segmentation/detection without --model take deeplab-mini/centernet-mini on mnist-scenes",
      ).choices(TASK_CHOICES),
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
  $ doconv train --model centernet-mini --conv conv --train-limit 4000 --out runs/det`,
    )
    .action(async (flags: TrainFlags) => {
      let recipe;
      let dense;
      try {
        const task = resolveTask(flags);
        dense = task && taskRecipeFromFlags(flags, task.model);
        recipe = dense ? null : recipeFromFlags(flags);
      } catch (e) {
        if (e instanceof InvalidArgumentError) cmd.error(`error: ${e.message}`);
        throw e;
      }
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
        if (dense) {
          await runTaskTrain(io, dense, flags, abort.signal);
          return;
        }
        const { summary, model, folded } = await trainModel({
          ...recipe!,
          conv: flags.conv,
          seed: flags.seed,
          out: flags.out,
          resume: flags.resume,
          allowEngineChange: flags.allowEngineChange,
          overwrite: flags.overwrite,
          fold: flags.fold,
          backend: flags.backend,
          progress: flags.progress,
          signal: abort.signal,
        });
        model.dispose();
        folded?.dispose();
        io.out(
          flags.json ? JSON.stringify(summary, null, 2) : formatTrainSummary(summary, flags.out),
        );
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

/** The text `doconv train` prints at the end. */
export function formatTrainSummary(s: TrainSummary, out: string): string {
  const rows: Array<[string, string]> = [
    [
      'model',
      `${s.model} (${s.conv}), ${s.parameters.trained} parameters${s.parameters.folded !== null ? `, ${s.parameters.folded} folded` : ''}`,
    ],
    ['data', `${s.dataset}: ${s.trainImages} train / ${s.testImages} test images`],
    [
      'run',
      `${s.epochs} epoch${s.epochs > 1 ? 's' : ''}, seed ${s.seed}, backend ${s.backend}, engine ${describeEngine(s.engine)}, ${s.imagesPerSecond.toFixed(0)} img/s`,
    ],
    ['test accuracy', `${percent(s.testAccuracy)} (loss ${s.testLoss.toFixed(4)})`],
  ];
  if (s.foldedTestAccuracy !== null) {
    rows.push([
      'folded accuracy',
      `${percent(s.foldedTestAccuracy)} (max |Δ logits| ${s.maxAbsLogitDiff?.toExponential(2)})`,
    ]);
  }
  const files = [
    METRICS_FILE,
    `${CHECKPOINT_DIR}/`,
    ...(s.foldedTestAccuracy !== null ? [`${FOLDED_DIR}/`] : []),
    SUMMARY_FILE,
  ];
  rows.push(['wrote', files.map((f) => path.join(out, f)).join(', ')]);
  return keyValues(rows);
}
