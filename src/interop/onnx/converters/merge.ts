import type { ConversionContext, LayerConverter, Layout, Value } from '../context.js';
import { configOf } from '../layerConfig.js';

/**
 * The layout merged inputs are brought to: NCHW when they are all 4D and one is already NCHW
 * (a residual sum of conv outputs stays NCHW), TF.js layout otherwise.
 */
function commonLayout(inputs: Value[]): Layout {
  return inputs.every((v) => v.shape.length === 4) && inputs.some((v) => v.layout === 'nchw')
    ? 'nchw'
    : 'tf';
}

function aligned(ctx: ConversionContext, inputs: Value[]): Value[] {
  const layout = commonLayout(inputs);
  return inputs.map((v) => ctx.as(v, layout));
}

/** A merge of n inputs by one variadic ONNX op (Sum, Max, Min, Mean) or a chain of binary ones. */
function elementwise(variadic: string | null, binary: string): LayerConverter {
  return (call, ctx) => {
    const xs = aligned(ctx, call.inputs);
    const like = { ...xs[0], shape: call.outputShapes[0] };
    const name = call.layer.name;
    if (variadic && xs.length !== 2) {
      const [out] = ctx.graph.addNode(
        variadic,
        xs.map((x) => x.name),
        name,
      );
      return [{ ...like, name: out }];
    }
    let acc = xs[0];
    for (let i = 1; i < xs.length; i++) {
      acc = ctx.binary(
        binary,
        acc.name,
        xs[i].name,
        i === xs.length - 1 ? name : `${name}/${i}`,
        like,
      );
    }
    return [acc];
  };
}

export const add = elementwise('Sum', 'Add');
export const multiply = elementwise(null, 'Mul');
export const maximum = elementwise('Max', 'Max');
export const minimum = elementwise('Min', 'Min');

/** tf.layers.average: the mean of the inputs. */
export const average: LayerConverter = (call, ctx) => {
  const xs = aligned(ctx, call.inputs);
  const [out] = ctx.graph.addNode(
    'Mean',
    xs.map((x) => x.name),
    call.layer.name,
  );
  return [{ ...xs[0], name: out, shape: call.outputShapes[0] }];
};

/** tf.layers.concatenate: along TF.js's `axis` (default −1: channels), mapped to the layout. */
export const concatenate: LayerConverter = (call, ctx) => {
  const xs = aligned(ctx, call.inputs);
  const axis = (configOf(call.layer).axis as number | undefined) ?? -1;
  const [out] = ctx.graph.addNode(
    'Concat',
    xs.map((x) => x.name),
    call.layer.name,
    {
      axis: ctx.onnxAxis(xs[0], axis),
    },
  );
  return [{ ...xs[0], name: out, shape: call.outputShapes[0] }];
};
