import * as tf from '@tensorflow/tfjs';
import type { LayerConverter } from '../context.js';
import { configOf, describeLayer, floatData, requireWeight, weightOf } from '../layerConfig.js';

/**
 * BatchNormalization at inference. When the normalized axis can be ONNX's axis 1 (channels of a 4D
 * tensor in NCHW, or features of a matrix), it is an ONNX BatchNormalization with the layer's own
 * epsilon — which runtimes fuse into a preceding Conv. Otherwise x·s + t with s = γ/√(σ² + ε),
 * t = β − μ·s, broadcast along the axis.
 */
export const batchNormalization: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  const rank = call.inputs[0].shape.length;
  const rawAxis = config.axis;
  if (typeof rawAxis !== 'number') {
    throw new Error(
      `${describeLayer(layer)}: axis ${JSON.stringify(rawAxis)} is not supported (one axis only)`,
    );
  }
  const tfAxis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  const epsilon = config.epsilon as number;
  const mean = requireWeight(layer, 'moving_mean');
  const variance = requireWeight(layer, 'moving_variance');
  const channels = mean.shape[0];
  const gamma = weightOf(layer, 'gamma');
  const beta = weightOf(layer, 'beta');
  const name = layer.name;
  const outShape = call.outputShapes[0];

  const channelAxisFirst = (rank === 4 && tfAxis === 3) || (rank === 2 && tfAxis === 1);
  if (channelAxisFirst) {
    const x = ctx.as(call.inputs[0], 'nchw');
    const param = (suffix: string, t: tf.Tensor | null, fill: number) =>
      ctx.graph.addFloatInitializer(
        `${name}/${suffix}`,
        t ? floatData(t) : new Float32Array(channels).fill(fill),
        [channels],
      );
    const inputs = [
      x.name,
      param('scale', gamma, 1),
      param('B', beta, 0),
      param('mean', mean, 0),
      param('var', variance, 1),
    ];
    const [out] = ctx.graph.addNode('BatchNormalization', inputs, name, {
      epsilon: { float: epsilon },
    });
    return [{ ...x, name: out, shape: outShape }];
  }

  const x = call.inputs[0];
  const onnxAxis = ctx.onnxAxis(x, tfAxis);
  const { scale, shift } = tf.tidy(() => {
    const s = tf.div(gamma ?? tf.ones([channels]), tf.sqrt(tf.add(variance, epsilon)));
    const t = tf.sub(beta ?? tf.zeros([channels]), tf.mul(mean, s));
    return { scale: floatData(s), shift: floatData(t) };
  });
  const dims = Array.from({ length: rank }, (_, i) => (i === onnxAxis ? channels : 1));
  const s = ctx.graph.addFloatInitializer(`${name}/scale`, scale, dims);
  const t = ctx.graph.addFloatInitializer(`${name}/shift`, shift, dims);
  const scaled = ctx.binary('Mul', x.name, s, `${name}/mul`, { ...x, shape: outShape });
  return [ctx.binary('Add', scaled.name, t, name, scaled)];
};
