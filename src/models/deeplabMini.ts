/**
 * A DeepLab-v3+-style semantic segmenter, small enough for the `mnist-scenes` benchmark (~20 MMAC
 * forward on 64×64×1): a conv backbone at output stride 8 whose last block is dilated instead of
 * strided, an ASPP head (1×1, two dilated 3×3 branches and image pooling), and v3+'s decoder: the
 * ASPP output upsampled ×2 and joined with the stride-4 backbone features (reduced by a 1×1 conv),
 * a 3×3 conv, the class logits, and a bilinear ×4 upsampling to the input size. (Without the decoder
 * an output stride of 8 cannot place the 2–4 px strokes a digit's mask is made of.) Every conv
 * comes from the factory: its 3×3 convs (dilated ones included) are DO-Conv under 'doconv'; under
 * 'conv' the dilated ones are DilatedConv2D, which computes them by space-to-batch as the DO layers
 * do. Convs before a BN have no bias and a linear activation (fused by foldModel). Outputs
 * per-pixel logits [H, W, numClasses].
 */
import * as tf from '@tensorflow/tfjs';
import { apply, batchNorm, relu } from './graph.js';
import { SeededInitializers } from './initializers.js';
import type { ZooBuilderOptions } from './types.js';
import { formatValue } from '../util/formatValue.js';

/** The backbone's output stride: the feature map is input/8 on each side. */
export const DEEPLAB_OUTPUT_STRIDE = 8;

/**
 * ASPP atrous rates adapted to the feature map: DeepLab-v3's (6, 12, 18) on its 33×33 map (output
 * stride 16 of 513) reach ~1/5, 1/3 and 1/2 of the map; on a map of side f the rates here are
 * ⌈f/4⌉ and ⌈f/2⌉ (2 and 4 on 8×8) — a larger rate would put the outer taps in the padding.
 */
export function asppRates(featureSide: number): [number, number] {
  return [Math.max(1, Math.ceil(featureSide / 4)), Math.max(1, Math.ceil(featureSide / 2))];
}

/** Options of {@link deeplabMini} beyond the zoo's. */
export interface DeeplabMiniOptions {
  /** Channels of the backbone stages (stride 2, 4, 8) and of the ASPP branches. Default [16, 32, 64], 64. */
  widths?: [number, number, number];
  asppChannels?: number;
  /** Channels of the decoder: the reduced stride-4 features, and the 3×3 conv. Default 16, 32. */
  decoderChannels?: [number, number];
}

/** The builder: `zooModels['deeplab-mini']`. numClasses includes the background class. */
export function deeplabMini(
  options: ZooBuilderOptions,
  extra: DeeplabMiniOptions = {},
): tf.LayersModel {
  const [h, w] = options.inputShape;
  if (h % DEEPLAB_OUTPUT_STRIDE !== 0 || w % DEEPLAB_OUTPUT_STRIDE !== 0) {
    throw new Error(
      `deeplab-mini: inputShape height and width must be multiples of ${DEEPLAB_OUTPUT_STRIDE}, got ${formatValue(options.inputShape)}`,
    );
  }
  const [c1, c2, c3] = extra.widths ?? [16, 32, 64];
  const aspp = extra.asppChannels ?? 64;
  const [lowChannels, decoderChannels] = extra.decoderChannels ?? [16, 32];
  const init = new SeededInitializers(options.seed);
  const convBnRelu = (
    x: tf.SymbolicTensor,
    filters: number,
    kernelSize: number,
    name: string,
    opts: { strides?: number; dilationRate?: number } = {},
  ) => {
    const conv = options.conv.conv2d({
      filters,
      kernelSize,
      strides: opts.strides ?? 1,
      dilationRate: opts.dilationRate ?? 1,
      padding: 'same',
      useBias: false,
      kernelInitializer: init.glorotUniform(),
      name,
    });
    return apply(relu(`${name}_relu`), apply(batchNorm(`${name}_bn`), apply(conv, x)));
  };

  const input = tf.input({ shape: options.inputShape, name: 'input' });
  let y = convBnRelu(input, c1, 3, 'stem', { strides: 2 });
  y = convBnRelu(y, c2, 3, 's2_conv1', { strides: 2 });
  const low = convBnRelu(y, c2, 3, 's2_conv2'); // stride 4: the decoder's low-level features
  y = low;
  y = convBnRelu(y, c3, 3, 's3_conv1', { strides: 2 });
  // Where a classifier would stride again, DeepLab dilates: the map stays at output stride 8.
  y = convBnRelu(y, c3, 3, 's3_conv2_dilated', { dilationRate: 2 });

  const fh = h / DEEPLAB_OUTPUT_STRIDE;
  const fw = w / DEEPLAB_OUTPUT_STRIDE;
  const [r1, r2] = asppRates(Math.min(fh, fw));
  const b0 = convBnRelu(y, aspp, 1, 'aspp_1x1');
  const b1 = convBnRelu(y, aspp, 3, `aspp_rate${r1}`, { dilationRate: r1 });
  const b2 = convBnRelu(y, aspp, 3, `aspp_rate${r2}`, { dilationRate: r2 });
  // Image pooling: the global context as a fourth branch, broadcast back over the map.
  let pool = apply(tf.layers.globalAveragePooling2d({ name: 'aspp_pool' }), y);
  pool = apply(tf.layers.reshape({ targetShape: [1, 1, c3], name: 'aspp_pool_reshape' }), pool);
  pool = convBnRelu(pool, aspp, 1, 'aspp_pool_conv');
  pool = apply(tf.layers.upSampling2d({ size: [fh, fw], name: 'aspp_pool_up' }), pool);
  y = apply(tf.layers.concatenate({ name: 'aspp_concat' }), [b0, b1, b2, pool]);
  y = convBnRelu(y, aspp, 1, 'aspp_project');
  // Decoder (DeepLab-v3+): back to stride 4 with the backbone's stride-4 features.
  y = apply(
    tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'decoder_up' }),
    y,
  );
  const reduced = convBnRelu(low, lowChannels, 1, 'decoder_low');
  y = apply(tf.layers.concatenate({ name: 'decoder_concat' }), [y, reduced]);
  y = convBnRelu(y, decoderChannels, 3, 'decoder_conv');
  const classifier = options.conv.conv2d({
    filters: options.numClasses,
    kernelSize: 1,
    kernelInitializer: init.glorotUniform(),
    name: 'classifier',
  });
  y = apply(classifier, y);
  const logits = apply(
    tf.layers.upSampling2d({
      size: [DEEPLAB_OUTPUT_STRIDE / 2, DEEPLAB_OUTPUT_STRIDE / 2],
      interpolation: 'bilinear',
      name: 'logits',
    }),
    y,
  );
  return tf.model({ inputs: input, outputs: logits, name: 'deeplab-mini' });
}
