/** `doconv compare`: parse, call compareConvs, print the table. */
import { Command, Option } from 'commander';
import * as path from 'node:path';
import {
  type CompareOptions,
  compareConvs,
  comparisonName,
  type TaskTrainSummary,
  type TrainSummary,
} from '../../train/index.js';
import {
  addRecipeOptions,
  argParser,
  baseName,
  integerList,
  pathText,
  positiveInt,
  type RecipeFlags,
  recipeOrExit,
} from '../options.js';
import { RUN_COUNT } from '../../train/numberRules.js';
import { numberParser } from '../textParsers.js';
import { modelFromFlags } from '../modelPath.js';
import { type CliIO, commandLine, percent } from '../print.js';
import { formatTaskScores } from '../runSummary.js';

interface CompareFlags extends RecipeFlags {
  runs: number;
  seeds?: number[];
  out?: string;
  runsDir?: string;
  name?: string;
  jobs: number;
  json?: boolean;
  allowEngineChange?: boolean;
  oversubscribe?: boolean;
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
      new Option('--runs <n>', 'runs per conv (seeds 1..N)')
        .argParser(argParser(numberParser(RUN_COUNT)))
        .default(5),
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
        "base name of the JSON/MD/SVG files (default: the preset, else the model; a model.json: its folder's name)",
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
    .option(
      '--oversubscribe',
      "start --jobs and --workers past this machine's cores or what its free memory holds (refused otherwise)",
    )
    .option('--json', 'print the JSON record instead of the table')
    .option(
      '--allow-engine-change',
      'resume interrupted runs whose checkpoint another engine or oneDNN thread count wrote (their numbers then differ from uninterrupted runs)',
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
  $ doconv compare --model centernet-mini --runs 3 --jobs 2 --out results   # AP@0.5 and AP@[.5:.95]
  $ doconv compare --model my-net/model.json --dataset folder --data-dir photos --runs 3 --jobs 2   # your own model (name: my-net)`,
    )
    .action(async (flags: CompareFlags) => {
      const recipe = recipeOrExit(cmd, flags);
      // --model path/model.json: your own model, both sides (DO-Conv: over-parameterized), as train.
      recipe.model = await modelFromFlags(recipe.model, undefined);
      const name = comparisonName({ ...recipe, name: flags.name });
      const opts: CompareOptions = {
        ...recipe,
        seeds: flags.seeds ?? Array.from({ length: flags.runs }, (_, i) => i + 1),
        out: flags.out ?? path.join('runs', `compare-${name}`),
        runsDir: flags.runsDir,
        name,
        command: commandLine(),
        backend: flags.backend,
        progress: flags.progress,
        jobs: flags.jobs,
        allowEngineChange: flags.allowEngineChange,
        oversubscribe: flags.oversubscribe,
        log: io.err,
        // Each finished run, on stderr: "finished: doconv seed 2: test accuracy 98.70 %".
        onRunEnd: (s: TrainSummary | TaskTrainSummary, reused: boolean) =>
          io.err(`${reused ? 'reused' : 'finished'}: ${s.conv} seed ${s.seed}: ${scoresOf(s)}`),
      };
      const result = await compareConvs(opts);
      io.out(
        flags.json
          ? JSON.stringify(result.record, null, 2)
          : `${result.table}\nwrote ${result.files.join(', ')}`,
      );
    });
  return cmd;
}

/** A finished run's scores, as the line after it says them. */
function scoresOf(s: TrainSummary | TaskTrainSummary): string {
  return 'task' in s ? formatTaskScores(s.test) : `test accuracy ${percent(s.testAccuracy)}`;
}
