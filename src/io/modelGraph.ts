/**
 * A check of a model.json's layer graph before TF.js builds it. Browser-safe.
 *
 * Why: tfjs-layers rebuilds a functional model by re-queueing every node whose inputs do not exist
 * yet until none is left (`Container.fromConfig`), so a node that can never be built — a cycle in
 * `inbound_nodes`, a layer feeding itself, an input naming a layer or node that does not exist —
 * loops forever at full CPU. Its graph walks and config converters recurse, so a very deep chain or
 * deeply nested JSON ends in "Maximum call stack size exceeded". This check walks the same graph
 * without recursion and refuses such a topology naming the file and the layers; then the weights
 * the layers declare are held to the size cap (./modelWeightSizes.ts).
 */
import { checkDeclaredWeightSizes } from './modelWeightSizes.js';

/** Longest chain of layer calls (and of nested models) accepted; TF.js recurses along it. */
export const MAX_MODEL_GRAPH_DEPTH = 1000;
/** Deepest JSON nesting accepted in a topology; TF.js converts configs recursively. */
export const MAX_MODEL_JSON_NESTING = 200;

/** A topology TF.js would hang or overflow on; the message names the file and the layers. */
export class ModelGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelGraphError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);

/**
 * Checks `modelTopology` (as in a model.json, with or without Keras' `model_config` wrapper):
 * JSON nesting, then every (nested) functional model's layer names and `inbound_nodes`, then the
 * depth of layer calls, then the weights the layers declare. Throws a ModelGraphError (a
 * DecodeLimitError for weights over the size cap, a LayerSizeError for a size field that is not a
 * positive integer) starting with `where`.
 */
export function checkModelTopology(topology: unknown, where: string): void {
  checkNesting(topology, where);
  const root =
    isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  if (!isObject(root)) return; // not a layers model: TF.js says what it is
  // Models nested as layers are checked one after another (an explicit stack, not recursion).
  const pending: Array<{ model: Json; path: string; depth: number }> = [
    { model: root, path: 'the model', depth: 0 },
  ];
  while (pending.length > 0) {
    const { model, path, depth } = pending.pop()!;
    const layers = layersOf(model);
    if (layers === null) continue;
    const graphDepth =
      model.class_name === 'Sequential'
        ? layers.length
        : checkFunctional(model, layers, `${where}: ${path}`);
    if (depth + graphDepth > MAX_MODEL_GRAPH_DEPTH) {
      throw new ModelGraphError(
        `${where}: ${path} is ${depth + graphDepth} layer calls deep, over the limit of ${MAX_MODEL_GRAPH_DEPTH} (TF.js builds and runs models recursively)`,
      );
    }
    for (const layer of layers) {
      if (
        isObject(layer) &&
        MODEL_CLASSES.has(layer.class_name as string) &&
        isObject(layer.config)
      ) {
        const name = typeof layer.config.name === 'string' ? layer.config.name : String(layer.name);
        pending.push({
          model: layer,
          path: `${path} › ${JSON.stringify(name)}`,
          depth: depth + graphDepth,
        });
      }
    }
  }
  // A sound graph can still declare weights no machine holds (units: 2e9): refused before TF.js
  // allocates them.
  checkDeclaredWeightSizes(root, where);
}

/** A model's layer list (Sequential may store it as the config itself), or null when absent. */
function layersOf(model: Json): unknown[] | null {
  const config = model.config;
  if (Array.isArray(config)) return config;
  if (isObject(config) && Array.isArray(config.layers)) return config.layers;
  return null;
}

/** One layer call: layer name and its node index. */
const nodeKey = (layer: string, node: number) => `${layer}#${node}`;

/**
 * Checks one functional model's `inbound_nodes` and returns the length of its longest chain of
 * layer calls. The graph's vertices are layer calls (a shared layer has one per call).
 */
