import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { exportOnnx, type ExportOnnxOptions } from '../../src/index.js';
import { expectClose } from '../helpers/tolerance.js';

const { onnx } = onnxProto;

/** A decoded ONNX model as a plain object (int64 fields as numbers). */
export interface DecodedModel {
  opsetImport: { domain?: string; version: number }[];
  graph: {
    node: {
      opType: string;
      input: string[];
      output: string[];
      attribute?: { name: string; i?: number; ints?: number[]; f?: number }[];
    }[];
    initializer: { name: string; dims: number[] }[];
    input: { name: string }[];
    output: { name: string }[];
  };
}

/**
 * Decodes with onnx-proto (protobufjs), independent of doconv's writer, and checks the bytes are
 * exactly what protobufjs writes for the same message (field order, packing, varints).
 */
export function decodeOnnx(bytes: Uint8Array): DecodedModel {
  const message = onnx.ModelProto.decode(bytes);
  const reencoded = onnx.ModelProto.encode(message).finish();
  if (Buffer.compare(Buffer.from(reencoded), Buffer.from(bytes)) !== 0) {
    throw new Error(
      `ONNX bytes differ from protobufjs's encoding of the same model (${bytes.length} vs ${reencoded.length} bytes)`,
    );
  }
  return onnx.ModelProto.toObject(message, {
    longs: Number,
    arrays: true,
    defaults: false,
  }) as unknown as DecodedModel;
}

/** Nodes of one op type. */
export function nodesOf(model: DecodedModel, opType: string) {
  return model.graph.node.filter((n) => n.opType === opType);
}

/** An attribute of a node, as a number or a list. */
export function attr(
  node: DecodedModel['graph']['node'][number],
  name: string,
): number | number[] | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  return a.ints && a.ints.length > 0 ? a.ints : (a.i ?? a.f);
}

/** Dims of the initializer a node reads as input `index`. */
export function initializerDims(
  model: DecodedModel,
  node: DecodedModel['graph']['node'][number],
  index: number,
): number[] | undefined {
  return model.graph.initializer.find((t) => t.name === node.input[index])?.dims;
}

/** One single-threaded onnxruntime session (2 cores are shared with the rest of the suite). */
export async function onnxSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Runs the ONNX model on TF.js tensors (inputs in the graph's order); outputs in the graph's order. */
export async function runOnnx(
  session: ort.InferenceSession,
  xs: tf.Tensor[],
): Promise<{ data: Float32Array; dims: number[] }[]> {
  const feeds: Record<string, ort.Tensor> = {};
  session.inputNames.forEach((name, i) => {
    feeds[name] = new ort.Tensor('float32', Float32Array.from(xs[i].dataSync()), xs[i].shape);
  });
  const results = await session.run(feeds);
  return session.outputNames.map((name) => ({
    data: results[name].data as Float32Array,
    dims: results[name].dims.map(Number),
  }));
}

/**
 * Exports `model`, runs it in onnxruntime on `xs`, and checks every output against TF.js's
 * predict (shape equal, values within rtol relative). Returns the decoded ONNX model.
 */
export async function expectOnnxMatchesTfjs(
  model: tf.LayersModel,
  xs: tf.Tensor[],
  rtol = 1e-4,
  options: ExportOnnxOptions = {},
): Promise<DecodedModel> {
  const bytes = exportOnnx(model, { onWarning: () => {}, ...options });
  const session = await onnxSession(bytes);
  try {
    const got = await runOnnx(session, xs);
    const predicted = model.predict(xs.length === 1 ? xs[0] : xs);
    const expected = Array.isArray(predicted) ? predicted : [predicted];
    if (got.length !== expected.length)
      throw new Error(`ONNX has ${got.length} outputs, TF.js ${expected.length}`);
    expected.forEach((y, i) => {
      if (JSON.stringify(got[i].dims) !== JSON.stringify(y.shape)) {
        throw new Error(
          `output ${i}: ONNX shape ${JSON.stringify(got[i].dims)} ≠ TF.js shape ${JSON.stringify(y.shape)}`,
        );
      }
      expectClose(got[i].data, y.dataSync(), rtol, `output ${i} (${session.outputNames[i]})`);
    });
    tf.dispose(expected);
  } finally {
    await session.release();
  }
  return decodeOnnx(bytes);
}

/**
 * Random weights at a scale a deep net survives (He-style by fan-in, so a 56-layer ResNet neither
 * vanishes nor overflows), D random (not the zero it starts at), BN statistics random and away from
 * the identity. `kernel` of a DO layer is W [dMul, C/g, F]: its fan-in is dMul·C/g as for a conv.
 */
export function randomizeForExport(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const weights = layer.weights.map((w) => {
      const name = w.originalName.split('/').pop()!;
      const shape = w.shape as number[];
      const normal = (std: number, mean = 0) => tf.randomNormal(shape, mean, std, 'float32', s++);
      switch (name) {
        case 'moving_variance':
          return tf.randomUniform(shape, 0.5, 2, 'float32', s++);
        case 'moving_mean':
        case 'beta':
        case 'bias':
          return normal(0.2);
        case 'gamma':
          return tf.randomUniform(shape, 0.5, 1.5, 'float32', s++);
        case 'D':
          return normal(0.3);
        case 'depthwise_kernel':
          // [M, N, C, mult] (tf.layers) or [dMul, C, mult] (DO-DConv): fan-in M·N or dMul.
          return normal(Math.sqrt(2 / (shape.length === 4 ? shape[0] * shape[1] : shape[0])));
        default: {
          const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
          return normal(Math.sqrt(2 / fanIn));
        }
      }
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}
