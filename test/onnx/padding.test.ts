import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { samePads } from '../../src/interop/onnx/padding.js';

describe("samePads is TF's 'same' padding (tfjs-core computeConv2DInfo)", () => {
  for (const size of [1, 5, 8, 9, 10]) {
    for (const kernel of [1, 2, 3, 5]) {
      for (const stride of [1, 2, 3]) {
        for (const dilation of stride === 1 ? [1, 2, 3] : [1]) {
          it(`size=${size} kernel=${kernel} stride=${stride} dilation=${dilation}`, () => {
            const info = tf.backend_util.computeConv2DInfo(
              [1, size, size + 1, 1],
              [kernel, kernel, 1, 1],
              [stride, stride],
              [dilation, dilation],
              'same',
            );
            expect(samePads(size, kernel, stride, dilation)).toEqual([
              info.padInfo.top,
              info.padInfo.bottom,
            ]);
            expect(samePads(size + 1, kernel, stride, dilation)).toEqual([
              info.padInfo.left,
              info.padInfo.right,
            ]);
          });
        }
      }
    }
  }
});
