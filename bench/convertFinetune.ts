/**
 * Does DO-Conv help when it starts from trained weights? A conv net (tf-mnist-sample, plain convs) is
 * trained on Fashion-MNIST, then fine-tuned N more epochs twice per seed from the same trained model:
 * as it is (Conv) and converted to DO-Conv (overparameterize: same function, D = 0). Both arms use
 * one recipe (optimizer, rate, batch, epochs, data); only the seed (shuffling) changes between
 * runs. Writes OUT/NAME.{json,md} (default results/convert-finetune-fashion-mnist).
 *
 *     DOCONV_NATIVE_THREADS=1 npx tsx bench/convertFinetune.ts [--train-limit N] [--test-limit N]
 *       [--base-epochs N] [--epochs N] [--seeds N] [--lr X] [--runs-dir DIR] [--out DIR] [--name NAME]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelBuilder, trainModel, type TrainSummary } from '../src/node.js';
import { machineRecord } from './resultFile.js';

const { values } = parseArgs({
  options: {
    'train-limit': { type: 'string', default: '12000' },
    'test-limit': { type: 'string', default: '10000' },
    'base-epochs': { type: 'string', default: '4' },
    epochs: { type: 'string', default: '3' },
    seeds: { type: 'string', default: '3' },
    lr: { type: 'string', default: '0.0003' },
    'runs-dir': { type: 'string', default: 'runs/convert-finetune' },
    out: { type: 'string', default: 'results' },
    name: { type: 'string', default: 'convert-finetune-fashion-mnist' },
  },
});
const num = (key: keyof typeof values) => Number(values[key]);
const data = {
  dataset: 'fashion-mnist' as const,
  trainLimit: num('train-limit'),
  testLimit: num('test-limit'),
  backend: 'wasm' as const,
  overwrite: true,
  fold: false,
  progress: 'none' as const,
};
const runsDir = values['runs-dir']!;
const started = Date.now();
const cpuStart = process.cpuUsage();

const base = await trainModel({
  ...data,
  model: 'tf-mnist-sample',
  conv: 'conv',
  seed: 1,
  epochs: num('base-epochs'),
  fold: true,
  out: join(runsDir, 'base'),
});
console.log(`base: test accuracy ${(100 * base.summary.testAccuracy).toFixed(2)} %`);
base.model.dispose();
base.folded?.dispose();
const trained = await loadModelBuilder(join(runsDir, 'base', 'folded', 'model.json'));

const finetune = { epochs: num('epochs'), lr: num('lr') };
const arms = { conv: [] as TrainSummary[], doconv: [] as TrainSummary[] };
const curves = { conv: [] as number[][], doconv: [] as number[][] };
for (let seed = 1; seed <= num('seeds'); seed++) {
  for (const conv of ['conv', 'doconv'] as const) {
    const run = await trainModel({
      ...data,
      ...finetune,
      model: trained,
      conv,
      seed,
      out: join(runsDir, `${conv}-${seed}`),
    });
    arms[conv].push(run.summary);
    curves[conv].push(run.history.map((e) => 100 * e.testAccuracy));
    console.log(
      `seed ${seed} ${conv}: test accuracy ${(100 * run.summary.testAccuracy).toFixed(2)} %`,
    );
    run.model.dispose();
  }
}

const pct = (s: TrainSummary) => 100 * s.testAccuracy;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) =>
  Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(xs.length - 1, 1));
const conv = arms.conv.map(pct);
const doconv = arms.doconv.map(pct);
const diffs = doconv.map((d, i) => d - conv[i]);
const cpuSeconds = (process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system) / 1e6;
const result = {
  date: new Date().toISOString(),
  machine: machineRecord(),
  engine: base.summary.engine,
  command:
    `DOCONV_NATIVE_THREADS=${process.env.DOCONV_NATIVE_THREADS ?? ''} npx tsx bench/convertFinetune.ts ${process.argv.slice(2).join(' ')}`.trim(),
  wallSeconds: (Date.now() - started) / 1000,
  cpuSeconds,
  recipe: { model: 'tf-mnist-sample', ...data, baseEpochs: num('base-epochs'), ...finetune },
  base: { testAccuracy: pct(base.summary), config: base.summary.config },
  finetuneConfig: arms.doconv[0]?.config,
  runs: { conv, doconv },
  summary: {
    conv: { mean: mean(conv), std: std(conv) },
    doconv: { mean: mean(doconv), std: std(doconv) },
    pairedDifference: { mean: mean(diffs), std: std(diffs), perSeed: diffs },
  },
  /** Test accuracy (%) after each fine-tuning epoch, per seed. */
  curves,
};
mkdirSync(values.out!, { recursive: true });
const name = join(values.out!, values.name!);
writeFileSync(`${name}.json`, JSON.stringify(result, null, 2) + '\n');
const f = (x: number) => x.toFixed(2);
const row = (label: string, xs: number[]) =>
  `| ${label} | ${xs.map(f).join(' | ')} | ${f(mean(xs))} ± ${f(std(xs))} |`;
writeFileSync(
  `${name}.md`,
  [
    `Fine-tuning a trained conv net as Conv vs as converted DO-Conv (test accuracy %, Fashion-MNIST, ` +
      `${data.trainLimit} training / ${data.testLimit} test images; base ${f(pct(base.summary))} % after ` +
      `${num('base-epochs')} epochs; then ${finetune.epochs} epochs at lr ${finetune.lr}, same recipe both arms).`,
    '',
    `| arm | ${conv.map((_, i) => `seed ${i + 1}`).join(' | ')} | mean ± std |`,
    `| --- | ${conv.map(() => '---').join(' | ')} | --- |`,
    row('Conv', conv),
    row('DO-Conv', doconv),
    row('DO-Conv − Conv', diffs),
    '',
    `Command: \`${result.command}\` · ${result.date} · ${result.machine.cpuModel} (${result.machine.cores} cores, ` +
      `shared) · engine ${JSON.stringify(result.engine)} · ${f(cpuSeconds)} CPU s.`,
    '',
  ].join('\n'),
);
console.log(`wrote ${name}.json and ${name}.md`);