function checkFunctional(model: Json, layers: unknown[], where: string): number {
  const nodeCount = new Map<string, number>();
  layers.forEach((layer, i) => {
    if (!isObject(layer) || typeof layer.name !== 'string') {
      throw new ModelGraphError(`${where}: layers[${i}] has no string "name"`);
    }
    if (nodeCount.has(layer.name)) {
      throw new ModelGraphError(`${where}: two layers are named ${JSON.stringify(layer.name)}`);
    }
    const inbound = layer.inbound_nodes ?? [];
    if (!Array.isArray(inbound)) {
      throw new ModelGraphError(
        `${where}: layer ${JSON.stringify(layer.name)} has inbound_nodes that is not an array`,
      );
    }
    // An InputLayer has no inbound nodes but one node of its own (node 0).
    nodeCount.set(layer.name, Math.max(inbound.length, layer.class_name === 'InputLayer' ? 1 : 0));
  });
  const inputsOf = new Map<string, string[]>();
  const reference = (ref: unknown, owner: string, what: string): string => {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string') {
      throw new ModelGraphError(
        `${where}: ${what} of layer ${JSON.stringify(owner)} is not [layer name, node index, tensor index], got ${JSON.stringify(ref)?.slice(0, 80)}`,
      );
    }
    const [name, node, tensor] = ref as [string, unknown, unknown];
    const count = nodeCount.get(name);
    if (count === undefined) {
      throw new ModelGraphError(
        `${where}: ${what} of layer ${JSON.stringify(owner)} names layer ${JSON.stringify(name)}, which does not exist`,
      );
    }
    if (
      !Number.isSafeInteger(node) ||
      (node as number) < 0 ||
      (node as number) >= count ||
      !Number.isSafeInteger(tensor) ||
      (tensor as number) < 0
    ) {
      throw new ModelGraphError(
        `${where}: ${what} of layer ${JSON.stringify(owner)} names node ${JSON.stringify(node)}, tensor ${JSON.stringify(tensor)} of layer ${JSON.stringify(name)}, which has ${count} node(s)`,
      );
    }
    return nodeKey(name, node as number);
  };
  for (const layer of layers as Json[]) {
    const name = layer.name as string;
    ((layer.inbound_nodes ?? []) as unknown[]).forEach((node, k) => {
      if (!Array.isArray(node)) {
        throw new ModelGraphError(
          `${where}: layer ${JSON.stringify(name)} inbound_nodes[${k}] is not an array (only the TF.js/Keras 2 format is read)`,
        );
      }
      const inputs = node.map((ref, j) => reference(ref, name, `inbound_nodes[${k}][${j}]`));
      for (const input of inputs) {
        if (input.startsWith(`${name}#`)) {
          throw new ModelGraphError(
            `${where}: layer ${JSON.stringify(name)} takes its own output as input (inbound_nodes[${k}])`,
          );
        }
      }
      inputsOf.set(nodeKey(name, k), inputs);
    });
  }
  for (const key of ['input_layers', 'output_layers']) {
    const refs = (model.config as Json)[key];
    if (refs === undefined) continue;
    if (!Array.isArray(refs)) throw new ModelGraphError(`${where}: ${key} is not an array`);
    refs.forEach((ref, i) => reference(ref, '(model)', `${key}[${i}]`));
  }
  return longestChain(inputsOf, where);
}

/**
 * The longest path through the layer-call graph, by an iterative depth-first walk that refuses a
 * cycle naming the layers on it.
 */
function longestChain(inputsOf: Map<string, string[]>, where: string): number {
  const depth = new Map<string, number>(); // finished vertices
  const onStack = new Set<string>();
  let longest = 0;
  for (const start of inputsOf.keys()) {
    if (depth.has(start)) continue;
    const stack: Array<{ key: string; next: number }> = [{ key: start, next: 0 }];
    onStack.add(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = inputsOf.get(top.key) ?? [];
      if (top.next < inputs.length) {
        const input = inputs[top.next++];
        if (depth.has(input)) continue;
        if (onStack.has(input)) {
          const cycle = stack
            .slice(stack.findIndex((s) => s.key === input))
            .map((s) => layerOf(s.key));
          throw new ModelGraphError(
            `${where}: inbound_nodes form a cycle: ${[...cycle, layerOf(input)].map((n) => JSON.stringify(n)).join(' ← ')}`,
          );
        }
        onStack.add(input);
        stack.push({ key: input, next: 0 });
        continue;
      }
      const d = 1 + Math.max(0, ...inputs.map((i) => depth.get(i) ?? 0));
      depth.set(top.key, d);
      longest = Math.max(longest, d);
      onStack.delete(top.key);
      stack.pop();
    }
  }
  return longest;
}

const layerOf = (key: string) => key.slice(0, key.lastIndexOf('#'));

/** Refuses JSON nested deeper than MAX_MODEL_JSON_NESTING, walking it without recursion. */
function checkNesting(value: unknown, where: string): void {
  const stack: Array<{ value: unknown; level: number }> = [{ value, level: 0 }];
  while (stack.length > 0) {
    const { value: v, level } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (level > MAX_MODEL_JSON_NESTING) {
      throw new ModelGraphError(
        `${where}: the model topology is nested more than ${MAX_MODEL_JSON_NESTING} levels deep`,
      );
    }
    for (const child of Object.values(v)) stack.push({ value: child, level: level + 1 });
  }
}
