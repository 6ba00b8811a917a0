import * as tf from '@tensorflow/tfjs';
import type { FusableActivation } from '../algebra/convolve.js';

/** The args of the tf.layers convs, as tfjs-layers types them. */
export type Conv2DLayerArgs = Parameters<typeof tf.layers.conv2d>[0];
export type DepthwiseConv2DLayerArgs = Parameters<typeof tf.layers.depthwiseConv2d>[0];
export type Conv1DLayerArgs = Parameters<typeof tf.layers.conv1d>[0];
export type SeparableConv2DLayerArgs = Parameters<typeof tf.layers.separableConv2d>[0];
/** The args every tf.layers layer takes (name, inputShape, trainable, ...). */
export type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];
export type RegularizerArg = Conv2DLayerArgs['kernelRegularizer'];
export type ConstraintArg = Conv2DLayerArgs['kernelConstraint'];
// tfjs does not export these classes' types from its root; derive them from the factories.
export type Initializer = ReturnType<typeof tf.initializers.zeros>;
export type Regularizer = ReturnType<typeof tf.regularizers.l2>;
export type Constraint = ReturnType<typeof tf.constraints.maxNorm>;

/** The conv args both tf.layers convs read (layer-level args such as name stay with the DO layer). */
const BASE_CONV_KEYS = [
  'kernelSize',
  'strides',
  'padding',
  'dataFormat',
  'dilationRate',
  'activation',
  'useBias',
  'biasInitializer',
  'biasRegularizer',
  'biasConstraint',
  'activityRegularizer',
] as const satisfies readonly (keyof Conv2DLayerArgs & keyof DepthwiseConv2DLayerArgs)[];
const CONV2D_KEYS = [
  ...BASE_CONV_KEYS,
  'filters',
  'kernelInitializer',
  'kernelRegularizer',
  'kernelConstraint',
] as const satisfies readonly (keyof Conv2DLayerArgs)[];
const DEPTHWISE_KEYS = [
  ...BASE_CONV_KEYS,
  'depthMultiplier',
  'depthwiseInitializer',
  'depthwiseRegularizer',
  'depthwiseConstraint',
] as const satisfies readonly (keyof DepthwiseConv2DLayerArgs)[];
const CONV1D_KEYS = CONV2D_KEYS satisfies readonly (keyof Conv1DLayerArgs)[];
const SEPARABLE_KEYS = [
  ...BASE_CONV_KEYS,
  'filters',
  'depthMultiplier',
  'depthwiseInitializer',
  'depthwiseRegularizer',
  'depthwiseConstraint',
  'pointwiseInitializer',
  'pointwiseRegularizer',
  'pointwiseConstraint',
] as const satisfies readonly (keyof SeparableConv2DLayerArgs)[];

/** The args of tf.layers.conv2d a DO layer hands to it: its conv args, none of the layer-level ones. */
export type StandardConv2DArgs = Pick<Conv2DLayerArgs, (typeof CONV2D_KEYS)[number]>;
/** The same for tf.layers.depthwiseConv2d. */
export type StandardDepthwiseArgs = Pick<DepthwiseConv2DLayerArgs, (typeof DEPTHWISE_KEYS)[number]>;
/** The same for tf.layers.conv1d. */
export type StandardConv1DArgs = Pick<Conv1DLayerArgs, (typeof CONV1D_KEYS)[number]>;
/** The same for tf.layers.separableConv2d. */
export type StandardSeparableArgs = Pick<SeparableConv2DLayerArgs, (typeof SEPARABLE_KEYS)[number]>;

/** Which tf.layers conv a DO layer stands in for, with the args that conv takes. */
export type StandardConv =
  | { kind: 'conv2d'; args: StandardConv2DArgs }
  | { kind: 'depthwiseConv2d'; args: StandardDepthwiseArgs }
  | { kind: 'conv1d'; args: StandardConv1DArgs }
  | { kind: 'separableConv2d'; args: StandardSeparableArgs };

