/**
 * BatchNorm in training as one op (util/batchNormTrainingOp.ts, engine/native/
 * nativeBatchNormTraining.ts) and doconv's BatchNormalization layer that runs it: outputs, batch
 * statistics, moving averages and gradients against TF.js's own layer and tf.moments + tf.batchNorm
 * on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import '../../src/layers/batchNormTraining.js';
import { BATCH_NORM_TRAINING } from '../../src/util/batchNormTrainingOp.js';
import { host, relativeError, type HostTensor } from './helpers.js';
import { describeNative, nativeEngineForThisFile, skipReason, NATIVE_HOST } from './nativeSetup.js';

nativeEngineForThisFile();

interface LayerRun {
  y: Float32Array;
  grads: Float32Array[];
  movingMean: Float32Array;
  movingVariance: Float32Array;
  kernels: string[];
}

/**
 * One training call of a BatchNormalization layer (`make`) on `backend`: its output, the gradients
 * of Σ y·R with respect to x, γ and β, and the moving statistics after the call.
 */
async function trainingCall(
  backend: string,
  make: () => tf.layers.Layer,
  x: HostTensor,
): Promise<LayerRun> {
  await tf.setBackend(backend);
  const layer = make();
  const input = tf.tensor(x.values, x.shape);
  layer.build(input.shape);
  const [gamma, beta] = layer.trainableWeights;
  // Weights other than the defaults, so scale and offset matter.
  for (const [w, seed] of [
    [gamma, 11],
    [beta, 12],
  ] as const) {
    const shape = w.shape as number[];
    w.write(tf.tensor(host(shape, seed).values, shape));
  }
  const r = tf.tensor(host(x.shape, 13).values, x.shape);
  let y: tf.Tensor | undefined;
  const { kernelNames } = await tf.profile(() => {
    y = layer.apply(input, { training: true }) as tf.Tensor;
  });
  const f = (xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, r));
  const { grads } = tf.variableGrads(
    () => f(input) as tf.Scalar,
    [gamma.read() as tf.Variable, beta.read() as tf.Variable],
  );
  const dx = tf.grad(f)(input);
  const weights = layer.getWeights();
  const out: LayerRun = {
    y: (await y!.data()) as Float32Array,
    grads: await Promise.all(
      [dx, ...Object.values(grads)].map((g) => g.data() as Promise<Float32Array>),
    ),
    movingMean: (await weights[2].data()) as Float32Array,
    movingVariance: (await weights[3].data()) as Float32Array,
    kernels: kernelNames,
  };
  tf.dispose([input, r, y!, dx, ...Object.values(grads)]);
  layer.weights.forEach((w) => w.dispose());
  await tf.setBackend(NATIVE_HOST);
  return out;
}

const args = { momentum: 0.9, epsilon: 1e-5 };

