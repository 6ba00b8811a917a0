/**
 * npm run bench:infer — inference cost of the zoo nets after folding.
 *
 * For each zoo net (MNIST nets on 28×28×1, the others on 32×32×3), four timings per batch size:
 * - tfjs-wasm conv:            the plain-conv twin, BN fused (foldModel) — the cost of a conv net;
 * - tfjs-wasm doconv-unfolded: the DO-Conv model as trained (kernels composed on every call, BN apart);
 * - tfjs-wasm doconv-folded:   foldModel(doconv, {fuseBatchNorm}) — must cost what the conv twin costs;
 * - onnxruntime doconv-folded: exportOnnx of the folded model, on onnxruntime-node's CPU provider
 *   (its defaults), timed after the others (which are interleaved), in blocks alternating with
 *   the native plan's;
 * - tfjs-native (when the native engine's addon is built): the three TF.js models again with the
 *   native engine's oneDNN kernels over wasm's heap (--threads threads), switched on around each
 *   of its runs;
 * - doconv-native doconv-folded: model.predict of a copy of the folded model on the doconv-native
 *   backend (tensors in native memory, the backend useBestBackend picks);
 * - native-plan doconv-folded: compileInference(folded, {batchSize}) — the whole net as one
 *   compiled oneDNN plan (src/engine/native/inferencePlan.ts), Float32Array in and out as ORT,
 *   timed in 6 blocks of back-to-back runs alternating with onnxruntime's; the ratio per pair of
 *   blocks (onnxruntimeOverPlan in the JSON) with its median and spread;
 * Also records how far ONNX's outputs are from TF.js's (relative). Random weights and inputs.
 * Writes results/infer-<date>.json. Not a test: never asserts.
 *
 *   npx tsx bench/infer.ts [--models resnet-20,mobilenet-v2] [--batches 1,64] [--min-time 0.6]
 *     [--threads N] [--out DIR]
 *
 * The native engine and onnxruntime run with the same thread count, every core by default
 * (--threads N: oneDNN's threads and onnxruntime's intra-op threads alike). TF.js's wasm backend
 * runs single-threaded in Node whatever the count. Everything runs on the same cores as anything
 * else on the machine, so the load average is recorded beside the figures.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { DOConvBase, exportOnnx, foldModel } from '../src/index.js';
import { buildModel, zooModelNames, zooModelTask } from '../src/models/index.js';
import { disableNativeEngine, enableNativeEngine } from '../src/engine/native/enableNative.js';
import { nativeAddon } from '../src/engine/native/nativeAddon.js';
import { compileInference } from '../src/engine/native/inferencePlan.js';
import { registerNativeBackend } from '../src/engine/native/registerNativeBackend.js';
import { writeResult } from './resultFile.js';
import { summarize, type Summary } from './stats.js';

type Variant = 'conv' | 'doconv-unfolded' | 'doconv-folded';
type Runtime = 'tfjs-wasm' | 'tfjs-native' | 'doconv-native' | 'native-plan' | 'onnxruntime-cpu';

interface Row {
  model: string;
  inputShape: number[];
  batch: number;
  runtime: Runtime;
  variant: Variant;
  /** Median wall time of one batch, milliseconds. */
  msPerBatch: number;
  imagesPerSec: number;
  runs: number;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const models = (
  flag('models') ?? zooModelNames.filter((n) => zooModelTask(n) === 'classification').join(',')
).split(',');
const batches = (flag('batches') ?? '1,64').split(',').map(Number);
const minTime = Number(flag('min-time') ?? 0.6);
if (flag('ort-threads') !== undefined) {
  throw new Error(
    '--ort-threads is now --threads: one count for the native engine and onnxruntime',
  );
}
const threads = Number(flag('threads') ?? os.availableParallelism());
if (!Number.isInteger(threads) || threads < 1)
  throw new Error(`--threads: a positive integer, got ${flag('threads')}`);
