/**
 * Weights a model.json's layers declare, held to the size cap before TF.js allocates them (issue
 * #23, class 10): `units: 2e9` on a Dense layer ended in "Invalid typed array length:
 * 9216000000000", naming nothing. The count is checked against the models' own parameter counts
 * (TF.js's countParams, an independent reference): never above them, so a real model is never
 * refused; and seeded giant sizes either load or are refused naming the layer, never crash.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileSystem } from '../../src/io/fileSystemIO.js';
import { loadModel } from '../../src/io/loadModel.js';
import { checkDeclaredWeightSizes } from '../../src/io/modelWeightSizes.js';
import { DecodeLimitError, MAX_DECODED_BYTES_ENV } from '../../src/util/sizeLimit.js';
import { buildModel, convKinds, zooModelNames } from '../../src/models/index.js';
import { doConv2d, doDepthwiseConv2d, doSeparableConv2d } from '../../src/index.js';
import { runCli } from '../cli/runCli.js';
import { makeTempDir } from '../io/helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Topology = any;

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await makeTempDir('doconv-model-sizes-');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env[MAX_DECODED_BYTES_ENV];
});

function topologyOf(model: tf.LayersModel): Topology {
  const t = model.toJSON(null, false);
  model.dispose();
  return t;
}

/** Flatten(4608 = 24·24·8) → Dense, as the issue's case: units × 4608 weights. */
function denseTopology(units: number): Topology {
  const t = topologyOf(
    tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 8, kernelSize: 5, inputShape: [28, 28, 1], name: 'conv' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 3, name: 'head' }),
      ],
    }),
  );
  t.config.layers[2].config.units = units;
  return t;
}

async function writeModel(t: Topology): Promise<string> {
  const dir = await fs.mkdtemp(path.join(root, 'case-'));
  await fs.writeFile(
    path.join(dir, 'model.json'),
    JSON.stringify({ modelTopology: t, format: 'layers-model', weightsManifest: [] }),
  );
  return dir;
}