describeNative(`BatchNorm in training as one op${skipReason}`, () => {
  it.each([[[4, 5, 6, 3]], [[64, 16, 16, 16]], [[32, 10]], [[3, 7, 130]]])(
    'doconv’s layer on %j: y, gradients and moving statistics as TF.js’s layer on cpu',
    async (shape) => {
      const x = host(shape, 10);
      x.values.forEach((v, i) => (x.values[i] = 3 * v + 1)); // mean and variance away from 0 and 1
      const ours = await trainingCall(NATIVE_HOST, () => tf.layers.batchNormalization(args), x);
      const tfjs = await trainingCall('cpu', () => tf.layers.batchNormalization(args), x);
      expect(ours.kernels).toContain(BATCH_NORM_TRAINING);
      expect(ours.kernels).not.toContain('Square');
      expect(relativeError(ours.y, tfjs.y)).toBeLessThan(2e-5);
      ours.grads.forEach((g, i) =>
        expect(relativeError(g, tfjs.grads[i]), `grad ${i}`).toBeLessThan(5e-5),
      );
      expect(relativeError(ours.movingMean, tfjs.movingMean)).toBeLessThan(1e-5);
      expect(relativeError(ours.movingVariance, tfjs.movingVariance)).toBeLessThan(2e-5);
    },
  );

  it('the batch mean and variance outputs carry gradients too (a loss that uses them)', async () => {
    const shape = [8, 4, 4, 5];
    const x = host(shape, 20);
    const scale = host([5], 21);
    const offset = host([5], 22);
    const r = host(shape, 23);
    const [a, b] = [host([5], 24), host([5], 25)];
    const loss = (useOp: boolean) => (xt: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const [y, mean, variance] = useOp
        ? (tf.engine().runKernel(
            BATCH_NORM_TRAINING,
            { x: xt, scale: s, offset: o },
            {
              varianceEpsilon: 1e-3,
            },
          ) as tf.Tensor[])
        : (() => {
            const m = tf.moments(xt, [0, 1, 2]);
            return [tf.batchNorm(xt, m.mean, m.variance, o, s, 1e-3), m.mean, m.variance];
          })();
      const t = (h: HostTensor) => tf.tensor(h.values, h.shape);
      return tf.addN([
        tf.sum(tf.mul(y, t(r))),
        tf.sum(tf.mul(mean, t(a))),
        tf.sum(tf.mul(variance, t(b))),
      ]);
    };
    const run = async (backend: string, useOp: boolean) => {
      await tf.setBackend(backend);
      const inputs = [x, scale, offset].map((h) => tf.tensor(h.values, h.shape));
      const gs = tf.grads(loss(useOp))(inputs);
      const values = await Promise.all(gs.map((g) => g.data() as Promise<Float32Array>));
      tf.dispose([...inputs, ...gs]);
      await tf.setBackend(NATIVE_HOST);
      return values;
    };
    const ours = await run(NATIVE_HOST, true);
    const reference = await run('cpu', false);
    ours.forEach((g, i) => expect(relativeError(g, reference[i]), `grad ${i}`).toBeLessThan(5e-5));
  });

  it('keeps TF.js’s path in inference (the moving statistics)', async () => {
    const layer = tf.layers.batchNormalization(args);
    const input = tf.ones([2, 3, 3, 4]);
    const { kernelNames } = await tf.profile(() => tf.dispose(layer.apply(input) as tf.Tensor));
    expect(kernelNames).not.toContain(BATCH_NORM_TRAINING);
    expect(kernelNames).toContain('FusedBatchNorm');
    tf.dispose(input);
    layer.weights.forEach((w) => w.dispose());
  });

  it('names the op and the shapes on a mismatch, and never leaks', () => {
    const x = tf.zeros([2, 3, 4]);
    const scale = tf.zeros([3]);
    expect(() =>
      tf
        .engine()
        .runKernel(BATCH_NORM_TRAINING, { x, scale, offset: scale }, { varianceEpsilon: 1e-3 }),
    ).toThrow(
      /doconv native DoconvBatchNormTraining: x must be a non-empty float32 \[\.\.\., C\].*got x float32 \[2,3,4\], scale float32 \[3\], offset float32 \[3\]/,
    );
    const layer = tf.layers.batchNormalization(args);
    const input = tf.randomNormal([4, 4, 4, 6]);
    tf.dispose(layer.apply(input, { training: true }) as tf.Tensor);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      tf.dispose(
        tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(input),
      );
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, scale, input]);
    layer.weights.forEach((w) => w.dispose());
  });

  it('a model loaded from its JSON trains through the op too (a resumed run = the straight one)', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const built = tf.model({
      inputs: input,
      outputs: tf.layers.batchNormalization(args).apply(input) as tf.SymbolicTensor,
    });
    const loaded = await tf.models.modelFromJSON({
      modelTopology: built.toJSON(null, false),
    } as unknown as tf.io.ModelJSON);
    const x = tf.randomNormal([2, 4, 4, 3]);
    for (const model of [built, loaded]) {
      const { kernelNames } = await tf.profile(() =>
        tf.dispose(model.apply(x, { training: true }) as tf.Tensor),
      );
      expect(kernelNames).toContain(BATCH_NORM_TRAINING);
    }
    tf.dispose(x);
  });
});
