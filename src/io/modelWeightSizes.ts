/**
 * The weights a model.json's layers declare, held to the size cap before TF.js allocates any.
 * Browser-safe.
 *
 * Why: a layer's config sizes its weights — `units: 2e9` on a Dense layer of 4 608 inputs is 9.2·10¹²
 * values — and tfjs-layers allocates them while it builds the model, before any weight file is read:
 * it ended in "Invalid typed array length: 9216000000000", naming nothing. Here every layer's weight
 * count is computed from its config and the input shapes inferred along the graph, and a layer (or
 * the whole model) over the cap (util/sizeLimit.ts) is refused naming the layer, the field and its
 * value, and how to raise the cap.
 *
 * The shapes are inferred only through layers whose output shape is certain (inputs, dense, convs,
 * pooling, flatten, element-wise layers …); past any other, the input channels count as 1. So every
 * count is a lower bound: a model this refuses is at least that large.
 */
import { checkFloat32Count } from '../util/sizeLimit.js';

type Json = Record<string, unknown>;
/** A tensor shape with unknown dimensions as null, or null when even the rank is unknown. */
type Shape = Array<number | null> | null;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A refused field: the message names the layer, the field and the value. */
export class LayerSizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayerSizeError';
  }
}

/** One layer's weights: the count (a lower bound) and how it was counted, naming the fields. */
interface LayerWeights {
  elements: number;
  detail: string;
}

/**
 * Checks every layer's declared weights, and their sum, against the cap. `root` is the model
 * config (Sequential or functional, as in a model.json's modelTopology without `model_config`).
 * Returns the total count (a lower bound of the model's weight values); throws starting with `where`.
 */
export function checkDeclaredWeightSizes(root: Json, where: string): number {
  let total = 0;
  let largest = { name: '', elements: 0 };
  // Nested models are walked from an explicit stack (the graph check has bounded their depth).
  const pending: Array<{ model: Json; path: string }> = [{ model: root, path: '' }];
  while (pending.length > 0) {
    const { model, path } = pending.pop()!;
    const layers = layersOf(model);
    if (layers === null) continue;
    const sequential = model.class_name === 'Sequential' || Array.isArray(model.config);
    const outputs = new Map<string, Shape>();
    let previous: Shape = null;
    for (const layer of layers) {
      if (!isObject(layer)) continue;
      const config = isObject(layer.config) ? layer.config : {};
      const name = String(config.name ?? layer.name ?? '?');
      const className = String(layer.class_name);
      const label = `layer ${path}${JSON.stringify(name)} (${className})`;
      if (className === 'Sequential' || className === 'Model' || className === 'Functional') {
        pending.push({ model: layer, path: `${path}${JSON.stringify(name)} › ` });
        previous = null;
        outputs.set(name, null);
        continue;
      }
      const declared = shapeOf(config.batch_input_shape);
      const inputs = declared ? [declared] : sequential ? [previous] : inputShapes(layer, outputs);
      const { weights, output } = describeLayer(className, config, inputs, `${where}: ${label}`);
      if (weights !== null) {
        checkFloat32Count(`${where}: ${label}`, weights.elements, weights.detail);
        total += weights.elements;
        if (weights.elements > largest.elements)
          largest = { name: label, elements: weights.elements };
      }
      previous = output;
      outputs.set(name, output);
    }
  }
  checkFloat32Count(
    `${where}: the model`,
    total,
    `its layers' weights (the largest: ${largest.name}, ${largest.elements} values)`,
  );
  return total;
}

function layersOf(model: Json): unknown[] | null {
  const config = model.config;
  if (Array.isArray(config)) return config;
  if (isObject(config) && Array.isArray(config.layers)) return config.layers;
  return null;
}

/** The output shapes of the layers feeding `layer`'s first call (null where unknown). */
function inputShapes(layer: Json, outputs: Map<string, Shape>): Shape[] {
  const nodes = layer.inbound_nodes;
  const refs: unknown[] = Array.isArray(nodes) && Array.isArray(nodes[0]) ? nodes[0] : [];
  const shapes = refs.map((ref) =>
    Array.isArray(ref) && typeof ref[0] === 'string' ? (outputs.get(ref[0]) ?? null) : null,
  );
  return shapes.length > 0 ? shapes : [null];
}

