/**
 * The browser side of backends.test.ts, bundled by esbuild into a page: `runDoConvChecks(backend)`
 * computes, on that tfjs backend, a small DO-Conv net's forward pass, the gradients of an MSE loss
 * for the input and every weight, the weights after 5 Adam steps, and the folded model's output —
 * all from the same seeded weights and data, so the cpu backend's numbers are the reference.
 * The net has a DO-Conv (groups 1, bias, relu), a DO-DConv (depth multiplier 2) and a strided
 * DO-GConv (groups 2), then a dense layer.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { doConv2d, doDepthwiseConv2d, foldModel } from '../../../src/index.js';

/** mulberry32: the same numbers on every backend and browser. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(shape: number[], seed: number, scale: number): tf.Tensor {
  const next = seeded(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => (next() - 0.5) * 2 * scale),
    shape,
  );
}

function buildNet(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      doConv2d({
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        inputShape: [8, 8, 4],
      }),
      doDepthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
      doConv2d({ filters: 4, kernelSize: 3, groups: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
  // Random D as well as W: an identity D would hide a wrong composition.
  model.setWeights(model.getWeights().map((w, i) => uniform(w.shape, 100 + i, 0.4)));
  return model;
}

export type CheckResult = Record<string, number[]>;

export async function runDoConvChecks(backend: string): Promise<CheckResult> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  await tf.ready();
  const model = buildNet();
  const x = uniform([2, 8, 8, 4], 1, 1);
  const target = uniform([2, 3], 2, 1);
  const loss = (input: tf.Tensor) =>
    tf.losses.meanSquaredError(target, model.apply(input) as tf.Tensor) as tf.Scalar;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Read back with data(), not dataSync(): WebGPU's synchronous read gives zeros on SwiftShader.
  const kept: [string, tf.Tensor][] = [];
  const keep = (name: string, t: tf.Tensor) => kept.push([name, tf.keep(t.clone())]);

  tf.tidy(() => keep('forward', model.predict(x) as tf.Tensor));
  tf.tidy(() => {
    keep('grad input', tf.grad(loss)(x));
    const { grads } = tf.variableGrads(() => loss(x), variables);
    // By position: layer names differ between models (do_conv2d_1, do_conv2d_2 …).
    variables.forEach((v, i) => keep(`grad weight ${i}`, grads[v.name]));
  });
  // Explicit epsilon: tf.train.adam's default is the backend's, 1e-4 on a float16 WebGL.
  const adam = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  for (let step = 0; step < 5; step++) adam.minimize(() => loss(x), false, variables);
  variables.forEach((v, i) => keep(`adam weight ${i}`, v));
  const folded = foldModel(model);
  tf.tidy(() => {
    keep('folded forward', folded.predict(x) as tf.Tensor);
    keep('trained forward', model.predict(x) as tf.Tensor);
  });
  const out: CheckResult = {};
  for (const [name, t] of kept) out[name] = Array.from(await t.data());
  tf.dispose(kept.map(([, t]) => t));
  adam.dispose();
  model.dispose();
  folded.dispose();
  tf.dispose([x, target]);
  return out;
}

/** What this browser offers: tfjs can initialise WebGL / WebGPU here. */
export async function availableBackends(): Promise<string[]> {
  const found: string[] = [];
  for (const name of ['cpu', 'webgl', 'webgpu']) {
    try {
      if (await tf.setBackend(name)) found.push(name);
    } catch {
      // not here
    }
  }
  return found;
}

export function describeWebgpu(): Promise<string> {
  return (async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (gpu == null) return 'no navigator.gpu';
    const adapter = (await gpu.requestAdapter()) as {
      info?: { vendor?: string; architecture?: string; description?: string };
    } | null;
    if (adapter == null) return 'no adapter';
    const info = adapter.info ?? {};
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
  })();
}

Object.assign(globalThis, { runDoConvChecks, availableBackends, describeWebgpu });
