/**
 * A model.json's layer graph, checked before TF.js builds it (src/io/modelGraph.ts): a cycle in
 * `inbound_nodes`, a layer feeding itself or an input naming a missing layer used to hang
 * `doconv fold|export|eval` at full CPU inside TF.js's loader; a very deep model ended in
 * "Maximum call stack size exceeded". Each is refused naming the file and the layers, and a few
 * hundred seeded rewirings of a valid graph either load or are refused — none hangs.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystem } from '../../src/io/fileSystemIO.js';
import { loadModel } from '../../src/io/loadModel.js';
import {
  checkModelTopology,
  MAX_MODEL_GRAPH_DEPTH,
  ModelGraphError,
} from '../../src/io/modelGraph.js';
import { runCli } from '../cli/runCli.js';
import { makeTempDir } from '../io/helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Topology = any;

let root: string;
let topology: Topology;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await makeTempDir('doconv-model-graph-');
  // in → a → b, in → c, add(b, c) → out: weightless, so only the graph matters.
  const input = tf.input({ shape: [2], name: 'in' });
  const a = tf.layers
    .activation({ activation: 'relu', name: 'a' })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers.activation({ activation: 'linear', name: 'b' }).apply(a) as tf.SymbolicTensor;
  const c = tf.layers
    .activation({ activation: 'tanh', name: 'c' })
    .apply(input) as tf.SymbolicTensor;
  const out = tf.layers.add({ name: 'out' }).apply([b, c]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  topology = model.toJSON(null, false);
  model.dispose();
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const layer = (t: Topology, name: string) => t.config.layers.find((l: Topology) => l.name === name);

/** Writes `t` as a model.json (no weights) and loads it the way `doconv eval|fold|export` do. */
async function loadTopology(t: Topology): Promise<tf.LayersModel> {
  const dir = await fs.mkdtemp(path.join(root, 'case-'));
  await fs.writeFile(
    path.join(dir, 'model.json'),
    JSON.stringify({ modelTopology: t, format: 'layers-model', weightsManifest: [] }),
  );
  return loadModel(fileSystem(dir));
}

