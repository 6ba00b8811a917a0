/**
 * A LayersModel's layers as the inference plan's ops (inferencePlanIr.ts), one layer at a time, in
 * topological order. A layer the plan cannot run is refused with an error naming its class and name.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  LINEAR,
  PLAN_ACT,
  UnsupportedLayerError,
  type Act,
  type IrOp,
  type Value,
} from './inferencePlanIr.js';

type SymbolicTensor = tf.SymbolicTensor;

function layerTag(layer: tf.layers.Layer): string {
  return `${layer.getClassName()} '${layer.name}'`;
}

/** A layer's weight by its short name ('kernel', 'bias', 'gamma', …), read once as float32. */
function weightOf(layer: tf.layers.Layer, name: string): Float32Array | undefined {
  const w = layer.weights.find((v) => v.originalName.split('/').pop() === name);
  return w === undefined ? undefined : Float32Array.from(w.read().dataSync() as Float32Array);
}

function requiredWeight(layer: tf.layers.Layer, name: string): Float32Array {
  const w = weightOf(layer, name);
  if (w === undefined) throw new UnsupportedLayerError(layer, `it has no weight '${name}'`);
  return w;
}

/** A TF.js activation by name as a plan activation, 'softmax' (an op of its own), or refused. */
function activationOf(layer: tf.layers.Layer, name: unknown): Act | 'softmax' {
  switch (name ?? 'linear') {
    case 'linear':
      return LINEAR;
    case 'relu':
      return { code: PLAN_ACT.relu, alpha: 0, beta: 0 };
    case 'relu6':
      return { code: PLAN_ACT.clip, alpha: 0, beta: 6 };
    case 'tanh':
      return { code: PLAN_ACT.tanh, alpha: 0, beta: 0 };
    case 'sigmoid':
      return { code: PLAN_ACT.sigmoid, alpha: 0, beta: 0 };
    case 'elu':
      return { code: PLAN_ACT.elu, alpha: 1, beta: 0 };
    case 'softmax':
      return 'softmax';
    default:
      throw new UnsupportedLayerError(layer, `activation ${JSON.stringify(name)} is not compiled`);
  }
}

function pair(v: unknown, fallback: number): [number, number] {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a.length > 1 ? a[1] : a[0]];
}

/** TF's padding of one axis: 'valid' none, 'same' total = max((⌈in/s⌉ − 1)·s + span − in, 0), top ⌊total/2⌋. */
function padsOf(padding: string, size: number, span: number, stride: number): [number, number] {
  if (padding === 'valid') return [0, 0];
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + span - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Batch-free NHWC shape of a symbolic tensor (rank 2 → [1, 1, c], rank 3 → [1, a, b]). */
function nhwcOf(layer: tf.layers.Layer, t: SymbolicTensor): [number, number, number] {
  const dims = t.shape.slice(1);
  if (dims.some((d) => d == null)) {
    throw new UnsupportedLayerError(layer, `its shape ${JSON.stringify(t.shape)} is not fixed`);
  }
  const d = dims as number[];
  if (d.length === 3) return [d[0], d[1], d[2]];
  if (d.length === 2) return [1, d[0], d[1]];
  if (d.length === 1) return [1, 1, d[0]];
  throw new UnsupportedLayerError(layer, `rank-${t.shape.length} tensors are not compiled`);
}

function channelsLast(layer: tf.layers.Layer): void {
  const format = layer.getConfig().dataFormat;
  if (format != null && format !== 'channelsLast') {
    throw new UnsupportedLayerError(
      layer,
      `dataFormat ${JSON.stringify(format)} (channelsLast only)`,
    );
  }
}

/**
 * A channels-last conv layer's window as a plan record's fields kh, kw, sh, sw, dh, dw, pt, pb,
 * pl, pr, for an input [h, w, c].
 */
function convWindow(layer: tf.layers.Layer, [h, w]: [number, number, number]): number[] {
  channelsLast(layer);
  const config = layer.getConfig();
  const [kh, kw] = pair(config.kernelSize, 1);
  const [sh, sw] = pair(config.strides, 1);
  const [dh, dw] = pair(config.dilationRate, 1);
  const padding = config.padding as string;
  if (padding !== 'valid' && padding !== 'same') {
    throw new UnsupportedLayerError(layer, `padding ${JSON.stringify(padding)}`);
  }
  const [pt, pb] = padsOf(padding, h, (kh - 1) * dh + 1, sh);
  const [pl, pr] = padsOf(padding, w, (kw - 1) * dw + 1, sw);
  return [kh, kw, sh, sw, dh, dw, pt, pb, pl, pr];
}

/** The graph of `model` as plan ops, in topological order (the output's op last). */
export function buildIr(model: tf.LayersModel): IrOp[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `compileInference: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; one of each is compiled`,
    );
  }
  const ops: IrOp[] = [];
  const values = new Map<SymbolicTensor, Value>();
  values.set(model.inputs[0], 'input');

  const visit = (t: SymbolicTensor): Value => {
    const known = values.get(t);
    if (known !== undefined) return known;
    const layer = t.sourceLayer as tf.layers.Layer;
    const node = layer.inboundNodes[t.nodeIndex];
    if (layer.inboundNodes.length !== 1) {
      throw new UnsupportedLayerError(layer, 'a layer called more than once is not compiled');
    }
    const inputs = node.inputTensors.map(visit);
    const v = mapLayer(layer, inputs, node.inputTensors, t, ops);
    values.set(t, v);
    return v;
  };
  const out = visit(model.outputs[0]);
  if (out === 'input')
    throw new Error('compileInference: the model computes nothing (its output is its input)');
  return ops;
}

