/**
 * The importer's mapping is derived from the zoo builders: every zoo net (both conv kinds) round-trips
 * through a PyTorch-layout state_dict keyed by layer names, and the official sample's nn.Sequential
 * indices pair with the layers in order.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, doConv2d, loadPytorchStateDict, zooModelNames } from '../../src/index.js';
import { deriveStateDictMap } from '../../src/interop/stateDictMap.js';
import { randomizeModel } from '../helpers/randomizeModel.js';
import { toPytorchStateDict } from '../helpers/toPytorchStateDict.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// The task nets (deeplab-mini, centernet-mini) take 64×64 scenes; the classifiers MNIST digits.
const build = (name: string, conv: 'conv' | 'doconv', seed: number) =>
  buildModel(name, {
    conv,
    inputShape: name === 'deeplab-mini' || name === 'centernet-mini' ? [64, 64, 1] : [28, 28, 1],
    numClasses: 10,
    seed,
  });

describe('deriveStateDictMap + loadPytorchStateDict round trip', () => {
  for (const name of zooModelNames) {
    // The MobileNets' conv twins differ from the DO twins only in layer classes the others cover: skip
    // them to keep the suite quick (4 s each on cpu).
    const kinds = name.startsWith('mobilenet')
      ? (['doconv'] as const)
      : (['conv', 'doconv'] as const);
    for (const conv of kinds) {
      it(`${name} (${conv}): keys named after the layers load every weight exactly`, () => {
        const source = build(name, conv, 1);
        randomizeModel(source, 7); // random D and BN statistics: a zero D would hide a layout slip
        const target = build(name, conv, 2);
        const state = toPytorchStateDict(source);
        const before = tf.memory().numTensors;
        const { layout, map } = deriveStateDictMap(target, Object.keys(state));
        expect(layout).toBe('layer-names');
        const report = loadPytorchStateDict(target, state, {
          map,
          composition: 'definition',
          onWarning: () => {},
        });
        expect(tf.memory().numTensors).toBe(before); // no leaks in the load
        expect(report.warnings).toEqual([]);
        expect(report.loaded.length).toBe(target.layers.filter((l) => l.weights.length).length);
        source.weights.forEach((w, i) => {
          const got = target.weights[i].read().dataSync();
          expect(Array.from(got), w.name).toEqual(Array.from(w.read().dataSync()));
        });
        tf.dispose(Object.values(state));
        source.dispose();
        target.dispose();
      });
    }
  }
});

describe('the sequential layout (the official PyTorch sample: 0.W, 2.W, 4.W)', () => {
  it('pairs the k-th numbered module with weights with the k-th layer with weights', () => {
    const model = build('pt-mnist-sample', 'doconv', 1);
    const keys = [
      '0.W',
      '0.D',
      '0.d_diag',
      '0.bias',
      '2.W',
      '2.D',
      '2.bias',
      '4.W',
      '4.D',
      '4.bias',
    ];
    expect(deriveStateDictMap(model, keys)).toEqual({
      layout: 'sequential',
      map: { '0': 'conv1', '2': 'conv2', '4': 'conv3' },
    });
    // indices sort as numbers, not strings (10 after 4)
    expect(deriveStateDictMap(model, ['10.W', '0.W', '4.W']).map).toEqual({
      '0': 'conv1',
      '4': 'conv2',
      '10': 'conv3',
    });
    model.dispose();
  });

  it('says how many modules and layers there are when they do not pair', () => {
    const model = build('pt-mnist-sample', 'conv', 1);
    expect(() => deriveStateDictMap(model, ['0.weight', '2.weight'])).toThrow(
      "the state_dict's nn.Sequential has 2 modules with weights (0, 2), model 'pt-mnist-sample' has 3 layers with weights (conv1, conv2, conv3)",
    );
    expect(() => deriveStateDictMap(model, ['conv1.weight'], 'sequential')).toThrow(
      `layout 'sequential' needs nn.Sequential indices as module prefixes, but the state_dict has "conv1"`,
    );
    expect(() => deriveStateDictMap(model, ['weight'])).toThrow(
      `state_dict key "weight" has no module prefix`,
    );
    expect(() => deriveStateDictMap(model, [], 'nested' as never)).toThrow(
      `layout must be 'auto', 'layer-names' or 'sequential', got "nested"`,
    );
    model.dispose();
  });
});

describe("loadPytorchStateDict's composition option", () => {
  const grouped = () =>
    tf.sequential({
      layers: [
        doConv2d({ filters: 6, kernelSize: 3, groups: 2, inputShape: [5, 5, 4], name: 'g' }),
      ],
    });

  it("'definition' copies a grouped layer's W and D as they are, without the official warning", () => {
    const source = grouped();
    randomizeModel(source, 3);
    const state = toPytorchStateDict(source);
    const target = grouped();
    const warnings: string[] = [];
    loadPytorchStateDict(target, state, {
      map: { g: 'g' },
      composition: 'definition',
      onWarning: (w) => warnings.push(w),
    });
    expect(warnings).toEqual([]);
    source.weights.forEach((w, i) =>
      expect(Array.from(target.weights[i].read().dataSync())).toEqual(
        Array.from(w.read().dataSync()),
      ),
    );
    // the default ('pytorch-official') reads the same tensors as the official module's function: with a warning
    const official = grouped();
    loadPytorchStateDict(official, state, { map: { g: 'g' }, onWarning: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /layer 'g' \('g', groups 2, 4 input channels, 6 outputs\): the official/,
    );
    tf.dispose(Object.values(state));
  });

  it('names a bad value', () => {
    const model = grouped();
    expect(() =>
      loadPytorchStateDict(model, {}, { map: {}, composition: 'paper' as never }),
    ).toThrow(
      `loadPytorchStateDict: composition must be 'pytorch-official' or 'definition', got "paper"`,
    );
  });
});
