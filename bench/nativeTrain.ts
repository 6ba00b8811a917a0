/**
 * Phase-1 measurement of the native engine inside real training steps (trainOnBatch, the trainer's
 * Adam), one configuration per process so registrations never mix:
 *   npx tsx bench/nativeTrain.ts --net resnet20 --engine native|wasm [--workers 0|2]
 *     [--variants conv,doconv] [--windows 5] [--steps 2] [--warmup 2] [--threads 1]
 * Prints img/s per window (variants interleaved) and one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../src/index.js';
import { Adam } from '../src/train/optimizers.js';
import { createParallelTrainer } from '../src/train/parallel/parallelTrainer.js';
import { enableNativeEngine } from '../src/engine/native/enableNative.js';
import { nativeAddon } from '../src/engine/native/nativeAddon.js';
import { nets } from './nets.js';
import { variants } from './variants.js';

const flag = (n: string, d: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const spec = nets[flag('net', 'resnet20')];
const engine = flag('engine', 'native');
const workers = Number(flag('workers', '0'));
const variantNames = flag('variants', 'conv,doconv').split(',');
const windows = Number(flag('windows', '5'));
const steps = Number(flag('steps', spec.name === 'resnet20' ? '2' : '40'));
const warmup = Number(flag('warmup', '2'));

registerWasmTrainingKernels();
if (engine === 'native') {
  const state = enableNativeEngine();
  if (!state.on) throw new Error(`native engine off: ${state.reason}`);
  nativeAddon()!.setThreads(Number(flag('threads', '1')));
}
await tf.setBackend('wasm');
const x = tf.randomNormal([spec.batch, ...spec.inputShape], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([spec.batch], 0, spec.classes, 'int32', 2), spec.classes);

const steppers: Record<string, () => Promise<number>> = {};
for (const v of variantNames) {
  const model = spec.build(variants[v]);
  if (workers > 0) {
    const trainer = await createParallelTrainer({
      model,
      optimizer: new Adam({ learningRate: 1e-3 }),
      loss: 'categoricalCrossentropy',
      workers,
    });
    steppers[v] = async () => (await trainer.trainStep(x, y)).loss;
  } else {
    model.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
    steppers[v] = async () => (await model.trainOnBatch(x, y)) as number;
  }
}
const rates: Record<string, number[]> = {};
const losses: Record<string, number[]> = {};
for (const v of variantNames) {
  losses[v] = [];
  for (let i = 0; i < warmup; i++) losses[v].push(await steppers[v]());
  rates[v] = [];
}
for (let w = 0; w < windows; w++) {
  const order = w % 2 === 0 ? variantNames : [...variantNames].reverse();
  for (const v of order) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) losses[v].push(await steppers[v]());
    rates[v].push((spec.batch * steps) / ((performance.now() - t0) / 1000));
  }
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
for (const v of variantNames) {
  console.log(
    `${spec.name} ${v} ${engine}${workers ? ` ${workers} workers` : ''}: median ${median(rates[v]).toFixed(1)} img/s, windows ${rates[v].map((r) => r.toFixed(1)).join(' ')}; loss ${losses[v][0].toFixed(4)} → ${losses[v].at(-1)!.toFixed(4)}`,
  );
}
console.log(JSON.stringify({ net: spec.name, engine, workers, rates, losses }));
process.exit(0);
