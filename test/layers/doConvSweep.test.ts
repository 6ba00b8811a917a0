import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildLayer,
  caseName,
  doConvReference,
  layerCases,
  randomizeLayer,
} from '../helpers/doLayerCase.js';
import { expectClose, randomNormal } from '../helpers/tolerance.js';

const cases = layerCases();

const X_SHAPE: [number, number, number, number] = [2, 9, 10, 4];
const RTOL = 2e-5;

describe.each(['cpu', 'wasm'])(
  'DO layers vs the feature-composition reference on %s',
  (backend) => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });

    it('the sweep is pairwise-sized', () => {
      expect(cases.length).toBeGreaterThan(15);
      expect(cases.length).toBeLessThan(40);
    });

    it.each(cases.map((c, i) => [caseName(c), c, i] as const))('%s', (_name, c, i) => {
      const layer = buildLayer(c);
      const problem = randomizeLayer(layer, c, X_SHAPE, 100 * i);
      const probe = doConvReference(problem);
      const g = randomNormal(probe.y.length, 7 + i);
      const ref = doConvReference(problem, g);

      const x = tf.variable(tf.tensor4d(Float32Array.from(problem.x), X_SHAPE));
      const gT = tf.tensor(Float32Array.from(g), ref.yShape);
      const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, gT)) as tf.Scalar,
        [x, ...vars],
      );
      const y = layer.apply(x) as tf.Tensor;
      expect(y.shape).toEqual(ref.yShape);
      expectClose(y.dataSync(), ref.y, RTOL, 'output');
      expectClose(grads[x.name].dataSync(), ref.grads!.x, RTOL, 'dL/dx');
      for (const w of layer.trainableWeights) {
        const key = w.originalName.split('/').pop()!;
        const expected = {
          kernel: ref.grads!.weight,
          depthwise_kernel: ref.grads!.weight,
          D: ref.grads!.d,
          bias: ref.grads!.bias,
        }[key];
        expectClose(
          grads[(w.read() as tf.Variable).name].dataSync(),
          expected!,
          RTOL,
          `dL/d${key}`,
        );
      }
      tf.dispose([x, gT, y, value, ...Object.values(grads)]);
      layer.dispose();
    });
  },
);
