/**
 * Building a DO layer must not change the names tfjs gives the user's other layers: tfjs numbers
 * unnamed layers by a global per-class counter, which a throwaway tfjs conv inside a DO layer's
 * constructor would advance (issue #20: conv2d_Conv2D4 instead of …2).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOConv2D, dilatedConv2d, doConv2d, doDepthwiseConv2d } from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The counter in a default layer name: 'conv2d_Conv2D7' → 7. */
function counter(layer: tf.layers.Layer): number {
  return Number(/(\d+)$/.exec(layer.name)![1]);
}

describe('building DO layers leaves tfjs layer names alone', () => {
  const makers: [string, () => unknown][] = [
    ['doConv2d', () => doConv2d({ filters: 4, kernelSize: 3, kernelRegularizer: 'l1l2' })],
    ['doConv2d 1×1', () => doConv2d({ filters: 4, kernelSize: 1, dRegularizer: 'l1l2' })],
    [
      'doDepthwiseConv2d',
      () => doDepthwiseConv2d({ kernelSize: 3, depthwiseConstraint: 'nonNeg' }),
    ],
    ['dilatedConv2d', () => dilatedConv2d({ filters: 2, kernelSize: 3, dilationRate: 2 })],
    [
      'DOConv2D.fromConfig',
      () =>
        DOConv2D.fromConfig(
          DOConv2D,
          doConv2d({ filters: 2, kernelSize: 3, name: 'named' }).getConfig(),
        ),
    ],
  ];
  for (const [what, make] of makers) {
    it(`tf.layers.conv2d / depthwiseConv2d after ${what}`, () => {
      const conv = counter(tf.layers.conv2d({ filters: 1, kernelSize: 1 }));
      const depthwise = counter(tf.layers.depthwiseConv2d({ kernelSize: 1 }));
      make();
      expect(counter(tf.layers.conv2d({ filters: 1, kernelSize: 1 }))).toBe(conv + 1);
      expect(counter(tf.layers.depthwiseConv2d({ kernelSize: 1 }))).toBe(depthwise + 1);
    });
  }

  it('a model built with doconv names its conv layers as one built without', () => {
    const names = () =>
      tf
        .sequential({
          layers: [
            tf.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] }),
            tf.layers.depthwiseConv2d({ kernelSize: 3 }),
          ],
        })
        .layers.map(counter);
    const before = names();
    doConv2d({ filters: 2, kernelSize: 3 });
    const after = names();
    expect(after).toEqual(before.map((n) => n + 1));
  });
});
