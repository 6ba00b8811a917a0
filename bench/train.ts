/**
 * npm run bench:train — training throughput (images/s) of the benchmark nets, Conv vs DO-Conv,
 * on wasm (doconv's kernels) and cpu, side by side with PyTorch when `import torch` works.
 * Random data, fixed step counts; writes results/train-<date>.json. Not a test: never asserts.
 *
 *   npx tsx bench/train.ts [--nets mnist-sample,resnet20] [--variants conv,doconv]
 *     [--steps-mnist-sample 40] [--steps-resnet20 6] [--cpu-steps 2] [--no-torch] [--no-cpu]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { registerWasmTrainingKernels } from '../src/index.js';
import { nets, type NetSpec } from './nets.js';
import { variants } from './variants.js';

interface Row {
  net: string;
  variant: string;
  backend: string;
  batch: number;
  steps: number;
  imagesPerSec: number;
  firstLoss?: number;
  lastLoss?: number;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string) => process.argv.includes(`--${name}`);

const netNames = (flag('nets') ?? 'mnist-sample,resnet20').split(',');
const variantNames = (flag('variants') ?? 'conv,doconv').split(',');
const defaultSteps: Record<string, number> = { 'mnist-sample': 40, resnet20: 6 };
const cpuSteps = Number(flag('cpu-steps') ?? 2);
for (const n of netNames)
  if (!(n in nets))
    throw new Error(
      `--nets: unknown net ${JSON.stringify(n)}; known ${JSON.stringify(Object.keys(nets))}`,
    );
for (const v of variantNames)
  if (!(v in variants))
    throw new Error(
      `--variants: unknown variant ${JSON.stringify(v)}; known ${JSON.stringify(Object.keys(variants))}`,
    );

async function timeTraining(
  spec: NetSpec,
  variant: string,
  backend: string,
  steps: number,
): Promise<Row> {
  await tf.setBackend(backend);
  const model = spec.build(variants[variant]);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([spec.batch, ...spec.inputShape]);
  const labels = tf.randomUniform([spec.batch], 0, spec.classes, 'int32');
  const y = tf.oneHot(labels, spec.classes);
  // Warm-up: XNNPACK operator creation, optimizer slots, first-call compilation.
  const firstLoss = (await model.trainOnBatch(x, y)) as number;
  const t0 = performance.now();
  let lastLoss = firstLoss;
  for (let i = 0; i < steps; i++) lastLoss = (await model.trainOnBatch(x, y)) as number;
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  tf.dispose([x, labels, y]);
  return {
    net: spec.name,
    variant,
    backend,
    batch: spec.batch,
    steps,
    imagesPerSec: (spec.batch * steps) / seconds,
    firstLoss,
    lastLoss,
  };
}

/** First python with torch: $PYTHON, then python3 on PATH, then Debian's (python3-torch lives there). */
function findTorchPython(): string | undefined {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => !!p,
  );
  return candidates.find(
    (py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
  );
}

function runTorch(
  python: string,
  jobs: Array<{ net: string; variant: string; steps: number; batch: number }>,
): Row[] {
  const r = spawnSync(python, ['bench/torch_train.py', JSON.stringify(jobs)], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) {
    console.error(`PyTorch side failed (status ${r.status}):\n${r.stderr}`);
    return [];
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Row[];
}

async function main() {
  registerWasmTrainingKernels();
  // Other processes share this machine's cores; the load average says how far to trust the figures.
  const loadBefore = os.loadavg();
  const rows: Row[] = [];
  for (const n of netNames) {
    const spec = nets[n];
    const steps = Number(flag(`steps-${n}`) ?? defaultSteps[n]);
    for (const v of variantNames) {
      const row = await timeTraining(spec, v, 'wasm', steps);
      console.log(
        `${n} ${v} wasm: ${row.imagesPerSec.toFixed(1)} img/s (loss ${row.firstLoss?.toFixed(3)} → ${row.lastLoss?.toFixed(3)})`,
      );
      rows.push(row);
      // One ResNet-20 step on cpu takes many minutes: cpu for the MNIST net only.
      if (n === 'mnist-sample' && !has('no-cpu')) {
        const c = await timeTraining(spec, v, 'cpu', cpuSteps);
        console.log(`${n} ${v} cpu: ${c.imagesPerSec.toFixed(1)} img/s`);
        rows.push(c);
      }
    }
  }
  const python = has('no-torch') ? undefined : findTorchPython();
  if (python) {
    const jobs = netNames.flatMap((n) =>
      variantNames.map((v) => ({
        net: n,
        variant: v,
        batch: nets[n].batch,
        steps: Number(flag(`steps-${n}`) ?? defaultSteps[n]) * 2,
      })),
    );
    const torchRows = runTorch(python, jobs);
    for (const r of torchRows)
      console.log(`${r.net} ${r.variant} pytorch: ${r.imagesPerSec.toFixed(1)} img/s`);
    rows.push(...torchRows);
  } else {
    console.log(
      has('no-torch')
        ? 'PyTorch: skipped (--no-torch)'
        : 'PyTorch: not available (no python with "import torch")',
    );
  }

  printTable(rows);
  const date = new Date().toISOString();
  const cpus = os.cpus();
  const out = {
    date,
    machine: {
      cpuModel: cpus[0]?.model,
      cores: cpus.length,
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
    },
    loadAverage1m: { before: loadBefore[0], after: os.loadavg()[0] },
    tfjs: tf.version.tfjs,
    command: `npx tsx bench/train.ts ${process.argv.slice(2).join(' ')}`.trim(),
    rows,
  };
  mkdirSync('results', { recursive: true });
  const file = `results/train-${date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

function printTable(rows: Row[]) {
  const find = (net: string, variant: string, backend: string) =>
    rows.find((r) => r.net === net && r.variant === variant && r.backend === backend)?.imagesPerSec;
  const pct = (a?: number, b?: number) => (a && b ? `${((b / a - 1) * 100).toFixed(1)}%` : '—');
  const x = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
  const header = [
    'net',
    'variant',
    'wasm img/s',
    'cpu img/s',
    'wasm/cpu',
    'torch img/s',
    'wasm/torch',
    'DO overhead wasm',
    'DO overhead torch',
  ];
  const lines = [header];
  for (const n of netNames)
    for (const v of variantNames) {
      const w = find(n, v, 'wasm');
      const c = find(n, v, 'cpu');
      const t = find(n, v, 'pytorch');
      const isDo = v !== 'conv';
      lines.push([
        n,
        v,
        w?.toFixed(1) ?? '—',
        c?.toFixed(1) ?? '—',
        x(w, c),
        t?.toFixed(1) ?? '—',
        x(w, t),
        // overhead = how much slower the variant is than conv: conv/variant − 1
        isDo ? pct(w, find(n, 'conv', 'wasm')) : '',
        isDo ? pct(t, find(n, 'conv', 'pytorch')) : '',
      ]);
    }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  '));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
