import type { LayerConverter } from '../context.js';
import { configOf, describeLayer, pairOf, requireChannelsLast } from '../layerConfig.js';
import { onnxPadding } from '../padding.js';

/**
 * MaxPooling2D / AveragePooling2D in NCHW, with TF's padding. For 'same' average pooling TF divides
 * by the number of real (unpadded) pixels in the window: count_include_pad = 0. Max pooling pads
 * with −∞ in both.
 */
function pool2d(opType: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (call, ctx) => {
    const { layer } = call;
    const config = configOf(layer);
    requireChannelsLast(layer, config);
    const x = ctx.as(call.inputs[0], 'nchw');
    const poolSize = pairOf(layer, 'poolSize', config.poolSize, 2);
    const strides = pairOf(layer, 'strides', config.strides ?? poolSize);
    const padding = config.padding as 'same' | 'valid';
    if (padding !== 'same' && padding !== 'valid') {
      throw new Error(
        `${describeLayer(layer)}: padding ${JSON.stringify(config.padding)} is not supported`,
      );
    }
    const [out] = ctx.graph.addNode(opType, [x.name], layer.name, {
      kernel_shape: poolSize,
      strides,
      ...onnxPadding(padding, [x.shape[1], x.shape[2]], poolSize, strides),
      ...(opType === 'AveragePool' ? { count_include_pad: 0 } : {}),
    });
    return [{ name: out, shape: call.outputShapes[0], layout: 'nchw' }];
  };
}

export const maxPooling2d = pool2d('MaxPool');
export const averagePooling2d = pool2d('AveragePool');

/**
 * GlobalAveragePooling2D / GlobalMaxPooling2D → [N, C]: GlobalAveragePool + Flatten on an NCHW
 * input, ReduceMean over H, W on an NHWC one (no transpose either way).
 */
function globalPool2d(globalOp: string, reduceOp: string): LayerConverter {
  return (call, ctx) => {
    const { layer } = call;
    requireChannelsLast(layer, configOf(layer));
    const x = call.inputs[0];
    const shape = call.outputShapes[0];
    if (x.layout === 'nchw') {
      const [pooled] = ctx.graph.addNode(globalOp, [x.name], `${layer.name}/pool`);
      const [out] = ctx.graph.addNode('Flatten', [pooled], layer.name, { axis: 1 });
      return [{ name: out, shape, layout: 'tf' }];
    }
    const [out] = ctx.graph.addNode(reduceOp, [x.name], layer.name, { axes: [1, 2], keepdims: 0 });
    return [{ name: out, shape, layout: 'tf' }];
  };
}

export const globalAveragePooling2d = globalPool2d('GlobalAveragePool', 'ReduceMean');
export const globalMaxPooling2d = globalPool2d('GlobalMaxPool', 'ReduceMax');

/** ZeroPadding2D: a constant Pad of H and W, in whichever layout the input has. */
export const zeroPadding2d: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  requireChannelsLast(layer, config);
  const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
  const x = call.inputs[0];
  const pads =
    x.layout === 'nchw'
      ? [0, 0, top, left, 0, 0, bottom, right]
      : [0, top, left, 0, 0, bottom, right, 0];
  const padsName = ctx.graph.addInt64Initializer(`${layer.name}/pads`, pads);
  const [out] = ctx.graph.addNode('Pad', [x.name, padsName], layer.name, { mode: 'constant' });
  return [{ ...x, name: out, shape: call.outputShapes[0] }];
};
