/**
 * Shared by the tests of doconv's layer fusions (batchNormReluRoute, addReluRoute): a graph run on
 * a backend (training-mode outputs and weight gradients, with the kernels it ran), the same run
 * against cpu, and a run with a fused kernel unregistered.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { host, relativeError } from './helpers.js';
import { NATIVE_HOST } from './nativeSetup.js';

/** Runs `f` with `kernelName` unregistered on the native host (its route then never fires). */
export async function withoutKernel<T>(kernelName: string, f: () => Promise<T>): Promise<T> {
  const kernel = tf.getKernel(kernelName, NATIVE_HOST)!;
  tf.unregisterKernel(kernelName, NATIVE_HOST);
  try {
    return await f();
  } finally {
    tf.registerKernel(kernel);
  }
}

export interface GraphRun {
  outputs: Float32Array[];
  grads: Float32Array[];
  kernels: string[];
}

/**
 * Training-mode outputs of a fresh `make()` (input [4, 6, 6, 3]) on `backend`, and
 * ∂(Σ outputs·R)/∂weights; the gradient pass leaves no tensor behind.
 */
export async function graphRun(backend: string, make: () => tf.LayersModel): Promise<GraphRun> {
  await tf.setBackend(backend);
  const model = make();
  const x = tf.tensor(host([4, 6, 6, 3], 9).values, [4, 6, 6, 3]);
  let outs: tf.Tensor[] = [];
  const { kernelNames } = await tf.profile(() => {
    outs = [model.apply(x, { training: true })].flat() as tf.Tensor[];
  });
  const loss = () =>
    tf.addN(
      ([model.apply(x, { training: true })].flat() as tf.Tensor[]).map((t, i) =>
        tf.sum(tf.mul(t, tf.tensor(host(t.shape, 20 + i).values, t.shape))),
      ),
    ) as tf.Scalar;
  const before = tf.memory().numTensors;
  const { grads, value } = tf.variableGrads(loss);
  const data = (t: tf.Tensor) => t.data() as Promise<Float32Array>;
  const out = {
    outputs: await Promise.all(outs.map(data)),
    grads: await Promise.all(Object.values(grads).map(data)),
    kernels: kernelNames,
  };
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors, 'tensors left by a gradient pass').toBe(before);
  tf.dispose([x, ...outs]);
  model.dispose();
  await tf.setBackend(NATIVE_HOST);
  return out;
}

/** The native host's run of `make()`, checked against cpu's to `tolerance` (outputs, gradients). */
export async function expectMatchesCpu(
  make: () => tf.LayersModel,
  tolerance: { outputs: number; grads: number },
): Promise<GraphRun> {
  const ours = await graphRun(NATIVE_HOST, make);
  const cpu = await graphRun('cpu', make);
  expect(ours.outputs.length).toBe(cpu.outputs.length);
  ours.outputs.forEach((o, i) =>
    expect(relativeError(o, cpu.outputs[i]), `output ${i}`).toBeLessThan(tolerance.outputs),
  );
  expect(ours.grads.length).toBe(cpu.grads.length);
  ours.grads.forEach((g, i) =>
    expect(relativeError(g, cpu.grads[i]), `grad ${i}`).toBeLessThan(tolerance.grads),
  );
  return ours;
}
