/**
 * Where a training step's time goes, kernel by kernel (tf.profile), split into the forward+backward
 * pass and the optimizer update (Adam), on one backend, one thread.
 *
 *   npx tsx bench/profile.ts [--net resnet20] [--variant doconv] [--backend wasm] [--steps 2]
 *     [--by-shape] [--top 30] [--vs-torch] [--engine wasm|native]
 *
 * --vs-torch (npm run bench:profile): also profiles the same step in PyTorch on one thread
 * (bench/torch_profile.py), prints both side by side by kernel group — forward conv, conv backward
 * (input, filter), update, the rest — and writes results/profile-<net>-<variant>-<date>.json.
 * Not a test: never asserts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { registerWasmTrainingKernels } from '../src/index.js';
// The trainer's Adam (Keras form): one fused kernel per variable on wasm.
import { Adam } from '../src/train/optimizers.js';
import { enableNativeEngine } from '../src/engine/native/enableNative.js';
import { nets } from './nets.js';
import { variants } from './variants.js';

const flag = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

interface KernelTime {
  ms: number;
  calls: number;
}
type Profile = Map<string, KernelTime>;

/** Kernel times per step of `fn`, run `steps` times under tf.profile. */
async function profileKernels(
  fn: () => void,
  steps: number,
  keyOf: (k: { name: string; inputShapes: unknown }) => string,
): Promise<{ kernels: Profile; wallMs: number }> {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    for (let i = 0; i < steps; i++) fn();
  });
  const wallMs = (performance.now() - t0) / steps;
  const kernels: Profile = new Map();
  for (const k of info.kernels) {
    // tf.profile also lists op-level wrappers (e.g. fusedConv2d__op) around their kernels: skip them.
    if (k.name.endsWith('__op')) continue;
    const key = keyOf(k);
    const e = kernels.get(key) ?? { ms: 0, calls: 0 };
    e.ms += (k.kernelTimeMs as number) / steps;
    e.calls += 1 / steps;
    kernels.set(key, e);
  }
  return { kernels, wallMs };
}

const total = (p: Profile) => [...p.values()].reduce((a, b) => a + b.ms, 0);

function printTop(title: string, p: Profile, top: number): void {
  console.log(`${title}: kernels ${total(p).toFixed(0)} ms/step`);
  for (const [k, e] of [...p].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`${e.ms.toFixed(1).padStart(8)} ms ${e.calls.toFixed(0).padStart(4)}×  ${k}`);
  }
}

/** The kernel groups both frameworks can be compared on. */
const GROUPS = ['forward conv', 'conv backward: input', 'conv backward: filter'] as const;
function tfjsGroup(kernel: string): string {
  if (/^(Conv2D|FusedConv2D|DepthwiseConv2dNative)$/.test(kernel)) return 'forward conv';
  if (/BackpropInput$/.test(kernel)) return 'conv backward: input';
  if (/BackpropFilter$/.test(kernel)) return 'conv backward: filter';
  return 'rest of forward+backward';
}
function torchGroup(op: string): string {
  if (
    /^aten::(mkldnn_convolution|_slow_conv2d_forward|thnn_conv2d|_nnpack_spatial_convolution)$/.test(
      op,
    )
  )
    return 'forward conv';
  // oneDNN computes both conv gradients in one op: reported as one group.
  if (
    /^aten::(convolution_backward|mkldnn_convolution_backward.*|_slow_conv2d_backward.*)$/.test(op)
  )
    return 'conv backward: input + filter';
  return 'rest of forward+backward';
}

function groupSums(p: Profile, groupOf: (name: string) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, e] of p) out[groupOf(k)] = (out[groupOf(k)] ?? 0) + e.ms;
  return out;
}

interface TorchProfile {
  version: string;
  threads: number;
  passes: Array<{ key: string; ms: number; calls: number }>;
  update: Array<{ key: string; ms: number; calls: number }>;
  passWallMs: number;
  updateWallMs: number;
}

