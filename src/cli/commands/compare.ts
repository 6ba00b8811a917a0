/** `doconv compare`: parse, call compareConvs, print the table. */
import { Command, Option } from 'commander';
import * as path from 'node:path';
import { compareConvs, resolveConfig } from '../../train/index.js';
import { compareTaskConvs } from '../../train/taskCompare.js';
import {
  addRecipeOptions,
  baseName,
  integerList,
  pathText,
  positiveInt,
  type RecipeFlags,
} from '../options.js';
import { type CliIO, commandLine } from '../print.js';
import type { ZooTask } from '../../models/index.js';
import { formatTaskScores, recipeOrTask, TASK_CHOICES } from '../taskCommands.js';

interface CompareFlags extends RecipeFlags {
  runs: number;
  seeds?: number[];
  out?: string;
  runsDir?: string;
  name?: string;
  jobs: number;
  json?: boolean;
  allowEngineChange?: boolean;
  task?: ZooTask;
}

export function compareCommand(io: CliIO): Command {
  const cmd = new Command('compare')
    .summary('baseline vs DO-Conv over seeds 1..N: table, JSON, SVG')
    .description(
      "Train the baseline (conv) and DO-Conv with one recipe and seeds 1..N, and print the official README's table\n" +
        '(run1..runN, avg, +) with mean ± std. Writes OUT/NAME.json ({command, date, machine, backend, engine, runs: {conv, doconv}, …}),\n' +
        'OUT/NAME.md (the table) and OUT/NAME.svg (per-epoch test accuracy of every run). Finished runs are reused and\n' +
        'interrupted ones resume, so an interrupted comparison continues when run again.',
    );
  addRecipeOptions(cmd)
    .addOption(
      new Option('--runs <n>', 'runs per conv (seeds 1..N)').argParser(positiveInt).default(5),
    )
    .addOption(
      new Option('--seeds <list>', 'explicit seeds instead of 1..N, e.g. 1,2,3').argParser(
        integerList,
      ),
    )
    .addOption(
      new Option('--out <dir>', 'output folder (default runs/compare-NAME)').argParser(pathText),
    )
    .addOption(
      new Option(
        '--runs-dir <dir>',
        'folder for the per-run training folders (default OUT/runs)',
      ).argParser(pathText),
    )
    .addOption(
      new Option(
        '--name <name>',
        'base name of the JSON/MD/SVG files (default: the preset, else the model)',
      ).argParser(baseName),
    )
    .addOption(
      new Option(
        '--jobs <n>',
        'runs trained side by side, one worker thread (core) each; every run stays the single-thread run, bit for bit',
      )
        .argParser(positiveInt)
        .default(1),
    )
    .option('--json', 'print the JSON record instead of the table')
    .option(
      '--allow-engine-change',
      'resume interrupted runs whose checkpoint another engine or oneDNN thread count wrote (their numbers then differ from uninterrupted runs)',
    )
    .addOption(
      new Option(
        '--task <task>',
        "what to train for (default: the model's own task); segmentation/detection without --model take deeplab-mini/centernet-mini on mnist-scenes",
      ).choices(TASK_CHOICES),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ doconv compare --preset tf-mnist-sample --runs 5                    # the official TF table
  $ doconv compare --preset tf-mnist-sample --runs 5 --jobs 2           # two runs at a time, each on its share of the cores
  $ doconv compare --preset pt-mnist-sample --runs 5 --out results --runs-dir /tmp/pt-runs
  $ doconv compare --preset pt-mnist-sample --epochs 15 --name pt-mnist-sample-15ep
  $ doconv compare --preset tf-mnist-sample --runs 1 --epochs 1 --train-limit 6000   # a quick look
  $ doconv compare --model resnet-20 --dataset fashion-mnist --epochs 1 --runs 3 --optimizer sgd --lr 0.1 --momentum 0.9 \\
      --schedule cosine --schedule-unit step --weight-decay 1e-4 --normalize dataset --workers 2   # results/fashion-resnet20
  $ doconv compare --task segmentation --runs 3 --jobs 2 --out results      # deeplab-mini on mnist-scenes: mIoU
  $ doconv compare --model centernet-mini --runs 3 --jobs 2 --out results   # AP@0.5 and AP@[.5:.95]`,
    )
    .action(async (flags: CompareFlags) => {
      const { recipe, dense } = recipeOrTask(cmd, flags);
      const name =
        flags.name ?? (dense ? dense.model : (flags.preset ?? resolveConfig(recipe).model));
      const common = {
        seeds: flags.seeds ?? Array.from({ length: flags.runs }, (_, i) => i + 1),
        out: flags.out ?? path.join('runs', `compare-${name}`),
        runsDir: flags.runsDir,
        name,
        command: commandLine(),
        backend: flags.backend,
        jobs: flags.jobs,
        allowEngineChange: flags.allowEngineChange,
        log: io.err,
      };
      // Each finished run, on stderr: "finished: doconv seed 2: test accuracy 98.70 %".
      const ended =
        <S extends { conv: string; seed: number }>(scores: (s: S) => string) =>
        (s: S, reused: boolean) =>
          io.err(`${reused ? 'reused' : 'finished'}: ${s.conv} seed ${s.seed}: ${scores(s)}`);
      const result = dense
        ? await compareTaskConvs({
            ...dense,
            ...common,
            onRunEnd: ended((s) => formatTaskScores(s.test)),
          })
        : await compareConvs({
            ...recipe,
            ...common,
            progress: flags.progress,
            onRunEnd: ended((s) => `test accuracy ${(s.testAccuracy * 100).toFixed(2)} %`),
          });
      io.out(
        flags.json
          ? JSON.stringify(result.record, null, 2)
          : `${result.table}\nwrote ${result.files.join(', ')}`,
      );
    });
  return cmd;
}
