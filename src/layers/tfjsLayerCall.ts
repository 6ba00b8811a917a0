/**
 * Runs a TF.js layer class's `call` through doconv's faster route where one applies, TF.js's own
 * code otherwise — installed on the class itself, so every instance (built with tf.layers, by the
 * zoo, or loaded from a model.json) computes alike and a resumed run repeats the straight one.
 * Used for layers whose TF.js implementation is a chain of full-tensor ops that the native engine
 * runs as one kernel (batchNormTraining.ts, reluSix.ts, and batchNormRelu.ts's pass-through).
 */
import * as tf from '@tensorflow/tfjs';

export type LayerCall = (
  this: tf.layers.Layer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: tf.serialization.ConfigDict,
) => tf.Tensor | tf.Tensor[];

/** The route: its output, or null where TF.js's own `call` must run. */
export type FasterCall = (
  layer: tf.layers.Layer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: tf.serialization.ConfigDict,
) => tf.Tensor | null;

/**
 * Installs `faster` in front of the `call` of TF.js's layer class `className` (found through its
 * serialization registry: tfjs-layers does not export its classes). Once per class and key.
 */
export function routeTfjsLayerCall(className: string, key: string, faster: FasterCall): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry == null) throw new Error(`doconv: TF.js's ${className} layer is not registered`);
  const proto = (entry[0] as unknown as { prototype: { call: LayerCall } & Record<symbol, true> })
    .prototype;
  const installed = Symbol.for(`doconv.${key}`);
  if (proto[installed]) return;
  const tfjsCall = proto.call;
  proto.call = function (inputs, kwargs) {
    return faster(this, inputs, kwargs) ?? tfjsCall.call(this, inputs, kwargs);
  };
  proto[installed] = true;
}

/** The one input tensor of a layer call, or null for several. */
export function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | null {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : null;
}
