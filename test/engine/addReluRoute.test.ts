/**
 * The residual Add+ReLU fusion (layers/addRelu.ts, util/addReluOp.ts): the native kernel gives Add
 * then Relu's bits; ResNet-20 trains to the same losses and weights with it as without it; a small
 * residual graph matches the cpu backend fused, and nothing is fused where the Add's output goes
 * anywhere but one plain ReLU (ReLU6 after it, a model output, three inputs, a call by hand);
 * nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import '../../src/layers/addRelu.js';
import { unfusedAddRelu } from '../../src/engine/native/nativeAddRelu.js';
import { buildModel } from '../../src/models/zoo.js';
import { ADD_RELU } from '../../src/util/addReluOp.js';
import { expectMatchesCpu, withoutKernel } from './fusionRoute.js';
import { host } from './helpers.js';
import { describeNative, nativeEngineForThisFile, skipReason } from './nativeSetup.js';

nativeEngineForThisFile();

const withoutFusion = <T>(f: () => Promise<T>) => withoutKernel(ADD_RELU, f);
const matchesCpu = (make: () => tf.LayersModel) =>
  expectMatchesCpu(make, { outputs: 1e-6, grads: 1e-5 });

/** `addInputs` convs of the input → Add → `relu`, and what `tail` makes of the Add and the ReLU. */
function residualModel(
  tail: (add: tf.SymbolicTensor, relu: tf.SymbolicTensor) => tf.SymbolicTensor[],
  relu: () => tf.layers.Layer = () => tf.layers.reLU(),
  addInputs = 2,
): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  const convs = Array.from({ length: addInputs }, (_, i) =>
    tf.layers
      .conv2d({
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 7 + i }),
      })
      .apply(input),
  ) as tf.SymbolicTensor[];
  const add = tf.layers.add().apply(convs) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tail(add, relu().apply(add) as tf.SymbolicTensor) });
}

describeNative(`residual Add+ReLU fused${skipReason}`, () => {
  it('the kernel gives Add then Relu bit for bit (negatives, zeros, NaN, infinities)', () => {
    const special = [-1.5, -0, 0, 1e-30, -1e-30, NaN, Infinity, -Infinity, 3.25, -3.25];
    const a = tf.tensor([...special, ...host([40], 1).values], [5, 10]);
    const b = tf.tensor([...special.map((v) => -v / 2), ...host([40], 2).values], [5, 10]);
    const fused = tf.engine().runKernel(ADD_RELU, { a, b }) as tf.Tensor;
    const unfused = tf.relu(tf.add(a, b));
    expect(Array.from(fused.dataSync())).toEqual(Array.from(unfused.dataSync()));
    // what an addon built before the kernel runs instead
    const backend = tf.backend() as unknown as Parameters<typeof unfusedAddRelu>[0]['backend'];
    const stale = tf
      .engine()
      .makeTensorFromTensorInfo(unfusedAddRelu({ inputs: { a, b }, backend, attrs: {} }));
    expect(Array.from(stale.dataSync())).toEqual(Array.from(unfused.dataSync()));
    expect(() => tf.engine().runKernel(ADD_RELU, { a, b: tf.zeros([5, 1]) })).toThrow(
      /DoconvAddRelu: a and b must be float32 of one shape, got a float32 \[5,10\] and b float32 \[5,1\]/,
    );
    tf.dispose([a, b, fused, unfused, stale]);
  });

  it('resnet-20 trains to the same losses and weights fused as unfused', async () => {
    const train = async () => {
      const model = buildModel('resnet-20', {
        conv: 'doconv',
        inputShape: [8, 8, 3],
        numClasses: 4,
        seed: 3,
      });
      model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
      const x = tf.tensor(host([4, 8, 8, 3], 5).values, [4, 8, 8, 3]);
      const y = tf.tensor(host([4, 4], 6).values, [4, 4]);
      const losses = [(await model.trainOnBatch(x, y)) as number];
      const before = tf.memory().numTensors;
      const { kernels } = await tf.profile(async () => {
        losses.push((await model.trainOnBatch(x, y)) as number);
      });
      const kernelNames = kernels.map((k) => k.name);
      losses.push((await model.trainOnBatch(x, y)) as number);
      expect(tf.memory().numTensors, 'tensors after the steps').toBe(before);
      const weights = await Promise.all(
        model.getWeights().map((w) => w.data() as Promise<Float32Array>),
      );
      tf.dispose([x, y]);
      model.dispose();
      return { losses, weights, kernelNames };
    };
    const fused = await train();
    const unfused = await withoutFusion(train);
    const count = (names: string[], name: string) => names.filter((k) => k === name).length;
    expect(count(fused.kernelNames, ADD_RELU)).toBe(9);
    expect(count(fused.kernelNames, 'Relu')).toBe(count(unfused.kernelNames, 'Relu') - 9);
    expect(unfused.kernelNames).not.toContain(ADD_RELU);
    expect(Float32Array.from(fused.losses)).toEqual(Float32Array.from(unfused.losses));
    expect(fused.weights.length).toBe(unfused.weights.length);
    fused.weights.forEach((w, i) => expect(w, `weight ${i}`).toEqual(unfused.weights[i]));
  });

  it('fuses Add → ReLU and Add → Activation relu, as cpu computes them', async () => {
    for (const relu of [
      () => tf.layers.reLU(),
      () => tf.layers.activation({ activation: 'relu' }),
    ]) {
      const ours = await matchesCpu(() => residualModel((_, r) => [r], relu));
      expect(ours.kernels).toContain(ADD_RELU);
      expect(ours.kernels).not.toContain('Relu');
    }
  });

  it('does not fuse before ReLU6, where the sum is a model output too, or for three inputs', async () => {
    const relu6 = await matchesCpu(() =>
      residualModel(
        (_, r) => [r],
        () => tf.layers.reLU({ maxValue: 6 }),
      ),
    );
    const asOutput = await matchesCpu(() => residualModel((add, r) => [add, r]));
    const three = await matchesCpu(() => residualModel((_, r) => [r], undefined, 3));
    for (const run of [relu6, asOutput, three]) expect(run.kernels).not.toContain(ADD_RELU);
    expect(asOutput.outputs[0].some((v) => v < 0)).toBe(true); // the Add's own output
  });

  it('an Add layer called by hand is not fused', async () => {
    const model = residualModel((_, r) => [r]);
    const add = model.layers.find((l) => l.getClassName() === 'Add')!;
    const a = tf.tensor(host([2, 6, 6, 3], 3).values, [2, 6, 6, 3]);
    const b = tf.tensor(host([2, 6, 6, 3], 4).values, [2, 6, 6, 3]);
    let z: tf.Tensor | undefined;
    const { kernelNames } = await tf.profile(() => {
      z = add.apply([a, b]) as tf.Tensor;
    });
    expect(kernelNames).not.toContain(ADD_RELU);
    expect((await z!.data()).some((v) => v < 0)).toBe(true);
    tf.dispose([a, b, z!]);
    model.dispose();
  });
});
