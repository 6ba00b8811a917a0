import * as tf from '@tensorflow/tfjs';
import { diagIdentity } from '../algebra/diagIdentity.js';
import { officialPytorchKernel, weightForKernelAtZeroD } from '../algebra/officialComposition.js';
import { DOConvBase } from '../layers/DOConvBase.js';
import { DOSeparableConv2D } from '../layers/DOSeparableConv2D.js';
import { shortWeightName } from '../layers/weightNames.js';
import { warningSink, type WarningSink } from '../layers/warnings.js';

export interface LoadStateDictOptions {
  /** PyTorch module prefix → TF.js layer name, e.g. `{ 'features.0': 'conv1', 'fc': 'dense' }`. */
  map: Record<string, string>;
  /** Receives each warning (they are also returned). Default console.warn. */
  onWarning?: WarningSink;
  /**
   * Load weights holding NaN or ±Infinity. Default false: such a state_dict is refused, naming the
   * weights (a diverged checkpoint, not something to deploy).
   */
  allowNonFinite?: boolean;
  /**
   * What the state_dict's DO-Conv layers compute. 'pytorch-official' (default): the official DOConv2d,
   * whose W reshape departs from the definition for 1 < groups < C and for depthwise with multiplier > 1
   * (its function is reproduced, with a warning). 'definition': the per-channel definition for every
   * groups, as doconv computes it (tools/doconv_torch's DOConv2d): W and D are copied as they are.
   */
  composition?: StateDictComposition;
}

/** See {@link LoadStateDictOptions.composition}. */
export type StateDictComposition = 'pytorch-official' | 'definition';

export interface LoadStateDictReport {
  /** TF.js layer names whose weights were written. */
  loaded: string[];
  warnings: string[];
}

/** Weights of one TF.js layer, by short weight name, converted from PyTorch. */
type Converted = Record<string, tf.Tensor>;

interface LayerPlan {
  prefix: string;
  layer: tf.layers.Layer;
  /** PyTorch key suffixes this layer consumes (required) and may consume (optional). */
  required: string[];
  optional: string[];
  convert: (get: (suffix: string) => tf.Tensor) => Converted;
}

const PYTORCH_BN_EPSILON = 1e-5;

/**
 * Copies a PyTorch state_dict (e.g. from `readSafetensors`) into a TF.js model, converting layouts:
 * official DOConv2d W [F, C/g, dMul] and D [C, M·N, dMul] (d_diag checked, then ignored; DOConv1D's
 * twin DOConv1d likewise with M·N = k), nn.Conv2d OIHW → HWIO (depthwise → [kh, kw, C, mult]),
 * nn.Conv1d [F, C, k] → [k, C, F], nn.Linear [out, in] → [in, out] (rows permuted
 * from C·H·W to H·W·C order when the Dense follows a Flatten of a 4D tensor), BatchNorm
 * weight/bias/running_mean/running_var (num_batches_tracked skipped).
 *
 * Where the official DOConv2d departs from the DO-Conv definition (1 < groups < C, or depthwise with
 * multiplier > 1), the official function is reproduced exactly: its composed kernel is written into W
 * with D = 0, and a warning says so.
 *
 * Missing keys, unexpected keys and shape mismatches are all reported in one error before anything is
 * written.
 */
