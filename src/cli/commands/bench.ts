/**
 * `doconv bench`: runs the repository's training benchmark (bench/train.ts, via tsx) when it is there,
 * else — or with --quick — a quick images/s measurement of one zoo model through the trainer's loop.
 */
import { Command, Option } from 'commander';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ZooModelName, zooModelNames } from '../../models/index.js';
import { BACKEND_CHOICES, type BackendChoice, measureTrainingSpeed } from '../../train/index.js';
import { CONV_CHOICES, positiveInt } from '../options.js';
import { type CliIO, keyValues } from '../print.js';

export const BENCH_SCRIPT = path.join('bench', 'train.ts');

interface BenchFlags {
  quick?: boolean;
  model: ZooModelName;
  conv?: 'conv' | 'doconv';
  batchSize: number;
  steps: number;
  dataset: 'mnist' | 'cifar10';
  backend: BackendChoice;
  workers: number;
  oversubscribe?: boolean;
  json?: boolean;
}

export function benchCommand(io: CliIO): Command {
  return new Command('bench')
    .summary('training speed (bench/train.ts, or a quick img/s)')
    .description(
      `Training speed. In a doconv checkout this runs ${BENCH_SCRIPT} (several nets; wasm vs cpu vs PyTorch; writes results/train-*.json),\n` +
        'passing on any arguments after --. Elsewhere, or with --quick, it times the trainer on random images of one zoo model.',
    )
    .option('--quick', `time one model here instead of running ${BENCH_SCRIPT}`)
    .addOption(
      new Option('--model <name>', 'zoo model (quick)')
        .choices(zooModelNames)
        .default('tf-mnist-sample'),
    )
    .addOption(
      new Option(
        '--conv <kind>',
        'conv kind (quick; default: both, and the DO-Conv time overhead)',
      ).choices(CONV_CHOICES),
    )
    .addOption(
      new Option('--dataset <shape>', 'input shape (quick): mnist 28×28×1 or cifar10 32×32×3')
        .choices(['mnist', 'cifar10'])
        .default('mnist'),
    )
    .addOption(
      new Option('--batch-size <n>', 'batch size (quick)').argParser(positiveInt).default(32),
    )
    .addOption(new Option('--steps <n>', 'timed steps (quick)').argParser(positiveInt).default(20))
    .addOption(
      new Option('--backend <name>', 'backend (quick)').choices(BACKEND_CHOICES).default('auto'),
    )
    .addOption(
      new Option('--workers <n>', 'worker threads (quick; see train --help)')
        .argParser(positiveInt)
        .default(1),
    )
    .option(
      '--oversubscribe',
      "(quick) start --workers past this machine's cores or what its free memory holds (refused otherwise)",
    )
    .option('--json', 'print the result as JSON (quick)')
    .argument('[script-args...]', `arguments for ${BENCH_SCRIPT} (after --)`)
    .addHelpText(
      'after',
      `
Examples:
  $ doconv bench                                   # npm run bench:train, in a checkout
  $ doconv bench -- --nets mnist-sample --no-torch
  $ doconv bench --quick --model resnet-20 --dataset cifar10 --batch-size 128 --steps 5`,
    )
    .action(async (scriptArgs: string[], flags: BenchFlags) => {
      if (!flags.quick && fs.existsSync(BENCH_SCRIPT)) {
        io.err(`running npx tsx ${BENCH_SCRIPT} ${scriptArgs.join(' ')}`.trim());
        const r = spawnSync('npx', ['tsx', BENCH_SCRIPT, ...scriptArgs], { stdio: 'inherit' });
        process.exitCode = r.status ?? 1;
        return;
      }
      const inputShape: [number, number, number] =
        flags.dataset === 'cifar10' ? [32, 32, 3] : [28, 28, 1];
      const convs = flags.conv ? [flags.conv] : (['conv', 'doconv'] as const);
      const results = [];
      // The backend/engine line once (the second measurement reuses the choice).
      let log: ((m: string) => void) | undefined = (m) => io.err(m);
      for (const conv of convs) {
        results.push(
          await measureTrainingSpeed({
            model: flags.model,
            conv,
            inputShape,
            batchSize: flags.batchSize,
            steps: flags.steps,
            backend: flags.backend,
            workers: flags.workers,
            oversubscribe: flags.oversubscribe,
            log,
          }),
        );
        log = undefined;
      }
      if (flags.json) {
        io.out(JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
        return;
      }
      const rows: Array<[string, string]> = results.map((r) => [
        `${r.model} ${r.conv}`,
        `${r.imagesPerSecond.toFixed(0)} img/s (batch ${r.batchSize}, ${r.steps} steps, ${(r.secondsPerStep * 1000).toFixed(1)} ms/step, ${r.backend} (${r.engine} engine)${r.workers > 1 ? `, ${r.workers} workers` : ''})`,
      ]);
      if (results.length === 2) {
        // Time per image of DO-Conv relative to conv.
        const overhead = (results[0].imagesPerSecond / results[1].imagesPerSecond - 1) * 100;
        rows.push([
          'DO-Conv vs conv',
          `${Math.abs(overhead).toFixed(1)} % ${overhead >= 0 ? 'slower' : 'faster'} per image`,
        ]);
      }
      io.out(keyValues(rows));
    });
}
