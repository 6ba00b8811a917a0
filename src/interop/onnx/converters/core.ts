import { clip, emitActivation } from '../activations.js';
import type { LayerConverter } from '../context.js';
import { configOf, describeLayer, floatData, requireWeight } from '../layerConfig.js';

/** Layers that compute nothing at inference (Dropout and the noise layers). */
export const identity: LayerConverter = (call) => [call.inputs[0]];

/**
 * tf.layers.dense: Gemm on a matrix; MatMul + Add on a higher-rank input (Dense acts on the last
 * TF.js axis, so the input is taken in TF.js layout). Then the activation.
 */
export const dense: LayerConverter = (call, ctx) => {
  const { layer } = call;
  const config = configOf(layer);
  const x = ctx.as(call.inputs[0], 'tf');
  const kernel = requireWeight(layer, 'kernel');
  const w = ctx.graph.addFloatInitializer(`${layer.name}/W`, floatData(kernel), kernel.shape);
  const bias = config.useBias ? requireWeight(layer, 'bias') : null;
  const b = bias
    ? ctx.graph.addFloatInitializer(`${layer.name}/B`, floatData(bias), bias.shape)
    : null;
  let y;
  if (x.shape.length === 2) {
    const [out] = ctx.graph.addNode('Gemm', b ? [x.name, w, b] : [x.name, w], layer.name);
    y = { name: out, shape: call.outputShapes[0], layout: 'tf' as const };
  } else {
    const [product] = ctx.graph.addNode(
      'MatMul',
      [x.name, w],
      b ? `${layer.name}/matmul` : layer.name,
    );
    y = { name: product, shape: call.outputShapes[0], layout: 'tf' as const };
    if (b) y = ctx.binary('Add', product, b, layer.name, y);
  }
  return [emitActivation(ctx, y, config.activation as string, layer.name)];
};

/** tf.layers.flatten: in TF.js layout, so the features come in H·W·C order as in TF.js. */
export const flatten: LayerConverter = (call, ctx) => {
  const x = ctx.as(call.inputs[0], 'tf');
  if (x.shape.length === 2) return [x];
  const [out] = ctx.graph.addNode('Flatten', [x.name], call.layer.name, { axis: 1 });
  return [{ name: out, shape: call.outputShapes[0], layout: 'tf' }];
};

/** tf.layers.reshape: in TF.js layout; the batch dimension is copied (0), the rest is targetShape. */
export const reshape: LayerConverter = (call, ctx) => {
  const x = ctx.as(call.inputs[0], 'tf');
  const target = configOf(call.layer).targetShape as number[];
  const shape = ctx.graph.addInt64Initializer(`${call.layer.name}/shape`, [
    0,
    ...target.map((d) => (d == null ? -1 : d)),
  ]);
  const [out] = ctx.graph.addNode('Reshape', [x.name, shape], call.layer.name);
  return [{ name: out, shape: call.outputShapes[0], layout: 'tf' }];
};

/** tf.layers.permute: dims are 1-based, batch excluded. */
export const permute: LayerConverter = (call, ctx) => {
  const x = ctx.as(call.inputs[0], 'tf');
  const dims = configOf(call.layer).dims as number[];
  const [out] = ctx.graph.addNode('Transpose', [x.name], call.layer.name, { perm: [0, ...dims] });
  return [{ name: out, shape: call.outputShapes[0], layout: 'tf' }];
};

/** tf.layers.activation. */
export const activation: LayerConverter = (call, ctx) => [
  emitActivation(ctx, call.inputs[0], configOf(call.layer).activation as string, call.layer.name),
];

/** tf.layers.reLU: relu, clipped at maxValue when set. */
export const reLU: LayerConverter = (call, ctx) => {
  const maxValue = configOf(call.layer).maxValue as number | null | undefined;
  const x = call.inputs[0];
  return [
    maxValue == null
      ? ctx.unary(x, 'Relu', call.layer.name)
      : clip(ctx, x, 0, maxValue, call.layer.name),
  ];
};

/** tf.layers.leakyReLU. */
export const leakyReLU: LayerConverter = (call, ctx) => {
  const alpha = configOf(call.layer).alpha as number;
  return [ctx.unary(call.inputs[0], 'LeakyRelu', call.layer.name, { alpha: { float: alpha } })];
};

/** tf.layers.elu: TF.js 4.22's ELU layer computes elu with alpha 1 whatever its config says. */
export const elu: LayerConverter = (call, ctx) => [
  ctx.unary(call.inputs[0], 'Elu', call.layer.name, { alpha: { float: 1 } }),
];

/** tf.layers.softmax: over `axis` (TF.js's default for this layer is 1, not −1). */
export const softmax: LayerConverter = (call, ctx) => {
  const axis = configOf(call.layer).axis;
  if (typeof axis !== 'number') {
    throw new Error(
      `${describeLayer(call.layer)}: softmax over several axes ${JSON.stringify(axis)} is not supported`,
    );
  }
  const x = call.inputs[0];
  return [ctx.unary(x, 'Softmax', call.layer.name, { axis: ctx.onnxAxis(x, axis) })];
};

/** tf.layers.prelu: alpha has the input's shape without the batch (TF.js layout). */
export const prelu: LayerConverter = (call, ctx) => {
  const x = ctx.as(call.inputs[0], 'tf');
  const alpha = requireWeight(call.layer, 'alpha');
  const slope = ctx.graph.addFloatInitializer(
    `${call.layer.name}/alpha`,
    floatData(alpha),
    alpha.shape,
  );
  return [ctx.unary(x, 'PRelu', call.layer.name, {}, [slope])];
};