function runTorch(net: string, variant: string, steps: number): TorchProfile | null {
  const r = spawnSync(
    '/usr/bin/python3',
    ['bench/torch_profile.py', net, variant, String(steps), '1', '--json'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) {
    console.log(
      `PyTorch profile skipped: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`,
    );
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchProfile;
}

const toProfile = (rows: TorchProfile['passes']): Profile =>
  new Map(rows.map((r) => [r.key, { ms: r.ms, calls: r.calls }]));

async function main() {
  registerWasmTrainingKernels();
  const netName = flag('net', 'resnet20');
  const variant = flag('variant', 'doconv');
  const spec = nets[netName];
  if (spec === undefined)
    throw new Error(
      `--net: unknown ${JSON.stringify(netName)}; known: ${Object.keys(nets).join(', ')}`,
    );
  await tf.setBackend(flag('backend', 'wasm'));
  if (flag('engine', 'wasm') === 'native') {
    const state = enableNativeEngine();
    if (!state.on) throw new Error(`--engine native: the native engine is off (${state.reason})`);
  }
  const model = spec.build(variants[variant]);
  const optimizer = new Adam({ learningRate: 1e-3 });
  const x = tf.randomNormal([spec.batch, ...spec.inputShape]);
  const y = tf.oneHot(tf.randomUniform([spec.batch], 0, spec.classes, 'int32'), spec.classes);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // The nets end in softmax: Keras's categorical cross-entropy on probabilities.
  const loss = () =>
    tf.metrics
      .categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)
      .mean() as tf.Scalar;
  let grads: tf.NamedTensorMap = {};
  const passes = () => {
    tf.dispose(grads);
    const r = tf.variableGrads(loss, vars);
    r.value.dispose();
    grads = r.grads;
  };
  const update = () => optimizer.applyGradients(grads as Record<string, tf.Variable>);
  for (let i = 0; i < 2; i++) {
    passes();
    update();
  }
  const steps = Number(flag('steps', '2'));
  // --by-shape: split conv kernels by input shapes; --by-shape-all: split every kernel.
  const byShapeAll = process.argv.includes('--by-shape-all');
  const byShape = byShapeAll || process.argv.includes('--by-shape');
  const keyOf = (k: { name: string; inputShapes: unknown }) =>
    k.name +
    (byShape && (byShapeAll || k.name.includes('Conv')) ? ` ${JSON.stringify(k.inputShapes)}` : '');
  // Passes and update alternate as in training, profiled separately.
  const pass = { kernels: new Map() as Profile, wallMs: 0 };
  const upd = { kernels: new Map() as Profile, wallMs: 0 };
  for (let i = 0; i < steps; i++) {
    for (const [target, fn] of [
      [pass, passes],
      [upd, update],
    ] as const) {
      const r = await profileKernels(fn, 1, keyOf);
      target.wallMs += r.wallMs / steps;
      for (const [k, e] of r.kernels) {
        const t = target.kernels.get(k) ?? { ms: 0, calls: 0 };
        target.kernels.set(k, { ms: t.ms + e.ms / steps, calls: t.calls + e.calls / steps });
      }
    }
  }
  tf.dispose([x, y, ...Object.values(grads)]);
  const top = Number(flag('top', '30'));
  const title = `${spec.name} ${variant} on ${tf.getBackend()}, batch ${spec.batch}`;
  printTop(`${title}, forward+backward (${pass.wallMs.toFixed(0)} ms wall)`, pass.kernels, top);
  printTop(`${title}, Adam update (${upd.wallMs.toFixed(0)} ms wall)`, upd.kernels, 10);
  if (!process.argv.includes('--vs-torch')) return;

  const torch = runTorch(netName, variant, Math.max(steps, 3));
  const ours: Record<string, number> = {
    ...groupSums(pass.kernels, tfjsGroup),
    update: total(upd.kernels),
  };
  const rows: Array<[string, string, string, string]> = [];
  const fmt = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(0));
  let theirs: Record<string, number> = {};
  if (torch !== null) {
    theirs = {
      ...groupSums(toProfile(torch.passes), torchGroup),
      update: total(toProfile(torch.update)),
    };
    printTop(
      `PyTorch ${torch.version}, 1 thread, forward+backward (${torch.passWallMs.toFixed(0)} ms wall)`,
      toProfile(torch.passes),
      15,
    );
    printTop(
      `PyTorch, Adam update (${torch.updateWallMs.toFixed(0)} ms wall)`,
      toProfile(torch.update),
      8,
    );
  }
  const convBack = (o: Record<string, number>) =>
    (o['conv backward: input'] ?? 0) +
    (o['conv backward: filter'] ?? 0) +
    (o['conv backward: input + filter'] ?? 0);
  for (const g of GROUPS)
    rows.push([g, fmt(ours[g]), g === 'forward conv' ? fmt(theirs[g]) : '', '']);
  rows.push([
    'conv backward, both',
    fmt(convBack(ours)),
    fmt(torch ? convBack(theirs) : undefined),
    '',
  ]);
  rows.push([
    'rest of forward+backward',
    fmt(ours['rest of forward+backward']),
    fmt(theirs['rest of forward+backward']),
    '',
  ]);
  rows.push(['Adam update', fmt(ours.update), fmt(theirs.update), '']);
  rows.push([
    'step (wall)',
    fmt(pass.wallMs + upd.wallMs),
    fmt(torch ? torch.passWallMs + torch.updateWallMs : undefined),
    '',
  ]);
  for (const r of rows) {
    const a = Number(r[1]);
    const b = Number(r[2]);
    r[3] = r[2] !== '' && r[2] !== '—' && b > 0 ? `${(a / b).toFixed(1)}×` : '';
  }
  console.log(`\nms per step, one thread: ${spec.name} ${variant}, batch ${spec.batch}`);
  console.log(
    ['group', 'doconv wasm', 'PyTorch', 'wasm/PyTorch'].map((s) => s.padEnd(26)).join(''),
  );
  for (const r of rows) console.log(r.map((s) => s.padEnd(26)).join(''));
  const date = new Date().toISOString();
  const out = {
    date,
    command: `npx tsx bench/profile.ts ${process.argv.slice(2).join(' ')}`,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load1m: os.loadavg()[0] },
    net: spec.name,
    variant,
    batch: spec.batch,
    steps,
    groupsMs: { doconv: ours, pytorch: torch ? theirs : null },
    doconv: {
      backend: tf.getBackend(),
      passWallMs: pass.wallMs,
      updateWallMs: upd.wallMs,
      passes: Object.fromEntries(pass.kernels),
      update: Object.fromEntries(upd.kernels),
    },
    pytorch: torch,
  };
  mkdirSync('results', { recursive: true });
  const file = `results/profile-${netName}-${variant}-${date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${file}`);
}

main().catch((e) => {
  // Caught here: wasm's emscripten handler would otherwise print its whole source on an uncaught error.
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
