import * as tf from '@tensorflow/tfjs';
import { diagIdentity } from '../../src/index.js';

/**
 * A TF.js model's weights as the PyTorch state_dict tools/doconv_torch's twin would hold (keys
 * `<layer>.<param>`, or `<prefixes[k]>.<param>` for the k-th layer with weights): the inverse of
 * loadPytorchStateDict's layouts, written out here so a round trip checks the importer's mapping.
 */
export function toPytorchStateDict(
  model: tf.LayersModel,
  prefixes?: readonly string[],
): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  model.layers
    .filter((l) => l.weights.length > 0)
    .forEach((layer, k) => {
      const p = prefixes ? prefixes[k] : layer.name;
      const w = Object.fromEntries(
        layer.weights.map((v) => [v.originalName.split('/').pop()!, v.read()]),
      );
      const cls = layer.getClassName();
      if (w.bias) out[`${p}.bias`] = tf.clone(w.bias);
      if (cls === 'DOConv2D' || cls === 'DODepthwiseConv2D') {
        const kernel = w.kernel ?? w.depthwise_kernel; // [dMul, C/g, F], or [dMul, C, mult]
        const dMul = kernel.shape[0];
        // → [F, C/g, dMul] (depthwise: output c·mult + m, one input channel per output)
        const W =
          cls === 'DOConv2D'
            ? tf.transpose(kernel, [2, 1, 0])
            : tf.transpose(tf.reshape(kernel, [dMul, 1, -1]), [2, 1, 0]);
        out[`${p}.W`] = W;
        if (w.D) {
          out[`${p}.D`] = tf.transpose(w.D, [2, 0, 1]); // [M·N, dMul, C] → [C, M·N, dMul]
          const [area, , channels] = w.D.shape;
          out[`${p}.d_diag`] = tf.transpose(diagIdentity(area, dMul, channels), [2, 0, 1]);
        }
      } else if (cls === 'Conv2D' || cls === 'DilatedConv2D') {
        out[`${p}.weight`] = tf.transpose(w.kernel, [3, 2, 0, 1]);
      } else if (cls === 'DepthwiseConv2D') {
        const [kh, kw, c, m] = w.depthwise_kernel.shape;
        out[`${p}.weight`] = tf.transpose(
          tf.reshape(w.depthwise_kernel, [kh, kw, 1, c * m]),
          [3, 2, 0, 1],
        );
      } else if (cls === 'Dense') {
        let kernel = w.kernel; // [in, out]; after a Flatten of [H, W, C], PyTorch's rows are C·H·W
        const prev = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] })
          .inboundNodes[0].inboundLayers[0];
        if (prev.getClassName() === 'Flatten') {
          const [, H, W, C] = (prev.input as tf.SymbolicTensor).shape as number[];
          kernel = tf.reshape(
            tf.transpose(tf.reshape(kernel, [H, W, C, -1]), [2, 0, 1, 3]),
            kernel.shape,
          );
        }
        out[`${p}.weight`] = tf.transpose(kernel);
      } else if (cls === 'BatchNormalization') {
        out[`${p}.weight`] = tf.clone(w.gamma);
        out[`${p}.bias`] = tf.clone(w.beta);
        out[`${p}.running_mean`] = tf.clone(w.moving_mean);
        out[`${p}.running_var`] = tf.clone(w.moving_variance);
        out[`${p}.num_batches_tracked`] = tf.scalar(3, 'int32');
      } else {
        throw new Error(`toPytorchStateDict: no PyTorch layout for ${cls} '${layer.name}'`);
      }
    });
  return out;
}