/** Appends the ops of one layer; returns the value of its output. */
function mapLayer(
  layer: tf.layers.Layer,
  inputs: Value[],
  inputTensors: SymbolicTensor[],
  output: SymbolicTensor,
  ops: IrOp[],
): Value {
  const config = layer.getConfig();
  const cls = layer.getClassName();
  const shape = nhwcOf(layer, output);
  const tag = layerTag(layer);
  const push = (op: Omit<IrOp, 'layer' | 'shape'> & { shape?: IrOp['shape'] }): IrOp => {
    const full: IrOp = { shape, layer: tag, ...op };
    ops.push(full);
    return full;
  };
  const withActivation = (op: IrOp, act: Act | 'softmax'): IrOp =>
    act === 'softmax' ? push({ kind: 'softmax', inputs: [op], act: LINEAR }) : ((op.act = act), op);
  const one = (): Value => {
    if (inputs.length !== 1)
      throw new UnsupportedLayerError(layer, `it has ${inputs.length} inputs`);
    return inputs[0];
  };
  const inShape = (i = 0) => nhwcOf(layer, inputTensors[i]);

  switch (cls) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const x = one();
      const c = inShape()[2];
      const window = convWindow(layer, inShape());
      const depthwise = cls === 'DepthwiseConv2D';
      const op = push({
        kind: 'conv',
        inputs: [x],
        act: LINEAR,
        window,
        out: shape[2],
        groups: depthwise ? c : 1,
        weight: requiredWeight(layer, depthwise ? 'depthwise_kernel' : 'kernel'),
        bias: config.useBias === false ? undefined : requiredWeight(layer, 'bias'),
      });
      return withActivation(op, activationOf(layer, config.activation));
    }
    case 'SeparableConv2D': {
      const x = one();
      const c = inShape()[2];
      const window = convWindow(layer, inShape());
      const depthwiseKernel = requiredWeight(layer, 'depthwise_kernel'); // [kh, kw, c, multiplier]
      const mid = depthwiseKernel.length / (window[0] * window[1]);
      const depthwise = push({
        kind: 'conv',
        inputs: [x],
        act: LINEAR,
        window,
        out: mid,
        groups: c,
        weight: depthwiseKernel,
        shape: [shape[0], shape[1], mid],
      });
      const op = push({
        kind: 'conv',
        inputs: [depthwise],
        act: LINEAR,
        window: [1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
        out: shape[2],
        groups: 1,
        weight: requiredWeight(layer, 'pointwise_kernel'),
        bias: config.useBias === false ? undefined : requiredWeight(layer, 'bias'),
      });
      return withActivation(op, activationOf(layer, config.activation));
    }
    case 'Dense': {
      const x = one();
      const rank = inputTensors[0].rank;
      const units = config.units as number;
      const weight = requiredWeight(layer, 'kernel');
      const bias = config.useBias === false ? undefined : requiredWeight(layer, 'bias');
      let op: IrOp;
      if (rank === 2) {
        op = push({ kind: 'dense', inputs: [x], act: LINEAR, out: units, weight, bias });
      } else if (rank === 4) {
        // TF.js applies a Dense layer to the last axis: a 1×1 conv, kernel [1, 1, c, units].
        op = push({
          kind: 'conv',
          inputs: [x],
          act: LINEAR,
          window: [1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
          out: units,
          groups: 1,
          weight,
          bias,
        });
      } else {
        throw new UnsupportedLayerError(layer, `its input has rank ${rank} (2 or 4 are compiled)`);
      }
      return withActivation(op, activationOf(layer, config.activation));
    }
    case 'ReLU': {
      const max = config.maxValue as number | null | undefined;
      const act: Act =
        max == null
          ? { code: PLAN_ACT.relu, alpha: 0, beta: 0 }
          : { code: PLAN_ACT.clip, alpha: 0, beta: max };
      return push({ kind: 'activation', inputs: [one()], act });
    }
    case 'LeakyReLU':
      return push({
        kind: 'activation',
        inputs: [one()],
        act: { code: PLAN_ACT.relu, alpha: (config.alpha as number) ?? 0.3, beta: 0 },
      });
    case 'ELU':
      return push({
        kind: 'activation',
        inputs: [one()],
        act: { code: PLAN_ACT.elu, alpha: (config.alpha as number) ?? 1, beta: 0 },
      });
    case 'Activation': {
      const act = activationOf(layer, config.activation);
      if (act === 'softmax') {
        if (inputTensors[0].rank !== 2 && inputTensors[0].rank !== 4)
          throw new UnsupportedLayerError(layer, 'softmax over a rank-3 tensor');
        return push({ kind: 'softmax', inputs: [one()], act: LINEAR });
      }
      return push({ kind: 'activation', inputs: [one()], act });
    }
    case 'Softmax': {
      const axis = config.axis as number;
      if (axis !== -1 && axis !== inputTensors[0].rank - 1) {
        throw new UnsupportedLayerError(layer, `softmax over axis ${axis} (the last axis only)`);
      }
      return push({ kind: 'softmax', inputs: [one()], act: LINEAR });
    }
    case 'Add': {
      if (inputs.length < 2) throw new UnsupportedLayerError(layer, 'it has fewer than 2 inputs');
      for (const t of inputTensors) {
        if (JSON.stringify(t.shape) !== JSON.stringify(output.shape)) {
          throw new UnsupportedLayerError(layer, `broadcasting ${JSON.stringify(t.shape)}`);
        }
      }
      let sum: Value = inputs[0];
      for (const next of inputs.slice(1)) {
        sum = push({ kind: 'add', inputs: [sum, next], act: LINEAR });
      }
      return sum;
    }
    case 'Concatenate': {
      const axis = config.axis as number;
      if (axis !== -1 && axis !== output.rank - 1) {
        throw new UnsupportedLayerError(layer, `concatenation on axis ${axis} (the last only)`);
      }
      let joined: Value = inputs[0];
      let channels = inShape(0)[2];
      for (const [i, next] of inputs.slice(1).entries()) {
        channels += inShape(i + 1)[2];
        joined = push({
          kind: 'concat',
          inputs: [joined, next],
          act: LINEAR,
          shape: [shape[0], shape[1], channels],
        });
      }
      return joined;
    }
    case 'BatchNormalization': {
      const axis = config.axis as number;
      if (axis !== -1 && axis !== inputTensors[0].rank - 1) {
        throw new UnsupportedLayerError(layer, `axis ${axis} (the last axis only)`);
      }
      const eps = config.epsilon as number;
      const mean = requiredWeight(layer, 'moving_mean');
      const variance = requiredWeight(layer, 'moving_variance');
      const gamma = config.scale === false ? undefined : requiredWeight(layer, 'gamma');
      const beta = config.center === false ? undefined : requiredWeight(layer, 'beta');
      const scale = new Float32Array(mean.length);
      const shift = new Float32Array(mean.length);
      for (let c = 0; c < mean.length; c++) {
        scale[c] = (gamma?.[c] ?? 1) / Math.sqrt(variance[c] + eps);
        shift[c] = (beta?.[c] ?? 0) - mean[c] * scale[c];
      }
      return push({ kind: 'scaleShift', inputs: [one()], act: LINEAR, weight: scale, bias: shift });
    }
    case 'ZeroPadding2D': {
      channelsLast(layer);
      const p = config.padding as number[][];
      return push({
        kind: 'pad',
        inputs: [one()],
        act: LINEAR,
        window: [1, 1, 1, 1, 1, 1, p[0][0], p[0][1], p[1][0], p[1][1]],
      });
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast(layer);
      const [h, w] = inShape();
      const [kh, kw] = pair(config.poolSize, 2);
      const [sh, sw] = config.strides == null ? [kh, kw] : pair(config.strides, 1);
      const padding = config.padding as string;
      const [pt, pb] = padsOf(padding, h, kh, sh);
      const [pl, pr] = padsOf(padding, w, kw, sw);
      return push({
        kind: 'pool',
        inputs: [one()],
        act: LINEAR,
        window: [kh, kw, sh, sw, 1, 1, pt, pb, pl, pr],
        extra: [cls === 'MaxPooling2D' ? 0 : 1],
      });
    }
    case 'GlobalAveragePooling2D':
      channelsLast(layer);
      return push({ kind: 'globalAvgPool', inputs: [one()], act: LINEAR });
    case 'GlobalMaxPooling2D': {
      channelsLast(layer);
      const [h, w] = inShape();
      return push({
        kind: 'pool',
        inputs: [one()],
        act: LINEAR,
        window: [h, w, 1, 1, 1, 1, 0, 0, 0, 0],
        extra: [0],
      });
    }
    case 'Flatten':
    case 'Reshape':
      return push({ kind: 'reshape', inputs: [one()], act: LINEAR, extra: [...shape] });
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return one(); // identity at inference
    default: {
      const hint = /^DO[A-Z]/.test(cls) ? ' (fold the model first: foldModel)' : '';
      throw new UnsupportedLayerError(layer, `this layer class is not compiled${hint}`);
    }
  }
}
