import * as tf from '@tensorflow/tfjs';
import { DOConvBase } from '../../../layers/DOConvBase.js';
import { DOSeparableConv2D } from '../../../layers/DOSeparableConv2D.js';
import { emitActivation } from '../activations.js';
import type { ConversionContext, LayerCall, LayerConverter, Value } from '../context.js';
import {
  configOf,
  describeLayer,
  floatData,
  pairOf,
  requireChannelsLast,
  requireWeight,
} from '../layerConfig.js';
import { onnxPadding } from '../padding.js';

/** One ONNX Conv: what it convolves with and how. */
interface ConvSpec {
  /** Makes the kernel in grouped-conv layout [M, N, C/g, F] (TF's HWIO per group); run inside a tidy. */
  kernel: () => tf.Tensor4D;
  groups: number;
  strides: [number, number];
  dilations: [number, number];
  padding: 'same' | 'valid';
  bias: tf.Tensor | null;
}

/**
 * Emits Conv(x, W, b) on x in NCHW. W is the kernel as ONNX's [F, C/g, M, N]; pads are TF's (the
 * odd pixel of 'same' at the bottom/right). `outShape` is the output's TF.js shape.
 */
function emitConv(
  ctx: ConversionContext,
  x: Value,
  spec: ConvSpec,
  name: string,
  outShape: Value['shape'],
): Value {
  const input = ctx.as(x, 'nchw');
  const { weight, shape } = tf.tidy(() => {
    const kernel = spec.kernel();
    return { weight: floatData(tf.transpose(kernel, [3, 2, 0, 1])), shape: kernel.shape };
  });
  const [M, N, cPerGroup, F] = shape;
  const bias = spec.bias ? floatData(spec.bias) : null;
  const w = ctx.graph.addFloatInitializer(`${name}/W`, weight, [F, cPerGroup, M, N]);
  const inputs = [input.name, w];
  if (bias) inputs.push(ctx.graph.addFloatInitializer(`${name}/B`, bias, [F]));
  const [out] = ctx.graph.addNode('Conv', inputs, name, {
    kernel_shape: [M, N],
    strides: spec.strides,
    dilations: spec.dilations[0] > 1 || spec.dilations[1] > 1 ? spec.dilations : undefined,
    group: spec.groups > 1 ? spec.groups : undefined,
    ...onnxPadding(spec.padding, [x.shape[1], x.shape[2]], [M, N], spec.strides, spec.dilations),
  });
  return { name: out, shape: outShape, layout: 'nchw' };
}

function padding(call: LayerCall, value: unknown): 'same' | 'valid' {
  if (value === 'same' || value === 'valid') return value;
  throw new Error(
    `${describeLayer(call.layer)}: padding ${JSON.stringify(value)} is not supported ('same' or 'valid')`,
  );
}

/** tf.layers.conv2d: one Conv, then the activation. */
export const conv2d: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  requireChannelsLast(layer, config);
  const y = emitConv(
    ctx,
    call.inputs[0],
    {
      kernel: () => requireWeight(layer, 'kernel') as tf.Tensor4D,
      groups: 1,
      strides: pairOf(layer, 'strides', config.strides, 1),
      dilations: pairOf(layer, 'dilationRate', config.dilationRate, 1),
      padding: padding(call, config.padding),
      bias: config.useBias ? requireWeight(layer, 'bias') : null,
    },
    layer.name,
    call.outputShapes[0],
  );
  return [emitActivation(ctx, y, config.activation as string, layer.name)];
};

/** [M, N, C, mult] depthwise kernel as the grouped layout [M, N, 1, C·mult] (output c·mult + q). */
function depthwiseAsGrouped(kernel: tf.Tensor): tf.Tensor4D {
  const [M, N, C, mult] = kernel.shape;
  return tf.reshape(kernel, [M, N, 1, C * mult]);
}

/**
 * tf.layers.depthwiseConv2d: a Conv with group = C. TF.js 4.22's DepthwiseConv2D layer ignores its
 * dilationRate (in its output shape too), so the export does as well, with a warning.
 */
export const depthwiseConv2d: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  requireChannelsLast(layer, config);
  const dilation = pairOf(layer, 'dilationRate', config.dilationRate, 1);
  if (dilation[0] > 1 || dilation[1] > 1) {
    ctx.warn(
      `${describeLayer(layer)}: dilationRate ${JSON.stringify(dilation)} is ignored, as TF.js's DepthwiseConv2D ` +
        `ignores it; fold a DODepthwiseConv2D or use SeparableConv2D for a dilated depthwise conv`,
    );
  }
  const kernel = requireWeight(layer, 'depthwise_kernel') as tf.Tensor4D;
  const y = emitConv(
    ctx,
    call.inputs[0],
    {
      kernel: () => depthwiseAsGrouped(kernel),
      groups: kernel.shape[2],
      strides: pairOf(layer, 'strides', config.strides, 1),
      dilations: [1, 1],
      padding: padding(call, config.padding),
      bias: config.useBias ? requireWeight(layer, 'bias') : null,
    },
    layer.name,
    call.outputShapes[0],
  );
  return [emitActivation(ctx, y, config.activation as string, layer.name)];
};

