/**
 * `doconv compare --model path/model.json`: Conv vs DO-Conv of a model of your own, as `train
 * --model` trains it — in worker threads too (--jobs 2: the workers load the file), with the same
 * numbers as one run at a time, and files named after the model's folder.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { fileSystem } from '../../src/node.js';
import { readJson, wasmWithTempRoot } from '../train/helpers.js';
import { runCli } from './runCli.js';

const root = wasmWithTempRoot('compare-model-file');

describe('doconv compare --model path/model.json', () => {
  it('compares Conv and DO-Conv of the saved model, with --jobs 2 as with one job', async () => {
    const mine = path.join(root(), 'my-net');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          strides: 2,
          activation: 'relu',
          inputShape: [28, 28, 1],
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
          name: 'stem',
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 10,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
          name: 'head',
        }),
      ],
    });
    await model.save(fileSystem(mine));
    model.dispose();
    const common = ['--model', path.join(mine, 'model.json'), '--runs', '1', '--epochs', '1'];
    const data = ['--train-limit', '64', '--test-limit', '32', '--progress', 'none'];
    const two = await runCli([
      'compare',
      ...common,
      ...data,
      '--jobs',
      '2',
      '--out',
      path.join(root(), 'two'),
    ]);
    expect(two.err).not.toMatch(/error/);
    expect(two.code).toBe(0);
    expect(two.out).toContain(path.join(root(), 'two', 'my-net.json'));
    const record = await readJson(path.join(root(), 'two', 'my-net.json'));
    expect(record.name).toBe('my-net');
    expect(record.config.model).toBe(path.join(mine, 'model.json'));
    const summary = await readJson(
      path.join(root(), 'two', 'runs', 'doconv-seed1', 'summary.json'),
    );
    expect(summary.config.model).toBe(path.join(mine, 'model.json'));
    const folded = await readJson(
      path.join(root(), 'two', 'runs', 'doconv-seed1', 'folded', 'model.json'),
    );
    const classes = (topology: { config: { layers: { class_name: string }[] } }) =>
      topology.config.layers.map((l) => l.class_name);
    expect(classes(folded.modelTopology)).toEqual(['Conv2D', 'Flatten', 'Dense']);
    const checkpoint = await readJson(
      path.join(root(), 'two', 'runs', 'doconv-seed1', 'checkpoint', 'model.json'),
    );
    expect(classes(checkpoint.modelTopology)).toEqual(['DOConv2D', 'Flatten', 'Dense']);

    const one = await runCli(['compare', ...common, ...data, '--out', path.join(root(), 'one')]);
    expect(one.code).toBe(0);
    const again = await readJson(path.join(root(), 'one', 'my-net.json'));
    expect(again.runs).toEqual(record.runs);
    expect(again.curves).toEqual(record.curves);
    await fs.rm(path.join(root(), 'one'), { recursive: true });
  });
});