function shapeOf(value: unknown): Shape {
  if (!Array.isArray(value)) return null;
  return value.map((d) => (Number.isSafeInteger(d) && (d as number) > 0 ? (d as number) : null));
}

/** The input's last dimension (features, channels), or null when unknown. */
const lastDim = (shape: Shape): number | null =>
  shape && shape.length > 0 ? shape[shape.length - 1] : null;

/** Reads a size field: a positive safe integer (a list of them for kernel_size and the like). */
function sizeField(config: Json, key: string, where: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new LayerSizeError(
      `${where}: ${key} must be a positive integer, got ${JSON.stringify(value)}`,
    );
  }
  return value as number;
}

function sizeList(
  config: Json,
  key: string,
  rank: number,
  where: string,
  fallback?: number,
): number[] {
  const raw = config[key] ?? fallback;
  const list = Array.isArray(raw) ? raw : Array.from({ length: rank }, () => raw);
  if (list.length === 1 && rank > 1) return sizeList({ [key]: list[0] }, key, rank, where);
  if (list.length !== rank || !list.every((v) => Number.isSafeInteger(v) && v >= 1)) {
    throw new LayerSizeError(
      `${where}: ${key} must be a positive integer or a list of ${rank}, got ${JSON.stringify(raw)}`,
    );
  }
  return list as number[];
}

const CONV_RANK: Record<string, number> = {
  Conv1D: 1,
  DOConv1D: 1,
  Conv2D: 2,
  DOConv2D: 2,
  DilatedConv2D: 2,
  Conv2DTranspose: 2,
  Conv3D: 3,
  Conv3DTranspose: 3,
  DepthwiseConv2D: 2,
  DODepthwiseConv2D: 2,
  SeparableConv2D: 2,
  DOSeparableConv2D: 2,
  SeparableConv1D: 1,
};
const DEPTHWISE = new Set(['DepthwiseConv2D', 'DODepthwiseConv2D']);
const SEPARABLE = new Set(['SeparableConv2D', 'DOSeparableConv2D', 'SeparableConv1D']);
const DO_LAYERS = new Set(['DOConv1D', 'DOConv2D', 'DODepthwiseConv2D', 'DOSeparableConv2D']);
const POOLING_RANK: Record<string, number> = {
  MaxPooling1D: 1,
  AveragePooling1D: 1,
  MaxPooling2D: 2,
  AveragePooling2D: 2,
  MaxPooling3D: 3,
  AveragePooling3D: 3,
};
const GLOBAL_POOLING = /^Global(Max|Average)Pooling[123]D$/;
/** Layers whose output has their input's shape. */
const SAME_SHAPE = new Set([
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'PReLU',
  'ThresholdedReLU',
  'Softmax',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'BatchNormalization',
  'LayerNormalization',
  'Masking',
  'Add',
  'Subtract',
  'Multiply',
  'Average',
  'Maximum',
  'Minimum',
]);
const RNN_GATES: Record<string, number> = { SimpleRNN: 1, GRU: 3, LSTM: 4 };

