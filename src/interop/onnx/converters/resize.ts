import type { LayerConverter } from '../context.js';
import { configOf, describeLayer, pairOf, requireChannelsLast } from '../layerConfig.js';

/**
 * tf.layers.upSampling2d → ONNX Resize (opset 13) on NCHW with scales [1, 1, sh, sw]. TF.js's layer
 * calls resizeNearestNeighbor / resizeBilinear with alignCorners = halfPixelCenters = false, i.e.
 * source coordinate = output coordinate / scale: ONNX's 'asymmetric' transform, with 'floor' for
 * nearest, and edge clamping in 'linear' as TF does.
 */
export const upSampling2d: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  requireChannelsLast(layer, config);
  const [sh, sw] = pairOf(layer, 'size', config.size, 2);
  const interpolation = config.interpolation ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new Error(
      `${describeLayer(layer)}: interpolation ${JSON.stringify(interpolation)} is not supported ('nearest' or 'bilinear')`,
    );
  }
  const x = ctx.as(call.inputs[0], 'nchw');
  const scales = ctx.graph.addFloatInitializer(`${layer.name}/scales`, [1, 1, sh, sw], [4]);
  const [out] = ctx.graph.addNode('Resize', [x.name, '', scales], layer.name, {
    mode: interpolation === 'nearest' ? 'nearest' : 'linear',
    coordinate_transformation_mode: 'asymmetric',
    ...(interpolation === 'nearest' ? { nearest_mode: 'floor' } : {}),
  });
  return [{ name: out, shape: call.outputShapes[0], layout: 'nchw' }];
};