/** The tf.layers.conv2d args among a DO layer's args (picked by name, so DO keys never reach tfjs). */
export function conv2dArgs(args: Conv2DLayerArgs): StandardConv {
  return { kind: 'conv2d', args: pick(args, CONV2D_KEYS) };
}

/** The tf.layers.depthwiseConv2d args among a DO layer's args. */
export function depthwiseConv2dArgs(args: DepthwiseConv2DLayerArgs): StandardConv {
  return { kind: 'depthwiseConv2d', args: pick(args, DEPTHWISE_KEYS) };
}

/** The tf.layers.conv1d args among a DO layer's args. */
export function conv1dArgs(args: Conv1DLayerArgs): StandardConv {
  return { kind: 'conv1d', args: pick(args, CONV1D_KEYS) };
}

/** The tf.layers.separableConv2d args among a DO layer's args. */
export function separableConv2dArgs(args: SeparableConv2DLayerArgs): StandardConv {
  return { kind: 'separableConv2d', args: pick(args, SEPARABLE_KEYS) };
}

/** Initializer, regularizer and constraint of one weight, resolved to objects. */
export interface WeightTraits {
  initializer: Initializer;
  regularizer?: Regularizer;
  constraint?: Constraint;
}

/** The resolved objects a tfjs conv layer keeps (declared protected in its typings). */
export interface ResolvedConvFields {
  activation: { apply(x: tf.Tensor): tf.Tensor };
  /**
   * The activation when the conv can fuse it: linear and relu, the two fused activations with
   * gradients in tfjs-core (getFusedDyActivation); null when it is applied after the conv.
   */
  fusableActivation: FusableActivation | null;
  useBias: boolean;
  bias: WeightTraits;
  activityRegularizer?: Regularizer;
  /**
   * The traits of the kernel a DO layer over-parameterizes (tf.layers.conv2d's and conv1d's `kernel*`,
   * depthwiseConv2d's and separableConv2d's `depthwise*`).
   */
  kernel: WeightTraits;
  /** separableConv2d only: the traits of its pointwise kernel (`pointwise*`). */
  pointwise?: WeightTraits;
}

/** What a built tfjs conv layer holds; it resolves nothing it was not given to null. */
interface TemplateFields {
  activation: { apply(x: tf.Tensor): tf.Tensor };
  useBias: boolean;
  biasInitializer: Initializer;
  biasRegularizer: Regularizer | null;
  biasConstraint: Constraint | null;
  activityRegularizer: Regularizer | null;
  kernelInitializer: Initializer;
  kernelRegularizer: Regularizer | null;
  kernelConstraint: Constraint | null;
  depthwiseInitializer: Initializer;
  depthwiseRegularizer: Regularizer | null;
  depthwiseConstraint: Constraint | null;
  pointwiseInitializer: Initializer;
  pointwiseRegularizer: Regularizer | null;
  pointwiseConstraint: Constraint | null;
}

/**
 * The name of every throwaway layer below. A tfjs layer without a name takes the next of its class's
 * global counter (tfjs-layers getUid), so an unnamed template would shift the names of the user's
 * own layers: after one doConv2d(), tf.layers.conv2d() would be conv2d_Conv2D2 instead of …1.
 */
const TEMPLATE_NAME = 'doconv_template';

/**
 * Why a throwaway tfjs layer: tfjs-layers keeps its identifier → object resolvers (getInitializer,
 * getActivation, ...) private. A standard layer built from the same args resolves strings, objects
 * and serialized {className, config} dicts with exactly tf.layers' semantics, and its getConfig()
 * serializes them the way every TF.js model.json expects. Only its fields are used; it is never built.
 */
