import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doConv2d, doDepthwiseConv2d, foldModel } from '../../src/node.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { expectClose } from '../helpers/tolerance.js';

const dir = mkdtempSync(join(tmpdir(), 'doconv-fold-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a folded model needs nothing but @tensorflow/tfjs', () => {
  it('saves with file://, then loads, predicts, saves and reloads in a process without doconv', async () => {
    const model = tf.sequential({
      layers: [
        doConv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2] }),
        tf.layers.batchNormalization(),
        doDepthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' }),
        doConv2d({ filters: 4, kernelSize: 3, groups: 2 }),
        doDepthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    randomizeModel(model, 4);
    const folded = foldModel(model, { fuseBatchNorm: true });
    await folded.save(`file://${dir}`);
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 8);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const input = JSON.stringify({ values: Array.from(x.dataSync()), shape: x.shape });
    const script = join(import.meta.dirname, 'fixtures', 'plainTfjsPredict.mjs');
    const out = execFileSync(process.execPath, [script, dir, input], {
      encoding: 'utf8',
      // A process without doconv prints tfjs's Node banner on stderr: kept out of the test output.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.classes).toEqual([
      'Conv2D',
      'SeparableConv2D',
      'Conv2D',
      'DepthwiseConv2D',
      'Flatten',
      'Dense',
    ]);
    expectClose(result.y, expected, 1e-5, 'child prediction');
    expectClose(result.yAgain, expected, 1e-5, 'child prediction after save/reload');
  });
});
