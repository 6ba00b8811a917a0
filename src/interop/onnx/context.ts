import type * as tf from '@tensorflow/tfjs';
import type { Dim, OnnxGraph } from './onnxGraph.js';

/**
 * How a 4D value is laid out in the ONNX graph: 'tf' is TF.js's own order (NHWC for images, and
 * the only layout of tensors of any other rank), 'nchw' is what ONNX Conv and pooling work on.
 */
export type Layout = 'tf' | 'nchw';

/** A tensor of the graph: its ONNX name, TF.js shape (batch first) and layout. */
export interface Value {
  name: string;
  /** Shape in TF.js order, whatever the layout (null: unknown, e.g. the batch). */
  shape: Dim[];
  layout: Layout;
}

/** NHWC → NCHW and back, as ONNX Transpose perms. */
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

/** What a layer converter gets: the graph, its inputs and its outputs' TF.js shapes. */
export interface LayerCall {
  layer: tf.layers.Layer;
  inputs: Value[];
  outputShapes: Dim[][];
}

/** A layer converter: emits nodes for one call of one layer, returns one value per output. */
export type LayerConverter = (call: LayerCall, ctx: ConversionContext) => Value[];

/**
 * Shared state of one export: the graph, transposes already made (each layout change happens at
 * most once per tensor), scalar constants, and the warning sink.
 */
export class ConversionContext {
  private readonly relaid = new Map<string, string>();
  private readonly scalars = new Map<string, string>();

  constructor(
    readonly graph: OnnxGraph,
    readonly warn: (message: string) => void,
  ) {}

  /** `value` in `layout` (only 4D values have two layouts); transposes once and remembers it. */
  as(value: Value, layout: Layout): Value {
    if (value.shape.length !== 4 || value.layout === layout) return value;
    const key = `${value.name}→${layout}`;
    let name = this.relaid.get(key);
    if (name === undefined) {
      const perm = layout === 'nchw' ? TO_NCHW : TO_NHWC;
      [name] = this.graph.addNode('Transpose', [value.name], `${value.name}/${layout}`, { perm });
      this.relaid.set(key, name);
      this.relaid.set(`${name}→${value.layout}`, value.name);
    }
    return { name, shape: value.shape, layout };
  }

  /** The ONNX axis holding TF.js axis `tfAxis` (negative counts from the end) of `value`. */
  onnxAxis(value: Value, tfAxis: number): number {
    const rank = value.shape.length;
    const axis = tfAxis < 0 ? tfAxis + rank : tfAxis;
    if (!(axis >= 0 && axis < rank)) {
      throw new Error(`axis ${tfAxis} is out of range for a rank-${rank} tensor`);
    }
    return value.layout === 'nchw' ? TO_NCHW.indexOf(axis) : axis;
  }

  /** A float32 scalar constant, shared by every node that needs the same value. */
  scalar(value: number): string {
    const key = String(value);
    let name = this.scalars.get(key);
    if (name === undefined) {
      name = this.graph.addFloatInitializer(`const_${key}`, [value], []);
      this.scalars.set(key, name);
    }
    return name;
  }

  /** Emits a node whose single output keeps the input's shape and layout. */
  unary(
    input: Value,
    opType: string,
    name: string,
    attributes: Parameters<OnnxGraph['addNode']>[3] = {},
    extraInputs: string[] = [],
  ): Value {
    const [out] = this.graph.addNode(opType, [input.name, ...extraInputs], name, attributes);
    return { ...input, name: out };
  }

  /** Emits an elementwise binary node (numpy broadcasting) producing a value like `like`. */
  binary(opType: string, a: string, b: string, name: string, like: Value): Value {
    const [out] = this.graph.addNode(opType, [a, b], name);
    return { ...like, name: out };
  }
}
