/**
 * Conv1D and DOConv1D → ONNX Conv on [N, C, L]. A 3D value has only TF.js's layout [N, L, C] in this
 * export (context.ts), so each 1D conv transposes in and out; ONNX's 1D Conv takes W [F, C, k].
 */
import * as tf from '@tensorflow/tfjs';
import { DOConv1D } from '../../../layers/DOConv1D.js';
import { emitActivation } from '../activations.js';
import type { ConversionContext, LayerConverter, Value } from '../context.js';
import {
  configOf,
  describeLayer,
  floatData,
  requireChannelsLast,
  requireWeight,
} from '../layerConfig.js';
import { samePads } from '../padding.js';

interface Conv1DSpec {
  /** The kernel as a Conv1D holds it, [k, C, F]; made inside a tidy. */
  kernel: () => tf.Tensor3D;
  stride: number;
  dilation: number;
  padding: 'same' | 'valid';
  bias: tf.Tensor | null;
  activation: string;
}

const SWAP_LAST_TWO = [0, 2, 1];

function emitConv1d(
  ctx: ConversionContext,
  x: Value,
  spec: Conv1DSpec,
  name: string,
  outShape: Value['shape'],
): Value {
  const { weight, shape } = tf.tidy(() => {
    const kernel = spec.kernel();
    return { weight: floatData(tf.transpose(kernel, [2, 1, 0])), shape: kernel.shape };
  });
  const [k, C, F] = shape;
  const w = ctx.graph.addFloatInitializer(`${name}/W`, weight, [F, C, k]);
  const [ncl] = ctx.graph.addNode('Transpose', [x.name], `${name}/ncl`, { perm: SWAP_LAST_TWO });
  const inputs = [ncl, w];
  if (spec.bias) inputs.push(ctx.graph.addFloatInitializer(`${name}/B`, floatData(spec.bias), [F]));
  const length = x.shape[1];
  let pads: { pads?: number[]; auto_pad?: string } = {};
  if (spec.padding === 'same') {
    pads =
      length == null
        ? { auto_pad: 'SAME_UPPER' }
        : { pads: samePads(length, k, spec.stride, spec.dilation) };
  }
  const [conv] = ctx.graph.addNode('Conv', inputs, `${name}/conv`, {
    kernel_shape: [k],
    strides: [spec.stride],
    dilations: spec.dilation > 1 ? [spec.dilation] : undefined,
    ...pads,
  });
  const [out] = ctx.graph.addNode('Transpose', [conv], name, { perm: SWAP_LAST_TWO });
  const y: Value = { name: out, shape: outShape, layout: 'tf' };
  return emitActivation(ctx, y, spec.activation, name);
}

/** A conv1d config value given as n or [n]. */
function single(layer: tf.layers.Layer, key: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return v[0];
  throw new Error(
    `${describeLayer(layer)}: ${key} must be a number or a list of one, got ${JSON.stringify(value)}`,
  );
}

function padding(layer: tf.layers.Layer, value: unknown): 'same' | 'valid' {
  if (value === 'same' || value === 'valid') return value;
  throw new Error(
    `${describeLayer(layer)}: padding ${JSON.stringify(value)} is not supported ('same' or 'valid')`,
  );
}

/** tf.layers.conv1d. */
export const conv1d: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  requireChannelsLast(layer, config);
  const spec: Conv1DSpec = {
    kernel: () => requireWeight(layer, 'kernel') as tf.Tensor3D,
    stride: single(layer, 'strides', config.strides, 1),
    dilation: single(layer, 'dilationRate', config.dilationRate, 1),
    padding: padding(layer, config.padding),
    bias: config.useBias ? requireWeight(layer, 'bias') : null,
    activation: config.activation as string,
  };
  return [emitConv1d(ctx, call.inputs[0], spec, layer.name, call.outputShapes[0])];
};

/** DOConv1D: one Conv with the composed kernel, as its fold's Conv1D. */
export const doConv1d: LayerConverter = (call, ctx) => {
  const layer = call.layer;
  if (!(layer instanceof DOConv1D)) throw new Error(`${describeLayer(layer)}: not a DOConv1D`);
  const spec: Conv1DSpec = {
    kernel: () => layer.composedKernel1d(),
    stride: layer.strides[1],
    dilation: layer.dilationRate[1],
    padding: layer.padding,
    bias: layer.useBias ? requireWeight(layer, 'bias') : null,
    activation: layer.activationName,
  };
  return [emitConv1d(ctx, call.inputs[0], spec, layer.name, call.outputShapes[0])];
};