describe('model.json graphs TF.js would hang or overflow on', () => {
  const cases: Array<[string, (t: Topology) => void, RegExp]> = [
    [
      'a cycle through two layers',
      (t) => (layer(t, 'a').inbound_nodes = [[['b', 0, 0, {}]]]),
      /inbound_nodes form a cycle: "(a|b)" ← "(a|b)" ← "(a|b)"/,
    ],
    [
      'a layer fed by itself',
      (t) => (layer(t, 'b').inbound_nodes = [[['b', 0, 0, {}]]]),
      /layer "b" takes its own output as input/,
    ],
    [
      'an input naming a layer that does not exist',
      (t) => (layer(t, 'c').inbound_nodes = [[['ghost', 0, 0, {}]]]),
      /inbound_nodes\[0\]\[0\] of layer "c" names layer "ghost", which does not exist/,
    ],
    [
      'an input naming a node that does not exist',
      (t) => (layer(t, 'c').inbound_nodes = [[['a', 3, 0, {}]]]),
      /of layer "c" names node 3, tensor 0 of layer "a", which has 1 node\(s\)/,
    ],
    [
      'an output naming a layer that does not exist',
      (t) => (t.config.output_layers = [['nope', 0, 0]]),
      /output_layers\[0\] of layer "\(model\)" names layer "nope"/,
    ],
    ['two layers with one name', (t) => (layer(t, 'c').name = 'a'), /two layers are named "a"/],
  ];
  for (const [label, edit, message] of cases) {
    it(`refuses ${label}, naming the file and the layers`, async () => {
      const t = structuredClone(topology);
      edit(t);
      await expect(loadTopology(t)).rejects.toThrow(message);
      await expect(loadTopology(t)).rejects.toThrow(
        /^fileSystem: model file .*model\.json: the model/,
      );
    });
  }

  it(`refuses a chain deeper than ${MAX_MODEL_GRAPH_DEPTH} layer calls, and loads one at the limit`, async () => {
    const chain = (n: number) => {
      const t = structuredClone(topology);
      const layers = [layer(t, 'in')];
      let prev = 'in';
      for (let i = 0; i < n; i++) {
        layers.push({
          class_name: 'Activation',
          name: `l${i}`,
          config: { activation: 'linear', name: `l${i}`, trainable: true },
          inbound_nodes: [[[prev, 0, 0, {}]]],
        });
        prev = `l${i}`;
      }
      t.config.layers = layers;
      t.config.output_layers = [[prev, 0, 0]];
      return t;
    };
    await expect(loadTopology(chain(20_000))).rejects.toThrow(
      /the model is 20001 layer calls deep, over the limit of 1000/,
    );
    const model = await loadTopology(chain(MAX_MODEL_GRAPH_DEPTH - 1));
    expect(model.layers).toHaveLength(MAX_MODEL_GRAPH_DEPTH);
    model.dispose();
  });

  it('refuses JSON nested deeper than TF.js converts without overflowing', async () => {
    const t = structuredClone(topology);
    layer(t, 'a').config.extra = 'DEEP';
    // Written as text: JSON.stringify itself recurses.
    const deep = '{"x":'.repeat(100_000) + '{}' + '}'.repeat(100_000);
    const text = JSON.stringify({ modelTopology: t, weightsManifest: [] }).replace('"DEEP"', deep);
    const dir = await fs.mkdtemp(path.join(root, 'case-'));
    await fs.writeFile(path.join(dir, 'model.json'), text);
    await expect(loadModel(fileSystem(dir))).rejects.toThrow(/nested more than 200 levels deep/);
  });

  it('doconv fold | export | eval refuse a cyclic model.json at once (they hung at full CPU)', async () => {
    const t = structuredClone(topology);
    layer(t, 'a').inbound_nodes = [[['b', 0, 0, {}]]];
    const dir = await fs.mkdtemp(path.join(root, 'cli-'));
    await fs.writeFile(
      path.join(dir, 'model.json'),
      JSON.stringify({ modelTopology: t, weightsManifest: [] }),
    );
    for (const args of [
      ['fold', dir, path.join(root, 'folded'), '--backend', 'cpu'],
      ['export', dir, path.join(root, 'm.onnx'), '--format', 'onnx'],
      ['eval', dir, '--backend', 'cpu'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.err, args[0]).toMatch(/model\.json: the model: inbound_nodes form a cycle/);
    }
  });

  it('checks models nested as layers too, naming the path to them', () => {
    const inner = structuredClone(topology);
    layer(inner, 'a').inbound_nodes = [[['a', 0, 0, {}]]];
    const outer = structuredClone(topology);
    outer.config.layers.push({
      ...inner,
      name: 'inner',
      config: { ...inner.config, name: 'inner' },
    });
    expect(() => checkModelTopology(outer, 'm.json')).toThrow(
      /^m\.json: the model › "inner": layer "a" takes its own output as input/,
    );
  });

  it('loads the valid graph, computing what the layers define', async () => {
    const model = await loadTopology(structuredClone(topology));
    const x = tf.tensor2d([[-1, 2]]);
    const y = model.predict(x) as tf.Tensor;
    // add(linear(relu(x)), tanh(x))
    const want = [0 + Math.tanh(-1), 2 + Math.tanh(2)];
    const got = y.dataSync();
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
    tf.dispose([x, y]);
    model.dispose();
  });
});

/** mulberry32: seeded, so a failing rewiring reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('seeded rewirings of a valid graph', () => {
  it('each one loads or is refused with an Error, and none hangs', async () => {
    const names = ['in', 'a', 'b', 'c', 'out', 'ghost'];
    let refusedByCheck = 0;
    let loaded = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
      const t = structuredClone(topology);
      const edits = 1 + Math.floor(r() * 3);
      for (let e = 0; e < edits; e++) {
        const target = pick(t.config.layers.filter((l: Topology) => l.name !== 'in')) as Topology;
        const kind = r();
        if (kind < 0.6) {
          const node = pick(target.inbound_nodes) as Topology[];
          node[Math.floor(r() * node.length)] = [pick(names), Math.floor(r() * 2), 0, {}];
        } else if (kind < 0.75) {
          target.inbound_nodes.push([[pick(names), 0, 0, {}]]);
        } else if (kind < 0.85) {
          t.config.layers.splice(t.config.layers.indexOf(target), 1);
        } else {
          target.name = pick(names);
        }
      }
      const where = `seed ${seed}`;
      let checked = true;
      try {
        checkModelTopology(t, where);
      } catch (e) {
        expect(e, where).toBeInstanceOf(ModelGraphError);
        expect((e as Error).message.startsWith(`${where}: `), where).toBe(true);
        checked = false;
        refusedByCheck++;
      }
      if (!checked) continue;
      // Passed the check: TF.js must finish, building the model or throwing.
      try {
        const model = await tf.models.modelFromJSON({ modelTopology: t });
        model.dispose();
        loaded++;
      } catch (e) {
        expect(e, where).toBeInstanceOf(Error);
      }
    }
    expect(refusedByCheck).toBeGreaterThan(50);
    expect(loaded).toBeGreaterThan(0);
  });
});