/** A layer's declared weights (null: none counted) and its output shape (null: unknown). */
function describeLayer(
  className: string,
  config: Json,
  inputs: Shape[],
  where: string,
): { weights: LayerWeights | null; output: Shape } {
  const input = inputs[0];
  const inFeatures = lastDim(input);
  // Unknown input channels count as 1: the count stays a lower bound.
  const inText = inFeatures === null ? '' : ` × ${inFeatures} inputs`;
  const inCount = inFeatures ?? 1;
  const channelsFirst = config.data_format === 'channels_first';
  if (className === 'InputLayer')
    return { weights: null, output: shapeOf(config.batch_input_shape) };
  if (className === 'Dense') {
    const units = sizeField(config, 'units', where);
    const output = input && input.length > 0 ? [...input.slice(0, -1), units] : null;
    const biases = config.use_bias === false ? 0 : units;
    return {
      weights: { elements: units * inCount + biases, detail: `units ${units}${inText}` },
      output,
    };
  }
  if (className === 'Embedding') {
    const inputDim = sizeField(config, 'input_dim', where);
    const outputDim = sizeField(config, 'output_dim', where);
    return {
      weights: {
        elements: inputDim * outputDim,
        detail: `input_dim ${inputDim} × output_dim ${outputDim}`,
      },
      output: input ? [...input, outputDim] : null,
    };
  }
  if (className in RNN_GATES) {
    const units = sizeField(config, 'units', where);
    const gates = RNN_GATES[className];
    return {
      weights: {
        elements: gates * units * (inCount + units + 1),
        detail: `units ${units} × ${gates} gate(s) × (${inFeatures ?? 1} inputs + ${units} recurrent + 1)`,
      },
      output: null,
    };
  }
  if (className in CONV_RANK) {
    return convLayer(className, config, input, where, channelsFirst);
  }
  if (className in POOLING_RANK && !channelsFirst && input) {
    const rank = POOLING_RANK[className];
    const pool = sizeList(config, 'pool_size', rank, where, 2);
    const strides = config.strides == null ? pool : sizeList(config, 'strides', rank, where);
    return { weights: null, output: spatialOutput(input, pool, strides, [], config.padding, null) };
  }
  if (GLOBAL_POOLING.test(className) && !channelsFirst && input && input.length > 1) {
    return { weights: null, output: [input[0], lastDim(input)] };
  }
  if (className === 'Flatten' && input && input.length > 1) {
    const rest = input.slice(1);
    const known = rest.every((d) => d !== null);
    return {
      weights: null,
      output: [input[0], known ? (rest as number[]).reduce((a, b) => a * b, 1) : null],
    };
  }
  if (className === 'BatchNormalization' || className === 'LayerNormalization') {
    // gamma, beta (and BN's moving mean and variance) over the last axis; another axis counts 1.
    const per = className === 'BatchNormalization' ? 4 : 2;
    const axis =
      Array.isArray(config.axis) && config.axis.length === 1 ? config.axis[0] : config.axis;
    const onLast = axis == null || axis === -1 || (input !== null && axis === input.length - 1);
    const n = onLast ? inCount : 1;
    return {
      weights: { elements: per * n, detail: `${per} vectors of ${n}` },
      output: input,
    };
  }
  if (className === 'ZeroPadding2D' && !channelsFirst && input?.length === 4) {
    return { weights: null, output: paddedShape(input, config.padding) };
  }
  if (className === 'UpSampling2D' && !channelsFirst && input?.length === 4) {
    const size = sizeList(config, 'size', 2, where, 2);
    const scale = (d: number | null, k: number) => (d === null ? null : d * k);
    return {
      weights: null,
      output: [input[0], scale(input[1], size[0]), scale(input[2], size[1]), input[3]],
    };
  }
  if (className === 'Reshape' && Array.isArray(config.target_shape)) {
    const target = shapeOf(config.target_shape);
    return { weights: null, output: target && input ? [input[0], ...target] : null };
  }
  if (className === 'Concatenate' && (config.axis ?? -1) === -1) {
    const last = inputs.map(lastDim);
    const known = last.every((d) => d !== null) && input !== null;
    const sum = (last as number[]).reduce((a, b) => a + b, 0);
    return { weights: null, output: known ? [...input.slice(0, -1), sum] : null };
  }
  if (SAME_SHAPE.has(className)) return { weights: null, output: input };
  return { weights: null, output: null };
}

