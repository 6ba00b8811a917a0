/**
 * What the trainer's non-finite check costs (src/train/nonFinite.ts: loss + Σ_g Σ g, read with the
 * loss): its time against a whole forward+backward step, per net and engine, DO-Conv. Prints and
 * writes results/finite-check-<date>.json. Usage: npx tsx bench/finiteCheck.ts [--steps 10]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { doConv2d } from '../src/layers/DOConv2D.js';
import '../src/engine/register.js';
import { disableNativeEngine, enableNativeEngine } from '../src/engine/native/enableNative.js';
import { finiteProbe } from '../src/train/nonFinite.js';
import { nets } from './nets.js';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(netName: string) {
  const spec = nets[netName];
  const model = spec.build((args) => doConv2d(args));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.randomNormal([spec.batch, ...spec.inputShape], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([spec.batch], 0, spec.classes, 'int32', 2), spec.classes);
  const step: number[] = [];
  const probe: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    tf.tidy(() => {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
        vars,
      );
      value.dataSync();
      const t1 = performance.now();
      finiteProbe(value, Object.values(grads)).dataSync();
      const t2 = performance.now();
      if (i >= 2) {
        step.push(t1 - t0);
        probe.push(t2 - t1);
      }
    });
  }
  tf.dispose([x, y]);
  model.dispose();
  const stepMs = median(step);
  const probeMs = median(probe);
  return { net: netName, variables: vars.length, stepMs, probeMs, share: probeMs / stepMs };
}

await tf.setBackend('wasm');
const rows = [];
for (const engine of ['wasm', 'native'] as const) {
  if (engine === 'native') {
    if (!enableNativeEngine().on) continue;
  } else disableNativeEngine();
  for (const net of ['mnist-sample', 'resnet20']) {
    const r = { engine, ...(await measure(net)) };
    rows.push(r);
    console.log(
      `${engine.padEnd(6)} ${net.padEnd(13)} step ${r.stepMs.toFixed(1)} ms, check ${r.probeMs.toFixed(2)} ms (${(100 * r.share).toFixed(2)} %)`,
    );
  }
}
const date = new Date().toISOString();
mkdirSync('results', { recursive: true });
const file = `results/finite-check-${date.replace(/[:.]/g, '-')}.json`;
writeFileSync(
  file,
  JSON.stringify(
    { command: `npx tsx bench/finiteCheck.ts --steps ${steps}`, date, steps, rows },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${file}`);
