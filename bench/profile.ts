/**
 * Where a training step's time goes, kernel by kernel, on one backend (tf.profile).
 *   npx tsx bench/profile.ts [--net resnet20] [--variant conv] [--backend wasm] [--steps 2] [--by-shape] [--top 30]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../src/index.js';
import { nets } from './nets.js';
import { variants } from './variants.js';

const flag = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

async function main() {
  registerWasmTrainingKernels();
  const spec = nets[flag('net', 'mnist-sample')];
  await tf.setBackend(flag('backend', 'wasm'));
  const model = spec.build(variants[flag('variant', 'conv')]);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([spec.batch, ...spec.inputShape]);
  const y = tf.oneHot(tf.randomUniform([spec.batch], 0, spec.classes, 'int32'), spec.classes);
  await model.trainOnBatch(x, y);
  const steps = Number(flag('steps', '2'));
  // --by-shape: split conv kernels by input shapes; --by-shape-all: split every kernel.
  const byShapeAll = process.argv.includes('--by-shape-all');
  const byShape = byShapeAll || process.argv.includes('--by-shape');
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  });
  const wall = performance.now() - t0;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    // tf.profile also lists op-level wrappers (e.g. fusedConv2d__op) around their kernels: skip them.
    if (k.name.endsWith('__op')) continue;
    const key =
      k.name +
      (byShape && (byShapeAll || k.name.includes('Conv'))
        ? ` ${JSON.stringify(k.inputShapes)}`
        : '');
    const e = byKernel.get(key) ?? { ms: 0, calls: 0 };
    e.ms += (k.kernelTimeMs as number) / steps;
    e.calls += 1 / steps;
    byKernel.set(key, e);
  }
  const total = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
  console.log(
    `${spec.name} ${flag('variant', 'conv')} on ${tf.getBackend()}: ${(wall / steps).toFixed(0)} ms/step wall (profiled), kernels ${total.toFixed(0)} ms`,
  );
  for (const [k, e] of [...byKernel]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, Number(flag('top', '30')))) {
    console.log(`${e.ms.toFixed(1).padStart(8)} ms ${e.calls.toFixed(0).padStart(4)}×  ${k}`);
  }
}
main();
