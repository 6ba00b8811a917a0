import type { LayerConverter } from '../context.js';
import * as conv from './convolution.js';
import { conv1d, doConv1d } from './conv1d.js';
import * as core from './core.js';
import * as merge from './merge.js';
import { batchNormalization } from './normalization.js';
import * as pooling from './pooling.js';
import { upSampling2d } from './resize.js';

/**
 * Layer class name → converter: the table is the list of what the export supports. A DO layer
 * of a class not listed here (a subclass of DOConv2D, say) is exported as a DO-Conv.
 */
export const layerConverters: Readonly<Record<string, LayerConverter>> = {
  Conv1D: conv1d,
  DOConv1D: doConv1d,
  DOSeparableConv2D: conv.doSeparableConv2d,
  Conv2D: conv.conv2d,
  DepthwiseConv2D: conv.depthwiseConv2d,
  SeparableConv2D: conv.separableConv2d,
  DilatedConv2D: conv.conv2d,
  DOConv2D: conv.doConv,
  DODepthwiseConv2D: conv.doConv,
  BatchNormalization: batchNormalization,
  Dense: core.dense,
  Flatten: core.flatten,
  Reshape: core.reshape,
  Permute: core.permute,
  Activation: core.activation,
  ReLU: core.reLU,
  LeakyReLU: core.leakyReLU,
  ELU: core.elu,
  Softmax: core.softmax,
  PReLU: core.prelu,
  Dropout: core.identity,
  SpatialDropout1D: core.identity,
  GaussianNoise: core.identity,
  GaussianDropout: core.identity,
  AlphaDropout: core.identity,
  Add: merge.add,
  Multiply: merge.multiply,
  Average: merge.average,
  Maximum: merge.maximum,
  Minimum: merge.minimum,
  Concatenate: merge.concatenate,
  MaxPooling2D: pooling.maxPooling2d,
  AveragePooling2D: pooling.averagePooling2d,
  GlobalAveragePooling2D: pooling.globalAveragePooling2d,
  GlobalMaxPooling2D: pooling.globalMaxPooling2d,
  ZeroPadding2D: pooling.zeroPadding2d,
  UpSampling2D: upSampling2d,
};