export function loadPytorchStateDict(
  model: tf.LayersModel,
  tensors: Record<string, tf.Tensor>,
  options: LoadStateDictOptions,
): LoadStateDictReport {
  const warnings: string[] = [];
  const composition = options.composition ?? 'pytorch-official';
  if (composition !== 'pytorch-official' && composition !== 'definition') {
    throw new Error(
      `loadPytorchStateDict: composition must be 'pytorch-official' or 'definition', got ${JSON.stringify(composition)}`,
    );
  }
  const problems: string[] = [];
  const plans: LayerPlan[] = [];
  for (const [prefix, layerName] of Object.entries(options.map)) {
    let layer: tf.layers.Layer;
    try {
      layer = model.getLayer(layerName);
    } catch {
      problems.push(`map: '${prefix}' → '${layerName}', but the model has no layer '${layerName}'`);
      continue;
    }
    const plan = planLayer(prefix, layer, warnings, composition);
    if (typeof plan === 'string') problems.push(plan);
    else plans.push(plan);
  }

  const consumed = new Set<string>();
  for (const plan of plans) {
    for (const suffix of plan.required) {
      const key = `${plan.prefix}.${suffix}`;
      if (!Object.hasOwn(tensors, key))
        problems.push(`missing key '${key}' (for layer '${plan.layer.name}')`);
      consumed.add(key);
    }
    for (const suffix of plan.optional) consumed.add(`${plan.prefix}.${suffix}`);
  }
  for (const key of Object.keys(tensors)) {
    if (!consumed.has(key))
      problems.push(
        `unexpected key '${key}' ${JSON.stringify(tensors[key].shape)} (no map entry takes it)`,
      );
  }
  if (problems.length > 0) throw new StateDictError(problems);

  // Convert everything, check every shape, and only then write.
  const converted: { plan: LayerPlan; weights: Converted }[] = [];
  try {
    for (const plan of plans) {
      const get = (suffix: string) => tensors[`${plan.prefix}.${suffix}`];
      let weights: Converted;
      try {
        weights = plan.convert(get);
      } catch (e) {
        problems.push(`${plan.prefix} → '${plan.layer.name}': ${(e as Error).message}`);
        continue;
      }
      converted.push({ plan, weights });
      for (const w of plan.layer.weights) {
        const name = shortWeightName(w);
        const value = weights[name];
        if (!value)
          problems.push(
            `layer '${plan.layer.name}' weight '${name}' has no source in '${plan.prefix}'`,
          );
        else if (!tf.util.arraysEqual(value.shape, w.shape as number[])) {
          problems.push(
            `shape mismatch: '${plan.prefix}' gives '${plan.layer.name}/${name}' shape ${JSON.stringify(value.shape)}, ` +
              `the layer has ${JSON.stringify(w.shape)}`,
          );
        } else if (value.dtype !== w.dtype) {
          problems.push(
            `dtype mismatch: '${plan.prefix}' gives '${plan.layer.name}/${name}' ${value.dtype} values, ` +
              `the layer holds ${w.dtype}`,
          );
        } else if (!options.allowNonFinite && !allFinite(value)) {
          problems.push(
            `'${plan.prefix}' gives '${plan.layer.name}/${name}' NaN or Infinity values ` +
              `(a diverged checkpoint? pass allowNonFinite to load it anyway)`,
          );
        }
      }
    }
    if (problems.length > 0) throw new StateDictError(problems);
    writeAllOrNothing(converted.map(({ plan, weights }) => ({ layer: plan.layer, weights })));
  } finally {
    for (const { weights } of converted) tf.dispose(Object.values(weights));
  }
  const onWarning = warningSink(options.onWarning, 'loadPytorchStateDict');
  for (const warning of warnings) onWarning(warning);
  return { loaded: converted.map(({ plan }) => plan.layer.name), warnings };
}

/** True when every value of `t` is finite (always for int32 and bool). */
function allFinite(t: tf.Tensor): boolean {
  if (t.dtype !== 'float32') return true;
  return tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1);
}

/**
 * Writes each layer's converted weights; if any write fails (names, shapes and dtypes were checked,
 * so only something unforeseen), puts back every layer written so far before rethrowing.
 */
function writeAllOrNothing(writes: { layer: tf.layers.Layer; weights: Converted }[]): void {
  const before = writes.map(({ layer }) => layer.getWeights().map((t) => tf.clone(t)));
  let done = 0;
  try {
    for (const { layer, weights } of writes) {
      layer.setWeights(layer.weights.map((w) => weights[shortWeightName(w)]));
      done++;
    }
  } catch (e) {
    for (let i = 0; i < done; i++) writes[i].layer.setWeights(before[i]);
    throw e;
  } finally {
    before.forEach((ts) => tf.dispose(ts));
  }
}

