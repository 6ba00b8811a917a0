import { ProtobufWriter } from './protobufWriter.js';

// The slice of onnx.proto (onnx/onnx, IR version 7) the exporter writes; field numbers from there.
/** TensorProto.DataType */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}
interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: AttributeProto[];
}
interface TensorProto {
  dims: number[];
  dataType: number;
  name: string;
  rawData: Uint8Array;
}
interface ValueInfoProto {
  name: string;
  elemType: number;
  dims: ({ dimValue: number } | { dimParam: string })[];
}

/** The ONNX operator set the exporter writes (default domain). */
export const ONNX_OPSET = 13;
/** IR version 7 is the one that goes with opset 13. */
const IR_VERSION = 7;

/** An attribute value: numbers that are integers become INT, others FLOAT; arrays likewise. */
export type AttributeValue = number | string | number[] | { floats: number[] } | { float: number };

/** A dimension of a graph input/output: a size, or null for a symbolic (batch) size. */
export type Dim = number | null;

/**
 * Builds one ONNX graph: nodes in topological order (the order they are added), initializers,
 * graph inputs and outputs. Names are made unique here, so callers can name things after layers.
 */
export class OnnxGraph {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();

  /** `base`, or `base_1`, `base_2`, ... : a name no tensor or node of this graph has yet. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /**
   * Appends a node; returns its output names (fresh names derived from `name` unless given).
   * Attributes with undefined values are left out.
   */
  addNode(
    opType: string,
    inputs: string[],
    name: string,
    attributes: Record<string, AttributeValue | undefined> = {},
    outputs: string[] | number = 1,
  ): string[] {
    const outputNames =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) =>
            this.uniqueName(outputs === 1 ? name : `${name}:${i}`),
          )
        : outputs;
    this.nodes.push({
      opType,
      name: this.uniqueName(`${name}#node`),
      input: inputs,
      output: outputNames,
      attribute: Object.entries(attributes)
        .filter(([, v]) => v !== undefined)
        .map(([key, v]) => attribute(key, v as AttributeValue)),
    });
    return outputNames;
  }

  /** A float32 constant; returns its (unique) name. */
  addFloatInitializer(name: string, values: Float32Array | number[], dims: number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    checkSize(name, data.length, dims);
    const unique = this.uniqueName(name);
    this.initializers.push({
      name: unique,
      dims,
      dataType: FLOAT,
      rawData: littleEndianBytes(data),
    });
    return unique;
  }

  /** An int64 constant (shapes, pads); returns its (unique) name. */
  addInt64Initializer(name: string, values: number[], dims: number[] = [values.length]): string {
    checkSize(name, values.length, dims);
    const unique = this.uniqueName(name);
    this.initializers.push({
      name: unique,
      dims,
      dataType: INT64,
      rawData: littleEndianBytes(BigInt64Array.from(values, (v) => BigInt(v))),
    });
    return unique;
  }

  /** Declares a float32 graph input; `name` must be unused. */
  addInput(name: string, shape: Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, shape));
    return name;
  }

  /** Declares a float32 graph output, already produced by some node under `name`. */
  addOutput(name: string, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, shape));
  }

  /** Reserves an exact name (graph inputs and outputs keep the model's names). */
  claim(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX export: the name '${name}' is used twice`);
    this.used.add(name);
    return name;
  }

  /** The node list so far (for inspection in tests and summaries). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The serialized ModelProto (fields in field-number order, as protobuf writers emit them). */
  encode(graphName: string, producerVersion: string, docString?: string): Uint8Array {
    const w = new ProtobufWriter();
    w.int(1, IR_VERSION) // ir_version
      .string(2, 'doconv') // producer_name
      .string(3, producerVersion) // producer_version
      .string(6, docString ?? '') // doc_string
      .message(7, (g) => {
        // graph: node 1, name 2, initializer 5, input 11, output 12
        for (const node of this.nodes) g.message(1, (n) => writeNode(n, node));
        g.string(2, graphName);
        for (const t of this.initializers) g.message(5, (m) => writeTensor(m, t));
        for (const v of this.inputs) g.message(11, (m) => writeValueInfo(m, v));
        for (const v of this.outputs) g.message(12, (m) => writeValueInfo(m, v));
      })
      .message(8, (o) => o.string(1, '').int(2, ONNX_OPSET)); // opset_import: domain, version
    return w.finish();
  }
}

function writeNode(w: ProtobufWriter, node: NodeProto): void {
  for (const input of node.input) w.string(1, input);
  for (const output of node.output) w.string(2, output);
  w.string(3, node.name).string(4, node.opType);
  for (const a of node.attribute) w.message(5, (m) => writeAttribute(m, a));
}

function writeAttribute(w: ProtobufWriter, a: AttributeProto): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.bytes(4, a.s);
  if (a.floats !== undefined) w.packedFloats(7, a.floats);
  if (a.ints !== undefined) w.packedInts(8, a.ints);
  w.int(20, a.type);
}

function writeTensor(w: ProtobufWriter, t: TensorProto): void {
  w.packedInts(1, t.dims).int(2, t.dataType).string(8, t.name).bytes(9, t.rawData);
}

function writeValueInfo(w: ProtobufWriter, v: ValueInfoProto): void {
  // name 1, type 2 { tensor_type 1 { elem_type 1, shape 2 { dim 1 { dim_value 1 | dim_param 2 } } } }
  w.string(1, v.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, v.elemType).message(2, (shape) => {
        for (const d of v.dims) {
          shape.message(1, (dim) =>
            'dimValue' in d ? dim.int(1, d.dimValue) : dim.string(2, d.dimParam),
          );
        }
      }),
    ),
  );
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    if (!value.every(Number.isInteger)) {
      throw new Error(
        `ONNX attribute '${name}': integer list expected, got ${JSON.stringify(value)}`,
      );
    }
    return { name, type: AttributeType.INTS, ints: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

function valueInfo(name: string, shape: Dim[]): ValueInfoProto {
  return {
    name,
    elemType: FLOAT,
    dims: shape.map((d, i) =>
      d == null ? { dimParam: i === 0 ? 'N' : `d${i}` } : { dimValue: d },
    ),
  };
}

function checkSize(name: string, size: number, dims: number[]): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== size) {
    throw new Error(
      `ONNX initializer '${name}': ${size} values do not fill dims ${JSON.stringify(dims)}`,
    );
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** ONNX raw_data is little-endian; typed arrays use the platform's order. */
function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (LITTLE_ENDIAN) return bytes;
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  return bytes;
}