for (const m of models) {
  if (!(zooModelNames as string[]).includes(m)) {
    throw new Error(
      `--models: unknown model ${JSON.stringify(m)}; known ${zooModelNames.join(', ')}`,
    );
  }
}
if (!batches.every((b) => Number.isInteger(b) && b > 0))
  throw new Error(`--batches: positive integers, got ${flag('batches')}`);

function inputShapeOf(name: string): [number, number, number] {
  return name.includes('mnist') || name === 'gluon-lenet' ? [28, 28, 1] : [32, 32, 3];
}

/** Random weights everywhere: D (zero at init) and BN statistics too, so nothing is trivially skipped. */
function randomize(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const weights = layer.weights.map((w) => {
      const name = w.originalName.split('/').pop();
      const shape = w.shape as number[];
      if (name === 'moving_variance' || name === 'gamma')
        return tf.randomUniform(shape, 0.5, 1.5, 'float32', s++);
      return tf.randomNormal(shape, 0, name === 'D' ? 0.1 : 0.05, 'float32', s++);
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

/**
 * Median time of each runner, measured in interleaved rounds (one run of each per round, so load
 * from other processes and cache warmth hit every contender alike): 2 warm-up runs each, then at
 * least 3 rounds and `minTime` seconds per contender.
 */
async function timeInterleaved(
  runners: (() => Promise<void>)[],
): Promise<{ ms: number; runs: number }[]> {
  for (const run of runners) {
    await run();
    await run();
  }
  const times: number[][] = runners.map(() => []);
  const start = performance.now();
  while (times[0].length < 5 || performance.now() - start < minTime * 1000 * runners.length) {
    for (const [i, run] of runners.entries()) {
      const t0 = performance.now();
      await run();
      times[i].push(performance.now() - t0);
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return { ms: t[Math.floor(t.length / 2)], runs: t.length };
  });
}

const BLOCKS = 6;

/**
 * The compiled plan (a) against onnxruntime (b): BLOCKS pairs of blocks, each runner's block run
 * back to back as a caller of either would (both keep their second thread awake between close
 * runs: the plan's helper spins 300 µs before it sleeps, onnxruntime's threads longer), with a
 * 200 ms pause after each block so neither's spinning threads take a core from the other's block.
 * Each block's median; the ratio b ÷ a per pair (how many times faster the plan is), so load from
 * other processes that comes and goes hits both sides of a pair alike.
 */
async function alternatingBlocks(a: () => Promise<void>, b: () => Promise<void>) {
  const pause = () => new Promise((resolve) => setTimeout(resolve, 200));
  const block = async (run: () => Promise<void>) => {
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 5 || performance.now() - start < (minTime * 1000) / 2) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    await pause();
    return { ms: summarize(times).median, runs: times.length };
  };
  // 30 warm-up runs: past a batch-1 plan's first 24, in which it times each of its ways in turn.
  for (const run of [a, b]) for (let i = 0; i < 30; i++) await run();
  const as: { ms: number; runs: number }[] = [];
  const bs: { ms: number; runs: number }[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    as.push(await block(a));
    bs.push(await block(b));
  }
  const perBlock = as.map((t, i) => bs[i].ms / t.ms);
  const total = (ts: { ms: number; runs: number }[]) => ({
    ms: summarize(ts.map((t) => t.ms)).median,
    runs: ts.reduce((n, t) => n + t.runs, 0),
  });
  return {
    a: total(as),
    b: total(bs),
    ratio: { perBlock, ...summarize(perBlock) },
  };
}

/**
 * A copy of `model` with its weights on the doconv-native backend (fresh tensors made there, so no
 * run moves data between backends), and `x` there too; the backend is wasm again after.
 */
async function onNativeBackend(
  model: tf.LayersModel,
  x: tf.Tensor,
): Promise<{ model: tf.LayersModel; x: tf.Tensor }> {
  const values = model.getWeights().map((w) => ({ data: w.dataSync().slice(), shape: w.shape }));
  const xData = x.dataSync().slice();
  await tf.setBackend('doconv-native');
  const copy = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) } as never);
  copy.setWeights(values.map((v) => tf.tensor(v.data, v.shape)));
  const nx = tf.tensor(xData, x.shape);
  await tf.setBackend('wasm');
  return { model: copy, x: nx };
}