/** All problems of a state_dict load, listed one per line. */
export class StateDictError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `loadPytorchStateDict: nothing was loaded, ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
    );
    this.name = 'StateDictError';
  }
}

function planLayer(
  prefix: string,
  layer: tf.layers.Layer,
  warnings: string[],
  composition: StateDictComposition,
): LayerPlan | string {
  const className = layer.getClassName();
  const hasBias = layer.weights.some((w) => shortWeightName(w) === 'bias');
  const bias = hasBias ? ['bias'] : [];
  if (!layer.built)
    return `layer '${layer.name}' is not built (build the model before loading weights)`;
  if (layer instanceof DOSeparableConv2D) {
    return `layer '${layer.name}' is a DOSeparableConv2D, which loadPytorchStateDict does not load (PyTorch has no separable conv module; map entry '${prefix}')`;
  }
  if (layer instanceof DOConvBase) {
    // DOConv1D too: its W [F, C, D_mul] and D [C, k, D_mul] convert as a 1×k DOConv2D's.
    const area = layer.kernelArea;
    return {
      prefix,
      layer,
      required: ['W', ...(area > 1 ? ['D'] : []), ...bias],
      optional: area > 1 ? ['d_diag'] : [],
      convert: (get) => convertDOConv(prefix, layer, get, hasBias, warnings, composition),
    };
  }
  switch (className) {
    case 'Conv2D':
    case 'DilatedConv2D': // a Conv2D whose dilation trains on every backend: same weights
    case 'DepthwiseConv2D':
      return weightAndBias(prefix, layer, hasBias, (weight) => {
        const hwio = tf.transpose(weight, [2, 3, 1, 0]); // OIHW → HWIO ([kh, kw, 1, C·mult] when depthwise)
        return className === 'Conv2D' ? hwio : tf.reshape(hwio, layer.weights[0].shape as number[]);
      });
    case 'Conv1D':
      // nn.Conv1d [F, C, k] → [k, C, F]
      return weightAndBias(prefix, layer, hasBias, (weight) => tf.transpose(weight, [2, 1, 0]));
    case 'Dense':
      return weightAndBias(prefix, layer, hasBias, (weight) => {
        const kernel = tf.transpose(weight);
        const flattened = flattenedInputShape(layer);
        if (!flattened) return kernel;
        const [H, W, C] = flattened;
        const units = kernel.shape[1] as number;
        // PyTorch flattens NCHW as C·H·W; TF.js flattens NHWC as H·W·C.
        return tf.reshape(tf.transpose(tf.reshape(kernel, [C, H, W, units]), [1, 2, 0, 3]), [
          H * W * C,
          units,
        ]);
      });
    case 'BatchNormalization': {
      const names = layer.weights.map(shortWeightName);
      const epsilon = layer.getConfig().epsilon as number;
      if (Math.abs(epsilon - PYTORCH_BN_EPSILON) > 1e-12) {
        warnings.push(
          `layer '${layer.name}': BatchNormalization epsilon is ${epsilon}, PyTorch's is ${PYTORCH_BN_EPSILON}; ` +
            `outputs will differ slightly (build it with epsilon: ${PYTORCH_BN_EPSILON})`,
        );
      }
      const source: Record<string, string> = {
        gamma: 'weight',
        beta: 'bias',
        moving_mean: 'running_mean',
        moving_variance: 'running_var',
      };
      return {
        prefix,
        layer,
        required: names.map((n) => source[n]).filter(Boolean),
        // A TF.js BN without scale/center has no gamma/beta; PyTorch's affine=False has none either.
        optional: [
          'num_batches_tracked',
          ...['weight', 'bias'].filter((k) => !names.map((n) => source[n]).includes(k)),
        ],
        convert: (get) => Object.fromEntries(names.map((n) => [n, tf.clone(get(source[n]))])),
      };
    }
    default:
      return `layer '${layer.name}' is a ${className}, which loadPytorchStateDict does not load (map entry '${prefix}')`;
  }
}

/**
 * The plan of a layer PyTorch stores as `weight` (+ `bias`): nn.Conv1d/Conv2d, a depthwise Conv2d,
 * nn.Linear. `toKernel` lays `weight` out as the layer's first weight (run inside a tidy).
 */
function weightAndBias(
  prefix: string,
  layer: tf.layers.Layer,
  hasBias: boolean,
  toKernel: (weight: tf.Tensor) => tf.Tensor,
): LayerPlan {
  return {
    prefix,
    layer,
    required: ['weight', ...(hasBias ? ['bias'] : [])],
    optional: [],
    convert: (get) =>
      tf.tidy(() => ({
        [shortWeightName(layer.weights[0])]: toKernel(get('weight')),
        ...(hasBias ? { bias: tf.clone(get('bias')) } : {}),
      })),
  };
}

