import * as tf from '@tensorflow/tfjs';

/** The args of tf.layers.conv2d / tf.layers.depthwiseConv2d, as tfjs-layers types them. */
export type Conv2DLayerArgs = Parameters<typeof tf.layers.conv2d>[0];
export type DepthwiseConv2DLayerArgs = Parameters<typeof tf.layers.depthwiseConv2d>[0];
export type RegularizerArg = Conv2DLayerArgs['kernelRegularizer'];
export type ConstraintArg = Conv2DLayerArgs['kernelConstraint'];
// tfjs does not export these classes' types from its root; derive them from the factories.
export type Initializer = ReturnType<typeof tf.initializers.zeros>;
export type Regularizer = ReturnType<typeof tf.regularizers.l2>;
export type Constraint = ReturnType<typeof tf.constraints.maxNorm>;

/** The resolved objects a tfjs conv layer keeps (declared protected in its typings). */
export interface ResolvedConvFields {
  activation: { apply(x: tf.Tensor): tf.Tensor };
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  padding: 'same' | 'valid';
  useBias: boolean;
  biasInitializer: Initializer;
  biasRegularizer?: Regularizer;
  biasConstraint?: Constraint;
  activityRegularizer?: Regularizer;
}

/**
 * Why a throwaway tfjs layer: tfjs-layers keeps its identifier → object resolvers (getInitializer,
 * getActivation, ...) private. A standard layer built from the same args resolves strings, objects
 * and serialized {className, config} dicts with exactly tf.layers' semantics, and its getConfig()
 * serializes them the way every TF.js model.json expects. Only its fields are used; it is never built.
 */
export function standardConvLayer(
  kind: 'conv2d' | 'depthwiseConv2d',
  args: Record<string, unknown>,
): { fields: ResolvedConvFields & Record<string, unknown>; config: tf.serialization.ConfigDict } {
  // tfjs-layers' resolvers write into serialized dicts they are given (customObjects): copy them, so a
  // config passed to fromConfig comes out as it went in.
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args))
    own[key] = isPlainObject(value) ? structuredClone(value) : value;
  const template =
    kind === 'conv2d'
      ? tf.layers.conv2d(own as unknown as Conv2DLayerArgs)
      : tf.layers.depthwiseConv2d(own as unknown as DepthwiseConv2DLayerArgs);
  const config = template.getConfig();
  if (kind === 'depthwiseConv2d') {
    // tfjs 4.22's DepthwiseConv2D.getConfig writes its regularizer under depthwiseConstraint.
    const constraint = (template as unknown as { depthwiseConstraint?: Constraint })
      .depthwiseConstraint;
    config.depthwiseConstraint = tf.layers
      .conv2d({ filters: 1, kernelSize: 1, kernelConstraint: constraint ?? undefined })
      .getConfig().kernelConstraint;
  }
  // Layer-level keys (name, trainable, batchInputShape, dtype) belong to the DO layer itself.
  for (const key of ['name', 'trainable', 'batchInputShape', 'dtype']) delete config[key];
  return { fields: template as unknown as ResolvedConvFields & Record<string, unknown>, config };
}

/** Resolve a regularizer/constraint pair for D the same way tf.layers resolves a kernel's. */
export function resolveRegularizerAndConstraint(
  regularizer: RegularizerArg | null | undefined,
  constraint: ConstraintArg | null | undefined,
): {
  regularizer?: Regularizer;
  constraint?: Constraint;
  config: { regularizer: unknown; constraint: unknown };
} {
  const { fields, config } = standardConvLayer('conv2d', {
    filters: 1,
    kernelSize: 1,
    kernelRegularizer: regularizer ?? undefined,
    kernelConstraint: constraint ?? undefined,
  });
  return {
    regularizer: (fields.kernelRegularizer as Regularizer | null) ?? undefined,
    constraint: (fields.kernelConstraint as Constraint | null) ?? undefined,
    config: { regularizer: config.kernelRegularizer, constraint: config.kernelConstraint },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
  );
}
