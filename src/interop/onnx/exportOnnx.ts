import * as tf from '@tensorflow/tfjs';
import { warningSink, type WarningSink } from '../../layers/warnings.js';
import { DOConvBase } from '../../layers/DOConvBase.js';
import { ConversionContext, TO_NHWC, type LayerConverter, type Value } from './context.js';
import { layerConverters } from './converters/index.js';
import { doConv } from './converters/convolution.js';
import { describeLayer } from './layerConfig.js';
import { OnnxGraph, type Dim } from './onnxGraph.js';

export { ONNX_OPSET } from './onnxGraph.js';

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** A fixed batch size for the graph's inputs and outputs. Default: symbolic ('N'), any batch. */
  batchSize?: number;
  /** Name of the ONNX graph. Default: the model's name. */
  graphName?: string;
  /**
   * Receives notes on TF.js behaviour the export reproduces (e.g. a DepthwiseConv2D whose
   * dilationRate TF.js ignores). Default: console.warn.
   */
  onWarning?: WarningSink;
}

/**
 * The model as an ONNX model (opset 13), serialized: same inputs and outputs as the TF.js model,
 * in TF.js's layout (NHWC images), so the two give the same numbers for the same input.
 *
 * Inside, images run NCHW: one Transpose after each image input, one before each 4D output and each
 * Flatten/Reshape/Dense on 4D (so features keep TF.js's H·W·C order). DOConv2D / DODepthwiseConv2D
 * are folded on the way: each is one Conv with the composed kernel, grouped (`group` = g) and dilated
 * natively — no need to `foldModel` first, and cheaper than exporting the folded tfjs model, whose
 * DO-GConv is a block-diagonal dense conv. Weights are read at call time.
 *
 * Supported layers: see `onnxSupportedLayers`; anything else throws naming the layer and its class.
 * Browser-safe; reads weights with dataSync.
 */
export function exportOnnx(model: tf.LayersModel, options: ExportOnnxOptions = {}): Uint8Array {
  const { batchSize } = options;
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new Error(
      `exportOnnx: batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`,
    );
  }
  if (!model.inputs?.length) {
    throw new Error(
      `exportOnnx: model '${model.name}' has no inputs yet; build it first (e.g. give its first layer an inputShape)`,
    );
  }
  const batch = batchSize ?? null;
  const graph = new OnnxGraph();
  const ctx = new ConversionContext(graph, warningSink(options.onWarning, 'exportOnnx'));
  const values = new Map<number, Value>();

  // Graph inputs and outputs are named after their layers (a Sequential has no inputNames).
  for (const input of model.inputs) {
    const layerName = input.sourceLayer.name;
    if (input.dtype !== 'float32') {
      throw new Error(
        `exportOnnx: input '${layerName}' has dtype ${input.dtype}; only float32 inputs are supported`,
      );
    }
    const name = graph.addInput(layerName, withBatch(input.shape, batch));
    values.set(input.id, { name, shape: input.shape, layout: 'tf' });
  }
  // Outputs keep the model's output names; reserve them before any node can take them.
  const outputNames = model.outputs.map((output) => graph.uniqueName(output.sourceLayer.name));

  const visit = (tensor: tf.SymbolicTensor): Value => {
    const known = values.get(tensor.id);
    if (known) return known;
    const layer = tensor.sourceLayer;
    if (layer.getClassName() === 'InputLayer') {
      throw new Error(
        `exportOnnx: ${describeLayer(layer)} feeds the graph but is not an input of the model`,
      );
    }
    const node = layer.inboundNodes[tensor.nodeIndex];
    const inputs = node.inputTensors.map(visit);
    const outputs = convert(
      layer,
      inputs,
      node.outputTensors.map((t) => t.shape),
      ctx,
    );
    node.outputTensors.forEach((t, i) => values.set(t.id, outputs[i]));
    return values.get(tensor.id)!;
  };

  model.outputs.forEach((output, i) => {
    const value = visit(output);
    const name = outputNames[i];
    if (value.layout === 'nchw' && value.shape.length === 4) {
      graph.addNode('Transpose', [value.name], name, { perm: TO_NHWC }, [name]);
    } else {
      graph.addNode('Identity', [value.name], name, {}, [name]);
    }
    graph.addOutput(name, withBatch(output.shape, batch));
  });

  return graph.encode(
    options.graphName ?? model.name,
    '',
    `Exported by doconv from the TF.js model '${model.name}' (tfjs ${tf.version.tfjs}); inputs and outputs in TF.js layout (NHWC).`,
  );
}

/** Class names of the layers exportOnnx converts (DO layers included). */
export const onnxSupportedLayers: readonly string[] = Object.keys(layerConverters);

function convert(
  layer: tf.layers.Layer,
  inputs: Value[],
  outputShapes: tf.Shape[],
  ctx: ConversionContext,
): Value[] {
  if (layer instanceof tf.LayersModel) {
    throw new Error(
      `exportOnnx: ${describeLayer(layer)} is a nested model; export a flat model (rebuild it with the inner layers)`,
    );
  }
  const converter: LayerConverter | undefined =
    layerConverters[layer.getClassName()] ?? (layer instanceof DOConvBase ? doConv : undefined);
  if (!converter) {
    throw new Error(
      `exportOnnx: ${describeLayer(layer)} is not supported by the ONNX export ` +
        `(supported: ${Object.keys(layerConverters).join(', ')})`,
    );
  }
  // A pooling window or valid conv larger than its input gives TF.js an empty output; ONNX operators
  // would compute a 1×1 one instead. Refuse rather than export a model that disagrees with TF.js.
  const empty = outputShapes.find((shape) => shape.some((d) => d === 0));
  if (empty) {
    throw new Error(
      `exportOnnx: ${describeLayer(layer)} produces an empty output ${JSON.stringify(empty)} ` +
        `(its window is larger than its input); TF.js returns no values there and ONNX cannot express that`,
    );
  }
  try {
    return converter({ layer, inputs, outputShapes: outputShapes as Dim[][] }, ctx);
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes(`'${layer.name}'`)) throw error;
    throw new Error(`exportOnnx: ${describeLayer(layer)}: ${message}`, { cause: error });
  }
}

function withBatch(shape: tf.Shape, batch: number | null): Dim[] {
  return [batch ?? shape[0] ?? null, ...shape.slice(1)];
}
