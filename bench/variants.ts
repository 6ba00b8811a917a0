/**
 * Conv variants the benchmark compares. Adding a variant is one line here (and one in
 * bench/torch_train.py's VARIANTS for the PyTorch side).
 */
import * as tf from '@tensorflow/tfjs';
import { doConv2d } from '../src/index.js';
import type { ConvFactory } from './nets.js';

export const variants: Record<string, ConvFactory> = {
  conv: (args) => tf.layers.conv2d(args),
  doconv: (args) => doConv2d(args),
};