/** Whether a pointwise kernel [1, 1, K, K] is the identity (foldModel's stand-in for a dilated depthwise). */
function isIdentityPointwise(pointwise: tf.Tensor): boolean {
  const [, , k, f] = pointwise.shape;
  if (k !== f) return false;
  const data = pointwise.dataSync();
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) if (data[i * k + j] !== (i === j ? 1 : 0)) return false;
  }
  return true;
}

/**
 * tf.layers.separableConv2d: depthwise Conv (group = C, with the dilation) then a 1×1 Conv. An
 * identity pointwise kernel — how foldModel writes a dilated DO-DConv — is left out.
 */
export const separableConv2d: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  requireChannelsLast(layer, config);
  const depthwise = requireWeight(layer, 'depthwise_kernel') as tf.Tensor4D;
  const pointwise = requireWeight(layer, 'pointwise_kernel');
  const bias = config.useBias ? requireWeight(layer, 'bias') : null;
  const skipPointwise = isIdentityPointwise(pointwise);
  const out = call.outputShapes[0];
  const [, , C, mult] = depthwise.shape;
  let y = emitConv(
    ctx,
    call.inputs[0],
    {
      kernel: () => depthwiseAsGrouped(depthwise),
      groups: C,
      strides: pairOf(layer, 'strides', config.strides, 1),
      dilations: pairOf(layer, 'dilationRate', config.dilationRate, 1),
      padding: padding(call, config.padding),
      bias: skipPointwise ? bias : null,
    },
    skipPointwise ? layer.name : `${layer.name}/depthwise`,
    [out[0], out[1], out[2], C * mult],
  );
  if (!skipPointwise) {
    const pointwiseSpec: ConvSpec = {
      kernel: () => pointwise as tf.Tensor4D,
      groups: 1,
      strides: [1, 1],
      dilations: [1, 1],
      padding: 'valid',
      bias,
    };
    y = emitConv(ctx, y, pointwiseSpec, layer.name, out);
  }
  return [emitActivation(ctx, y, config.activation as string, layer.name)];
};

/** A DO layer's conv as ONNX emits it: its composed kernel with the layer's own geometry. */
function composedConvSpec(layer: DOConvBase, bias: ConvSpec['bias']): ConvSpec {
  return {
    kernel: () => layer.composedKernel(),
    groups: layer.convGroups,
    strides: layer.strides,
    dilations: layer.dilationRate,
    padding: layer.padding,
    bias,
  };
}

/**
 * DOConv2D / DODepthwiseConv2D, folded into ONNX: one Conv with the composed kernel K = compose(D̂, W)
 * [M, N, C/g, F] and group = g (grouped and dilated natively), so the ONNX model costs exactly a conv —
 * not the block-diagonal Conv2D or identity-pointwise SeparableConv2D that tfjs-layers needs.
 */
export const doConv: LayerConverter = (call, ctx) => {
  const layer = call.layer;
  if (!(layer instanceof DOConvBase))
    throw new Error(`${describeLayer(layer)}: not a DO-Conv layer`);
  const y = emitConv(
    ctx,
    call.inputs[0],
    composedConvSpec(layer, layer.useBias ? requireWeight(layer, 'bias') : null),
    layer.name,
    call.outputShapes[0],
  );
  return [emitActivation(ctx, y, layer.activationName, layer.name)];
};

/**
 * DOSeparableConv2D: the DO-DConv as one Conv (composed depthwise kernel, group = C, dilated
 * natively, no bias), then the pointwise 1×1 Conv with the bias, then the activation.
 */
export const doSeparableConv2d: LayerConverter = (call, ctx) => {
  const layer = call.layer;
  if (!(layer instanceof DOSeparableConv2D)) {
    throw new Error(`${describeLayer(layer)}: not a DOSeparableConv2D`);
  }
  const out = call.outputShapes[0];
  const pointwise = layer.pointwiseKernel();
  const middle = pointwise.shape[2];
  const depthwise = emitConv(
    ctx,
    call.inputs[0],
    composedConvSpec(layer, null),
    `${layer.name}/depthwise`,
    [out[0], out[1], out[2], middle],
  );
  const y = emitConv(
    ctx,
    depthwise,
    {
      kernel: () => pointwise,
      groups: 1,
      strides: [1, 1],
      dilations: [1, 1],
      padding: 'valid',
      bias: layer.useBias ? requireWeight(layer, 'bias') : null,
    },
    layer.name,
    out,
  );
  return [emitActivation(ctx, y, layer.activationName, layer.name)];
};
