/**
 * A BatchNormalization followed only by a ReLU, trained as one op (BATCH_NORM_RELU_TRAINING,
 * util/batchNormTrainingOp.ts) where the backend has it: ReLU's forward pass and its gradient's
 * pass disappear into BatchNorm's (one full read and write each way per pair; the zoo's nets
 * have the pair after nearly every conv).
 *
 * BatchNorm's training route (batchNormTraining.ts) asks `reluFusedAfter` whether its output is
 * ReLU's input and nothing else's; if so it returns relu(BatchNorm(x)) and marks that tensor for
 * the ReLU layer, whose route (installed here on ReLU and Activation) hands a marked input on
 * unchanged. The values and gradients are the unfused ones (ReLU is idempotent, and the native
 * kernels compute them bit for bit alike). It fires only when all of these hold:
 * - the call runs as a node of a model's graph (modelRun.ts: a BatchNorm called by hand, even one
 *   that also sits in a graph, is never fused);
 * - the BatchNorm layer has one inbound node and one outbound node, into a ReLU layer (ReLU, with
 *   or without maxValue, or Activation 'relu' / 'relu6') that has that one inbound node only;
 * - BatchNorm's output is not among the running model's outputs (a user reading it gets y).
 * In a graph every consumer of a tensor is an outbound node of its layer, so BatchNorm's output
 * then reaches the ReLU and nothing else.
 */
import * as tf from '@tensorflow/tfjs';
import { runningModelOutputs } from './modelRun.js';
import './reluSix.js'; // installed first, so the pass-through below runs before its Relu6
import { routeTfjsLayerCall, singleInput } from './tfjsLayerCall.js';

interface GraphNode {
  outboundLayer: tf.layers.Layer;
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}
interface GraphLayer {
  inboundNodes: GraphNode[];
  outboundNodes: GraphNode[];
}

/** The clip bound of a ReLU layer (Infinity: none), or null for any other layer. */
function reluCap(layer: tf.layers.Layer): number | null {
  const className = layer.getClassName();
  if (className === 'ReLU') {
    const { maxValue } = layer as unknown as { maxValue?: number | null };
    if (maxValue == null) return Infinity;
    return typeof maxValue === 'number' && maxValue > 0 ? maxValue : null;
  }
  if (className === 'Activation') {
    const { activation } = layer as unknown as { activation?: { getClassName(): string } };
    const name = activation?.getClassName();
    return name === 'relu' ? Infinity : name === 'relu6' ? 6 : null;
  }
  return null;
}

/**
 * The ReLU layer `layer`'s output goes to and only to, with its cap; null when there is none
 * (BatchNorm's here, the residual Add's in addRelu.ts).
 */
export function reluFusedAfter(
  layer: tf.layers.Layer,
): { relu: tf.layers.Layer; cap: number } | null {
  const outputs = runningModelOutputs();
  if (outputs == null) return null;
  const { inboundNodes, outboundNodes } = layer as unknown as GraphLayer;
  if (inboundNodes.length !== 1 || outboundNodes.length !== 1) return null;
  const output = inboundNodes[0].outputTensors;
  const next = outboundNodes[0];
  const relu = next.outboundLayer;
  const reluNodes = (relu as unknown as GraphLayer).inboundNodes;
  if (
    output.length !== 1 ||
    outputs.includes(output[0]) ||
    next.inputTensors.length !== 1 ||
    next.inputTensors[0] !== output[0] ||
    reluNodes.length !== 1 ||
    reluNodes[0] !== next
  ) {
    return null;
  }
  const cap = reluCap(relu);
  return cap == null ? null : { relu, cap };
}

/** relu(BatchNorm(x)) tensors, each with the ReLU layer it is for. */
const fusedOutputs = new WeakMap<tf.Tensor, tf.layers.Layer>();

/** Marks `z`, a fused op's output (BatchNorm's, Add's), as `relu`'s output already. */
export function markFusedRelu(z: tf.Tensor, relu: tf.layers.Layer): void {
  fusedOutputs.set(z, relu);
}

/** The ReLU's route: a marked input is its own output already (a new handle on the same data). */
function passFusedOutput(
  layer: tf.layers.Layer,
  inputs: tf.Tensor | tf.Tensor[],
): tf.Tensor | null {
  const x = singleInput(inputs);
  if (x === null || fusedOutputs.get(x) !== layer) return null;
  fusedOutputs.delete(x);
  return tf.clone(x);
}

/** Installs the pass-through on TF.js's ReLU and Activation layers (importing doconv does it). */
export function installBatchNormRelu(): void {
  routeTfjsLayerCall('ReLU', 'batchNormRelu', passFusedOutput);
  routeTfjsLayerCall('Activation', 'batchNormRelu', passFusedOutput);
}

installBatchNormRelu();