/** A conv layer's weights (a DO layer's W and D) and its output shape. */
function convLayer(
  className: string,
  config: Json,
  input: Shape,
  where: string,
  channelsFirst: boolean,
): { weights: LayerWeights; output: Shape } {
  const rank = CONV_RANK[className];
  const kernel = sizeList(config, 'kernel_size', rank, where);
  const area = kernel.reduce((a, b) => a * b, 1);
  const inFeatures = channelsFirst ? null : lastDim(input);
  const c = inFeatures ?? 1;
  const groups = config.groups == null ? 1 : sizeField(config, 'groups', where);
  const cPerGroup = Math.max(1, Math.floor(c / groups));
  const kernelText = `kernel_size ${JSON.stringify(config.kernel_size)}`;
  const inText = inFeatures === null ? '' : ` × ${inFeatures} input channels`;
  const parts: string[] = [];
  let elements = 0;
  let outChannels: number;
  const doLayer = DO_LAYERS.has(className);
  const dMulValue = config.d_mul ?? config.D_mul ?? config.DMul ?? config.dMul;
  const dMul = doLayer && area > 1 ? sizeField({ dMul: dMulValue }, 'dMul', where, area) : area;
  if (doLayer && area > 1) {
    // D [M·N, dMul, C]; W holds dMul (≥ M·N) in place of the kernel area, so it is at least as
    // large as the composed kernel computed from it.
    elements += area * dMul * c;
    parts.push(`D: ${kernelText} × dMul ${dMul}${inText}`);
  }
  if (DEPTHWISE.has(className) || SEPARABLE.has(className)) {
    const multiplier = sizeField(config, 'depth_multiplier', where, 1);
    elements += dMul * c * multiplier;
    parts.push(
      `depthwise: ${doLayer ? `dMul ${dMul}` : kernelText}${inText} × depth_multiplier ${multiplier}`,
    );
    if (SEPARABLE.has(className)) {
      const filters = sizeField(config, 'filters', where);
      elements += c * multiplier * filters + (config.use_bias === false ? 0 : filters);
      parts.push(
        `pointwise: depth_multiplier ${multiplier}${inText} × filters ${filters} (+ biases)`,
      );
      outChannels = filters;
    } else {
      outChannels = c * multiplier;
      if (config.use_bias !== false) elements += outChannels;
    }
  } else {
    const filters = sizeField(config, 'filters', where);
    elements += dMul * cPerGroup * filters + (config.use_bias === false ? 0 : filters);
    parts.push(
      `${doLayer ? `W: dMul ${dMul}` : kernelText}${inText} × filters ${filters} (+ biases)`,
    );
    outChannels = filters;
  }
  const transposed = className.endsWith('Transpose');
  const strides = sizeList(config, 'strides', rank, where, 1);
  const dilation = sizeList(config, 'dilation_rate', rank, where, 1);
  const output =
    channelsFirst || transposed || !input
      ? null
      : spatialOutput(input, kernel, strides, dilation, config.padding, outChannels);
  return { weights: { elements, detail: parts.join(' + ') }, output };
}

/**
 * [batch, ...spatial, channels] after a window of `kernel` with `strides` and `dilation`
 * (Keras' conv_output_length); `channels` null keeps the input's. Unknown where not certain.
 */
function spatialOutput(
  input: Array<number | null>,
  kernel: number[],
  strides: number[],
  dilation: number[],
  padding: unknown,
  channels: number | null,
): Shape {
  if (input.length !== kernel.length + 2) return null;
  const same = padding === 'same' || padding === 'causal';
  if (!same && padding !== 'valid' && padding !== undefined) return null;
  const spatial = kernel.map((k, i) => {
    const length = input[i + 1];
    if (length === null) return null;
    const extent = (k - 1) * (dilation[i] ?? 1) + 1;
    const covered = same ? length : length - extent + 1;
    return covered >= 1 ? Math.ceil(covered / strides[i]) : null;
  });
  return [input[0], ...spatial, channels ?? lastDim(input)];
}

/** [batch, h, w, c] after ZeroPadding2D's `padding`: p, [ph, pw] or [[top, bottom], [left, right]]. */
function paddedShape(input: Array<number | null>, padding: unknown): Shape {
  const pair = (v: unknown): [number, number] | null =>
    Number.isSafeInteger(v) && (v as number) >= 0
      ? [v as number, v as number]
      : Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x) && x >= 0)
        ? [v[0], v[1]]
        : null;
  const sides = Array.isArray(padding) ? padding.map(pair) : [pair(padding), pair(padding)];
  if (sides.length !== 2 || sides.some((p) => p === null)) return null;
  const grow = (d: number | null, [a, b]: [number, number]) => (d === null ? null : d + a + b);
  return [input[0], grow(input[1], sides[0]!), grow(input[2], sides[1]!), input[3]];
}
