import * as tf from '@tensorflow/tfjs';
import { checkFloat32Count } from '../util/sizeLimit.js';

/**
 * Shorthand for building functional graphs: apply a layer to one symbolic tensor (or a list).
 * A plain layer's kernel is held to the size cap first (doconv's own layers check themselves):
 * the zoo's options reach it — `numClasses: 2e9`, or a huge `inputShape` flattened into a Dense
 * head — and TF.js allocates it in apply(), where it failed with "Invalid typed array length".
 * And an input too small for a layer's window is refused naming the layer: tf.layers computes a
 * negative size (1×1 images through a 'valid' 3×3 conv: -1×-1) and builds on, so the model failed
 * only when run, deep in an engine ("bad geometry: field 4 is -1").
 */
export function apply(
  layer: tf.layers.Layer,
  x: tf.SymbolicTensor | tf.SymbolicTensor[],
): tf.SymbolicTensor {
  checkKernelSize(layer, Array.isArray(x) ? x[0] : x);
  checkOutputFits(layer, Array.isArray(x) ? x.map((t) => t.shape) : x.shape);
  return layer.apply(x) as tf.SymbolicTensor;
}

/** Refuses a layer whose output on `input` would have a dimension below 1. */
function checkOutputFits(layer: tf.layers.Layer, input: tf.Shape | tf.Shape[]): void {
  let output: tf.Shape | tf.Shape[];
  try {
    output = layer.computeOutputShape(input);
  } catch {
    return; // the layer's own apply() says what is wrong
  }
  const shapes = (Array.isArray(output[0]) ? output : [output]) as tf.Shape[];
  const dims = (shape: tf.Shape) => shape.slice(1).join('×');
  for (const shape of shapes) {
    if (shape.slice(1).some((d) => d !== null && d < 1)) {
      const given = (Array.isArray(input[0]) ? input[0] : input) as tf.Shape;
      throw new Error(
        `${layer.getClassName()} '${layer.name}': an input of ${dims(given)} gives an output of ` +
          `${dims(shape)} — the input is too small for the layer's window (use a larger inputShape)`,
      );
    }
  }
}

/** The kernel shapes of tf.layers' Dense and convs, from their config and the input's channels. */
function checkKernelSize(layer: tf.layers.Layer, x: tf.SymbolicTensor): void {
  const config = layer.getConfig();
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const kernel = config.kernelSize as number[] | undefined;
  const shapes: Record<string, () => number[]> = {
    Dense: () => [channels, config.units as number],
    Conv2D: () => [...kernel!, channels, config.filters as number],
    DepthwiseConv2D: () => [...kernel!, channels, config.depthMultiplier as number],
    SeparableConv2D: () => [
      channels * (config.depthMultiplier as number),
      config.filters as number,
    ],
  };
  const shapeOf = shapes[layer.getClassName()];
  if (shapeOf === undefined) return;
  const shape = shapeOf();
  checkFloat32Count(
    `${layer.getClassName()} '${layer.name}'`,
    shape.reduce((a, b) => a * b, 1),
    `kernel ${JSON.stringify(shape)} (input channels ${channels}${config.units !== undefined ? `, units ${config.units}` : ''}${config.filters !== undefined ? `, filters ${config.filters}` : ''})`,
  );
}

/**
 * BatchNormalization with PyTorch/Gluon's defaults (momentum 0.9, epsilon 1e-5) rather than Keras's
 * (0.99, 1e-3): the CIFAR ResNets and MobileNets follow those codebases. foldModel uses this epsilon.
 */
export function batchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });
}

/** A ReLU layer; `maxValue` 6 gives ReLU6 (MobileNet-v2). */
export function relu(name: string, maxValue?: number): tf.layers.Layer {
  return tf.layers.reLU({ name, maxValue });
}