describe('giant layers in a model.json', () => {
  it('refuses Dense units 2e9 naming the layer, the field, the inputs and how to raise the cap', async () => {
    const dir = await writeModel(denseTopology(2e9));
    const load = loadModel(fileSystem(dir));
    await expect(load).rejects.toThrow(DecodeLimitError);
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(
      /model\.json: layer "head" \(Dense\): units 2000000000 × 4608 inputs = 9218000000000 float32 values .*over the size limit of 1073741824 bytes \(raise it with DOCONV_MAX_DECODED_BYTES=N/,
    );
  });

  it('refuses Conv2D filters 1e9, and a field that is not a positive integer', () => {
    const t = denseTopology(3);
    t.config.layers[0].config.filters = 1e9;
    expect(() => checkDeclaredWeightSizes(t, 'm.json')).toThrow(
      /^m\.json: layer "conv" \(Conv2D\): kernel_size \[5,5\] × 1 input channels × filters 1000000000/,
    );
    t.config.layers[0].config.filters = -4;
    expect(() => checkDeclaredWeightSizes(t, 'm.json')).toThrow(
      /^m\.json: layer "conv" \(Conv2D\): filters must be a positive integer, got -4/,
    );
  });

  it('refuses a model whose layers fit one by one but not together, and follows the cap', () => {
    process.env[MAX_DECODED_BYTES_ENV] = String(4 * 40_000);
    const t = topologyOf(
      tf.sequential({
        layers: [
          tf.layers.dense({ units: 100, inputShape: [300], name: 'a' }), // 30 100 values
          tf.layers.dense({ units: 100, name: 'b' }), // 10 100
        ],
      }),
    );
    expect(() => checkDeclaredWeightSizes(t, 'm.json')).toThrow(
      /^m\.json: the model: its layers' weights \(the largest: layer "a" \(Dense\), 30100 values\) = 40200 float32 values/,
    );
    process.env[MAX_DECODED_BYTES_ENV] = '1M';
    expect(checkDeclaredWeightSizes(t, 'm.json')).toBe(40_200);
  });

  it('doconv eval refuses the giant Dense with the layer named (was "Invalid typed array length")', async () => {
    const dir = await writeModel(denseTopology(2e9));
    const r = await runCli(['eval', dir, '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/layer "head" \(Dense\): units 2000000000 × 4608 inputs/);
    expect(r.err).not.toMatch(/Invalid typed array length/);
  });
});

describe('the declared count against TF.js countParams', () => {
  for (const name of zooModelNames) {
    for (const conv of convKinds) {
      it(`${name} ${conv}: never above the model's parameters`, () => {
        const model = buildModel(name, { conv, inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
        const params = model.countParams();
        const t = topologyOf(model);
        const declared = checkDeclaredWeightSizes(t, name);
        expect(declared).toBeLessThanOrEqual(params);
        // The inference reaches every layer of these nets: the count is exact.
        expect(declared).toBe(params);
      });
    }
  }

  it('DO layers of every kind: exact', () => {
    const model = tf.sequential({
      layers: [
        doConv2d({ filters: 6, kernelSize: 3, inputShape: [9, 9, 4], groups: 2, name: 'c' }),
        doDepthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, dMul: 12, name: 'd' }),
        doSeparableConv2d({ filters: 5, kernelSize: [3, 2], depthMultiplier: 3, name: 's' }),
        tf.layers.globalAveragePooling2d({ name: 'g' }),
        tf.layers.dense({ units: 7, useBias: false, name: 'o' }),
      ],
    });
    const params = model.countParams();
    expect(checkDeclaredWeightSizes(topologyOf(model), 'm')).toBe(params);
  });
});

/** mulberry32: seeded, so a failing case reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('seeded giant sizes', () => {
  it('each loads or is refused naming the layer; none fails deep in TF.js', async () => {
    // A small cap, so what passes builds in a moment.
    process.env[MAX_DECODED_BYTES_ENV] = '4M';
    const base = topologyOf(
      tf.sequential({
        layers: [
          tf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [12, 12, 2], name: 'conv' }),
          tf.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw' }),
          tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
          tf.layers.flatten({ name: 'flat' }),
          tf.layers.dense({ units: 5, name: 'head' }),
        ],
      }),
    );
    const fields: Array<[number, string]> = [
      [0, 'filters'],
      [0, 'kernel_size'],
      [1, 'depth_multiplier'],
      [1, 'kernel_size'],
      [4, 'units'],
    ];
    let refused = 0;
    let loaded = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const t = structuredClone(base);
      const [index, field] = fields[Math.floor(r() * fields.length)];
      const value = Math.floor(10 ** (r() * 13)) || 1;
      t.config.layers[index].config[field] = field === 'kernel_size' ? [1, value] : value;
      const where = `seed ${seed}: ${field} ${value}`;
      try {
        checkDeclaredWeightSizes(t, where);
      } catch (e) {
        expect((e as Error).message, where).toMatch(
          new RegExp(`^seed ${seed}: ${field} ${value}: (layer "\\w+"|the model)`),
        );
        refused++;
        continue;
      }
      try {
        const model = await tf.models.modelFromJSON({ modelTopology: t });
        model.dispose();
        loaded++;
      } catch (e) {
        // A window larger than its input is TF.js's to refuse; never a typed-array length.
        expect((e as Error).message, where).not.toMatch(/typed array|Array buffer allocation/i);
      }
    }
    expect(refused).toBeGreaterThan(10);
    expect(loaded).toBeGreaterThan(5);
  });
});

describe('zoo options that size a layer', () => {
  it('numClasses 2e9 is refused naming the head layer (was "Invalid typed array length")', () => {
    expect(() =>
      buildModel('resnet-20', { conv: 'conv', inputShape: [32, 32, 3], numClasses: 2e9 }),
    ).toThrow(/^Dense 'logits': kernel \[64,2000000000\] \(input channels 64, units 2000000000\)/);
  });

  it('numClasses and inputShape sizes must be safe integers (1e300 is an integer to JavaScript)', () => {
    expect(() =>
      buildModel('resnet-20', { conv: 'conv', inputShape: [32, 32, 3], numClasses: 1e300 }),
    ).toThrow(/numClasses must be a positive integer, got 1e\+300/);
    expect(() =>
      buildModel('resnet-20', { conv: 'conv', inputShape: [2 ** 60, 32, 3], numClasses: 10 }),
    ).toThrow(/inputShape must be \[height, width, channels\] of positive integers/);
  });

  it('an inputShape flattened into a giant Dense head is refused before allocating', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      buildModel('tf-mnist-sample', {
        conv: 'doconv',
        inputShape: [20000, 20000, 1],
        numClasses: 10,
      }),
    ).toThrow(/^Dense 'dense': kernel \[3198720128,10\] \(input channels 3198720128, units 10\)/); // 19996·19996·8
    // (the two convs before it are small: 32 and 8 filters)
    expect(tf.memory().numTensors - before).toBeLessThan(20);
  });
});
