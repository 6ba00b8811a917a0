/**
 * Where a zoo net's training step goes, kernel by kernel, on the backend useBestBackend picks
 * (doconv-native where the addon is built): tf.profile over a few steps of trainOnBatch with the
 * trainer's Adam, kernels sorted by time, with the share each takes of the step.
 *
 *   npx tsx bench/profileZoo.ts --net mobilenet-v2 [--conv doconv] [--batch 32] [--steps 3] [--top 25]
 *     [--by-shape]
 * Not a test: never asserts.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { useBestBackend, type BackendName } from '../src/engine/useBestBackend.js';
import { Adam } from '../src/train/optimizers.js';
import { buildZooBenchModel, randomZooBatch, zooBenchNet } from './zooNets.js';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: 'resnet-20' },
    conv: { type: 'string', default: 'doconv' },
    batch: { type: 'string' },
    steps: { type: 'string', default: '3' },
    top: { type: 'string', default: '25' },
    'by-shape': { type: 'boolean', default: false },
    backend: { type: 'string' },
  },
});

const selection = await useBestBackend(
  values.backend ? { candidates: [values.backend as BackendName] } : {},
);
const net = zooBenchNet(values.net!);
const batch = values.batch ? Number(values.batch) : net.batch;
const model = buildZooBenchModel(
  net,
  values.conv as 'conv' | 'doconv',
  new Adam({ learningRate: 1e-3 }),
);
const { x, y } = randomZooBatch(net, model, batch);
for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);

const steps = Number(values.steps);
const t0 = performance.now();
const info = await tf.profile(async () => {
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
});
const wallMs = (performance.now() - t0) / steps;
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const key = values['by-shape'] ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
  const e = byKernel.get(key) ?? { ms: 0, calls: 0 };
  e.ms += (k.kernelTimeMs as number) / steps;
  e.calls += 1 / steps;
  byKernel.set(key, e);
}
const kernelMs = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(
  `${net.name} ${values.conv} batch ${batch} on ${selection.backend}: ${wallMs.toFixed(1)} ms/step under tf.profile ` +
    `(${((batch * 1000) / wallMs).toFixed(0)} img/s), kernels ${kernelMs.toFixed(1)} ms`,
);
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top));
for (const [name, e] of rows) {
  console.log(
    `${e.ms.toFixed(2).padStart(9)} ms ${((100 * e.ms) / kernelMs).toFixed(1).padStart(5)} % ${e.calls
      .toFixed(0)
      .padStart(4)}×  ${name}`,
  );
}
