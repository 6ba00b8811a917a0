import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

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
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: ITensorProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
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
      dataType: onnx.TensorProto.DataType.FLOAT,
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
      dataType: onnx.TensorProto.DataType.INT64,
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

  /** The serialized ModelProto. */
  encode(graphName: string, producerVersion: string, docString?: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'doconv',
      producerVersion,
      docString: docString ?? '',
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, value: AttributeValue): IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
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

function valueInfo(name: string, shape: Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: shape.map((d, i) =>
            d == null ? { dimParam: i === 0 ? 'N' : `d${i}` } : { dimValue: d },
          ),
        },
      },
    },
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