/** model.predict on the doconv-native backend (switched to for the run only). */
function nativeBackendRunner(model: tf.LayersModel, x: tf.Tensor): () => Promise<void> {
  return async () => {
    await tf.setBackend('doconv-native');
    try {
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    } finally {
      await tf.setBackend('wasm');
    }
  };
}

function tfjsRunner(model: tf.LayersModel, x: tf.Tensor, native = false): () => Promise<void> {
  return async () => {
    // The engine is a registration: switch it for this run only (a few µs), so runs interleave.
    if (native) enableNativeEngine();
    try {
      const y = model.predict(x) as tf.Tensor;
      await y.data(); // wait for the backend to finish
      y.dispose();
    } finally {
      if (native) disableNativeEngine();
    }
  };
}

/**
 * Multiply-adds per image of the convs and dense layers (exact, noise-free: folded and conv twins
 * must agree), and for DO layers, the multiply-adds of composing their kernels (once per call).
 */
function multiplyAdds(model: tf.LayersModel): { perImage: number; compositionPerCall: number } {
  let perImage = 0;
  let compositionPerCall = 0;
  const counted = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense']);
  for (const layer of model.layers) {
    if (!(layer instanceof DOConvBase) && !counted.has(layer.getClassName())) continue;
    const config = layer.getConfig();
    const inShape = (layer.input as tf.SymbolicTensor).shape as number[];
    const outShape = (layer.output as tf.SymbolicTensor).shape as number[];
    const inCh = inShape.at(-1)!;
    const outCh = outShape.at(-1)!;
    const pixels = outShape.length === 4 ? outShape[1] * outShape[2] : 1;
    const kernel = config.kernelSize as number[] | undefined;
    const area = kernel ? kernel[0] * kernel[1] : 1;
    if (layer instanceof DOConvBase) {
      perImage += (pixels * area * inCh * outCh) / layer.convGroups;
      if (area > 1) compositionPerCall += (inCh * area * layer.dMul * outCh) / layer.convGroups;
      continue;
    }
    switch (layer.getClassName()) {
      case 'Conv2D':
        perImage += pixels * area * inCh * outCh;
        break;
      case 'DepthwiseConv2D':
        perImage += pixels * area * outCh;
        break;
      case 'SeparableConv2D': {
        const mid = inCh * (config.depthMultiplier as number);
        perImage += pixels * (area * mid + mid * outCh);
        break;
      }
      case 'Dense':
        perImage += inCh * outCh;
        break;
    }
  }
  return { perImage, compositionPerCall };
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

async function main() {
  await tf.setBackend('wasm');
  const nativeState = process.argv.includes('--no-native')
    ? { on: false, reason: '--no-native' }
    : enableNativeEngine(threads);
  disableNativeEngine();
  if (!nativeState.on) console.log(`native engine: skipped (${nativeState.reason})`);
  else registerNativeBackend();
  const loadBefore = os.loadavg();
  const rows: Row[] = [];
  const onnxError: Record<string, number> = {};
  const planSteps: Record<string, string[]> = {};
  const planError: Record<string, number> = {};
  const planVsOrt: Record<string, { perBlock: number[] } & Summary> = {};
  const macs: Record<string, Record<Variant, ReturnType<typeof multiplyAdds>>> = {};
  for (const [m, name] of models.entries()) {
    const inputShape = inputShapeOf(name);
    const conv = buildModel(name, { conv: 'conv', inputShape, numClasses: 10, seed: m });
    const doconv = buildModel(name, { conv: 'doconv', inputShape, numClasses: 10, seed: m });
    randomize(conv, m);
    randomize(doconv, m);
    const convFused = foldModel(conv, { fuseBatchNorm: true });
    const folded = foldModel(doconv, { fuseBatchNorm: true });
    const onnx = exportOnnx(folded);
    const tfjsModels: Record<Variant, tf.LayersModel> = {
      conv: convFused,
      'doconv-unfolded': doconv,
      'doconv-folded': folded,
    };
    macs[name] = {
      conv: multiplyAdds(convFused),
      'doconv-unfolded': multiplyAdds(doconv),
      'doconv-folded': multiplyAdds(folded),
    };
    console.log(
      `${name}: multiply-adds per image conv ${macs[name].conv.perImage}, DO folded ${macs[name]['doconv-folded'].perImage}; DO kernel composition ${macs[name]['doconv-unfolded'].compositionPerCall} per call`,
    );
    for (const batch of batches) {
      const x = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', batch);
      const add = (runtime: Runtime, variant: Variant, t: { ms: number; runs: number }) => {
        rows.push({
          model: name,
          inputShape,
          batch,
          runtime,
          variant,
          msPerBatch: t.ms,
          imagesPerSec: (1000 * batch) / t.ms,
          runs: t.runs,
        });
        console.log(
          `${name} batch ${batch} ${runtime} ${variant}: ${t.ms.toFixed(2)} ms (${t.runs} runs)`,
        );
      };
      const variants = Object.keys(tfjsModels) as Variant[];
      const xData = Float32Array.from(x.dataSync());
      const native = nativeState.on ? await onNativeBackend(folded, x) : null;
      const plan = nativeState.on ? compileInference(folded, { batchSize: batch }) : null;
      const timings = await timeInterleaved([
        ...variants.map((v) => tfjsRunner(tfjsModels[v], x)),
        ...(nativeState.on ? variants.map((v) => tfjsRunner(tfjsModels[v], x, true)) : []),
        ...(native ? [nativeBackendRunner(native.model, native.x)] : []),
      ]);
      variants.forEach((v, i) => add('tfjs-wasm', v, timings[i]));
      if (nativeState.on) {
        variants.forEach((v, i) => add('tfjs-native', v, timings[variants.length + i]));
        add('doconv-native', 'doconv-folded', timings[2 * variants.length]);
      }
      // onnxruntime's session is made after the others ran: its intra-op threads keep spinning
      // for a while after each run (its default), which took a core from whatever ran next when
      // it was interleaved with them (measured 2026-12-07: the native plan's batch-64 ResNet-20
      // ran 56–62 ms after an onnxruntime run, 46 ms after one with allow_spinning off,
      // onnxruntime itself 38–39 ms either way).
      const session = await ort.InferenceSession.create(onnx, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionProviders: ['cpu'],
      });
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', xData, x.shape) };
      const ortRun = async () => void (await session.run(feeds));
      if (plan) {
        const pair = await alternatingBlocks(async () => void plan.predict(xData), ortRun);
        add('native-plan', 'doconv-folded', pair.a);
        add('onnxruntime-cpu', 'doconv-folded', pair.b);
        planVsOrt[`${name} batch ${batch}`] = pair.ratio;
        planSteps[`${name} batch ${batch}`] = plan.describe().trim().split('\n');
        console.log(
          `${name} batch ${batch}: onnxruntime ÷ plan per block pair ${pair.ratio.perBlock.map((r) => r.toFixed(2)).join(' ')}, median ${pair.ratio.median.toFixed(2)}`,
        );
      } else {
        add('onnxruntime-cpu', 'doconv-folded', (await timeInterleaved([ortRun]))[0]);
      }
      if (plan) {
        const expected = tf.tidy(() => (folded.predict(x) as tf.Tensor).dataSync().slice());
        planError[`${name} batch ${batch}`] = relativeError(plan.predict(xData), expected);
        plan.dispose();
      }
      if (native) {
        native.model.dispose();
        native.x.dispose();
      }
      const onnxY = (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
      const tfY = folded.predict(x) as tf.Tensor;
      onnxError[`${name} batch ${batch}`] = relativeError(onnxY, tfY.dataSync());
      tf.dispose([x, tfY]);
      await session.release();
    }
    for (const model of [conv, doconv, convFused, folded]) model.dispose();
  }

  printTable(rows, macs);
  writeResult(
    'infer',
    'bench/infer.ts',
    {
      loadAverage1m: { before: loadBefore[0], after: os.loadavg()[0] },
      tfjs: tf.version.tfjs,
      tfjsWasm: {
        simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
        multithread: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
      },
      onnxruntime: { version: ort.env.versions.node, intraOpThreads: threads },
      native: nativeState.on
        ? { oneDnn: nativeState.oneDnn, threads: nativeAddon()?.getThreads() ?? null }
        : { off: nativeState.reason },
      env: { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? null },
      settings: { batches, minTimeSeconds: minTime, threads },
      multiplyAdds: macs,
      onnxVsTfjsRelativeError: onnxError,
      nativePlanVsTfjsRelativeError: planError,
      nativePlanSteps: planSteps,
      onnxruntimeOverPlan: planVsOrt,
      rows,
    },
    flag('out') ?? 'results',
  );
}

function printTable(
  rows: Row[],
  macs: Record<string, Record<Variant, ReturnType<typeof multiplyAdds>>>,
) {
  const ms = (model: string, batch: number, runtime: Runtime, variant: Variant) =>
    rows.find(
      (r) =>
        r.model === model && r.batch === batch && r.runtime === runtime && r.variant === variant,
    )?.msPerBatch;
  const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
  const header = [
    'model',
    'batch',
    'MMAC/img',
    'folded=conv',
    'conv ms',
    'DO unfolded ms',
    'DO folded ms',
    'folded/conv',
    'unfolded/folded',
    'ORT ms',
    'wasm/ORT',
    'native conv ms',
    'native DO folded ms',
    'ORT/native',
    'doconv-native ms',
    'ORT/doconv-native',
    'plan ms',
    'ORT/plan',
  ];
  const lines = [header];
  for (const model of models) {
    for (const batch of batches) {
      const conv = ms(model, batch, 'tfjs-wasm', 'conv');
      const unfolded = ms(model, batch, 'tfjs-wasm', 'doconv-unfolded');
      const folded = ms(model, batch, 'tfjs-wasm', 'doconv-folded');
      const onnx = ms(model, batch, 'onnxruntime-cpu', 'doconv-folded');
      const nConv = ms(model, batch, 'tfjs-native', 'conv');
      const nFolded = ms(model, batch, 'tfjs-native', 'doconv-folded');
      const backendFolded = ms(model, batch, 'doconv-native', 'doconv-folded');
      const planFolded = ms(model, batch, 'native-plan', 'doconv-folded');
      lines.push([
        model,
        String(batch),
        (macs[model].conv.perImage / 1e6).toFixed(2),
        macs[model].conv.perImage === macs[model]['doconv-folded'].perImage ? 'yes' : 'NO',
        conv?.toFixed(2) ?? '—',
        unfolded?.toFixed(2) ?? '—',
        folded?.toFixed(2) ?? '—',
        ratio(folded, conv),
        ratio(unfolded, folded),
        onnx?.toFixed(2) ?? '—',
        ratio(folded, onnx),
        nConv?.toFixed(2) ?? '—',
        nFolded?.toFixed(2) ?? '—',
        // ≥ 0.8× is the target: native throughput relative to onnxruntime's.
        ratio(onnx, nFolded),
        backendFolded?.toFixed(2) ?? '—',
        ratio(onnx, backendFolded),
        planFolded?.toFixed(2) ?? '—',
        ratio(onnx, planFolded),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  console.log(
    `\nTF.js wasm (single thread), native engine (${threads} oneDNN thread(s)) vs onnxruntime-node CPU (${threads} thread(s)); ms per batch, median`,
  );
  for (const line of lines)
    console.log(
      line.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '),
    );
}

await main();