function convertDOConv(
  prefix: string,
  layer: DOConvBase,
  get: (suffix: string) => tf.Tensor,
  hasBias: boolean,
  warnings: string[],
  composition: StateDictComposition,
): Converted {
  const kernelName = shortWeightName(layer.weights[0]);
  const [F, cPerGroup, dMul] = get('W').shape;
  if (dMul !== layer.dMul)
    throw new Error(`W has D_mul ${dMul} but the layer has dMul ${layer.dMul}`);
  const groups = layer.convGroups;
  const inChannels = cPerGroup * groups;
  const dWeight = layer.weights.find((w) => shortWeightName(w) === 'D');
  const layerChannels = dWeight ? (dWeight.shape[2] as number) : null;
  if (layerChannels !== null && inChannels !== layerChannels) {
    // Checked before D and d_diag, whose shapes follow from it: the cause is W.
    throw new Error(
      `W ${JSON.stringify(get('W').shape)} has ${cPerGroup} input channels per group (${inChannels} in all, ` +
        `groups ${groups}) but the layer has ${layerChannels} input channels`,
    );
  }
  const dHat = layer.kernelArea > 1 ? checkedDHat(get, layer, inChannels) : null;
  const departs =
    composition === 'pytorch-official' &&
    groups > 1 &&
    (groups < inChannels || F / inChannels > 1) &&
    layer.kernelArea > 1;
  const ourShape = layer.weights[0].shape as number[];
  const out = tf.tidy(() => {
    const result: Converted = {};
    if (departs) {
      // The official W reshape ties D to other channels here: keep its function, D restarts at 0.
      const kernel = officialPytorchKernel(get('W') as tf.Tensor3D, dHat, layer.kernelSize, groups);
      result[kernelName] = tf.reshape(weightForKernelAtZeroD(kernel, dMul), ourShape);
      result.D = tf.zeros(layer.weights[1].shape as number[]);
    } else {
      result[kernelName] = tf.reshape(tf.transpose(get('W'), [2, 1, 0]), ourShape);
      if (layer.kernelArea > 1) result.D = tf.transpose(get('D'), [1, 2, 0]);
    }
    if (hasBias) result.bias = tf.clone(get('bias'));
    return result;
  });
  dHat?.dispose();
  if (departs) {
    warnings.push(
      `layer '${layer.name}' ('${prefix}', groups ${groups}, ${inChannels} input channels, ${F} outputs): the official ` +
        `PyTorch DOConv2d departs from the DO-Conv definition here; its composed kernel was written into W with D = 0, ` +
        `so the model computes the official function (D restarts from zero if you train on).`,
    );
  }
  return out;
}

/** D + d_diag in PyTorch layout [C, M·N, dMul], after checking d_diag (when present) is the official constant. */
function checkedDHat(
  get: (suffix: string) => tf.Tensor,
  layer: DOConvBase,
  inChannels: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const expected = tf.transpose(
      diagIdentity(layer.kernelArea, layer.dMul, inChannels),
      [2, 0, 1],
    );
    const given = get('d_diag');
    if (given) {
      if (
        !tf.util.arraysEqual(given.shape, expected.shape) ||
        tf.any(tf.notEqual(given, expected)).dataSync()[0]
      ) {
        throw new Error(
          `d_diag ${JSON.stringify(given.shape)} is not the identity constant of an official DOConv2d`,
        );
      }
    }
    return tf.add(get('D'), expected) as tf.Tensor3D;
  });
}

/** [H, W, C] when the layer's input is a Flatten of a 4D tensor. */
function flattenedInputShape(layer: tf.layers.Layer): [number, number, number] | null {
  const inbound = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] })
    .inboundNodes;
  const previous = inbound?.[0]?.inboundLayers?.[0];
  if (!previous || previous.getClassName() !== 'Flatten') return null;
  const shape = (previous.input as tf.SymbolicTensor).shape;
  return shape.length === 4 ? (shape.slice(1) as [number, number, number]) : null;
}