export function standardConvLayer(standard: StandardConv): {
  fields: ResolvedConvFields;
  config: tf.serialization.ConfigDict;
} {
  // tfjs-layers' resolvers write into serialized dicts they are given (customObjects): copy them, so a
  // config passed to fromConfig comes out as it went in.
  const layer = templateLayer(standard);
  // Its resolved fields are protected in tfjs' typings; read them through a view of the public Layer.
  const template = layer as tf.layers.Layer & TemplateFields;
  const config = template.getConfig();
  if (standard.kind === 'depthwiseConv2d') {
    // tfjs 4.22's DepthwiseConv2D.getConfig writes its regularizer under depthwiseConstraint.
    config.depthwiseConstraint = tf.layers
      .conv2d({
        name: TEMPLATE_NAME,
        filters: 1,
        kernelSize: 1,
        kernelConstraint: template.depthwiseConstraint ?? undefined,
      })
      .getConfig().kernelConstraint;
  }
  // Layer-level keys (name, trainable, batchInputShape, dtype) belong to the DO layer itself.
  for (const key of ['name', 'trainable', 'batchInputShape', 'dtype']) delete config[key];
  const kernel =
    standard.kind === 'conv2d' || standard.kind === 'conv1d'
      ? traits(template.kernelInitializer, template.kernelRegularizer, template.kernelConstraint)
      : traits(
          template.depthwiseInitializer,
          template.depthwiseRegularizer,
          template.depthwiseConstraint,
        );
  const fields: ResolvedConvFields = {
    activation: template.activation,
    fusableActivation:
      config.activation === 'linear' || config.activation === 'relu' ? config.activation : null,
    useBias: template.useBias,
    bias: traits(template.biasInitializer, template.biasRegularizer, template.biasConstraint),
    activityRegularizer: template.activityRegularizer ?? undefined,
    kernel,
    ...(standard.kind === 'separableConv2d'
      ? {
          pointwise: traits(
            template.pointwiseInitializer,
            template.pointwiseRegularizer,
            template.pointwiseConstraint,
          ),
        }
      : {}),
  };
  return { fields, config };
}

/** A never-built tfjs layer of the standard conv's class, named so no name counter moves. */
function templateLayer(standard: StandardConv): tf.layers.Layer {
  const named = <T extends object>(args: T) => ({ ...cloneDicts(args), name: TEMPLATE_NAME });
  switch (standard.kind) {
    case 'conv2d':
      return tf.layers.conv2d(named(standard.args));
    case 'depthwiseConv2d':
      return tf.layers.depthwiseConv2d(named(standard.args));
    case 'conv1d':
      return tf.layers.conv1d(named(standard.args));
    case 'separableConv2d':
      return tf.layers.separableConv2d(named(standard.args));
  }
}

/** Resolve a regularizer/constraint pair for D the same way tf.layers resolves a kernel's. */
export function resolveRegularizerAndConstraint(
  regularizer: RegularizerArg | null | undefined,
  constraint: ConstraintArg | null | undefined,
): {
  regularizer?: Regularizer;
  constraint?: Constraint;
  config: {
    regularizer: tf.serialization.ConfigDictValue;
    constraint: tf.serialization.ConfigDictValue;
  };
} {
  const { fields, config } = standardConvLayer(
    conv2dArgs({
      filters: 1,
      kernelSize: 1,
      kernelRegularizer: regularizer ?? undefined,
      kernelConstraint: constraint ?? undefined,
    }),
  );
  return {
    regularizer: fields.kernel.regularizer,
    constraint: fields.kernel.constraint,
    config: { regularizer: config.kernelRegularizer, constraint: config.kernelConstraint },
  };
}

function traits(
  initializer: Initializer,
  regularizer: Regularizer | null,
  constraint: Constraint | null,
): WeightTraits {
  return {
    initializer,
    regularizer: regularizer ?? undefined,
    constraint: constraint ?? undefined,
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const key of keys) if (key in source) picked[key] = source[key];
  return picked;
}

function cloneDicts<T extends object>(args: T): T {
  const own = { ...args };
  for (const key of Object.keys(own) as (keyof T)[]) {
    const value = own[key];
    if (isPlainObject(value)) own[key] = structuredClone(value);
  }
  return own;
}

function isPlainObject(value: unknown): value is object {
  return (
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
  );
}
