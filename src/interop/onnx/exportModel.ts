/**
 * Node-only (exported from `doconv/node`): a saved TF.js model in, a deployable model out — what
 * `doconv export --format tfjs|onnx` runs.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { foldModel } from '../../fold/foldModel.js';
import { replaceFilesAtomically } from '../../io/atomicFiles.js';
import { fileSystem, MODEL_JSON_NAME, WEIGHTS_BIN_NAME } from '../../io/fileSystemIO.js';
import { loadModel } from '../../io/loadModel.js';
import { checkOutputPath } from '../../io/outputPaths.js';
// Registers the DO layers so models using them load.
import '../../layers/DOConv1D.js';
import '../../layers/DOConv2D.js';
import '../../layers/DODepthwiseConv2D.js';
import '../../layers/DOSeparableConv2D.js';
import { exportOnnx, type ExportOnnxOptions } from './exportOnnx.js';

/** What {@link exportModel} writes. */
export type ExportFormat = 'tfjs' | 'onnx';
export const exportFormats: readonly ExportFormat[] = ['tfjs', 'onnx'];

/** Options of {@link exportModel}. */
export interface ExportModelOptions {
  /** 'tfjs' only: also merge each BatchNormalization into the conv before it (foldModel). Default true. */
  fuseBatchNorm?: boolean;
  /** 'onnx' only: options passed to exportOnnx. */
  onnx?: ExportOnnxOptions;
}

/** What was written. */
export interface ExportModelResult {
  format: ExportFormat;
  /** Paths of the files written. */
  files: string[];
  /** Total bytes written. */
  bytes: number;
  /** Class names of the exported model's layers ('tfjs'), or of the source model's ('onnx'). */
  layerClasses: string[];
}

/**
 * Loads the TF.js LayersModel at `inPath` (a model.json, or a directory holding one; DO layers
 * included) and writes it for deployment:
 * - 'tfjs': `outPath` is a directory; model.json + weights.bin of the folded model (DO layers →
 *   standard layers, BN fused by default), which loads with plain @tensorflow/tfjs;
 * - 'onnx': `outPath` is the .onnx file; see exportOnnx (DO layers become grouped/dilated Convs).
 * Nothing is written unless the export succeeds; files are replaced atomically.
 */
export async function exportModel(
  inPath: string,
  outPath: string,
  format: ExportFormat,
  options: ExportModelOptions = {},
): Promise<ExportModelResult> {
  if (!exportFormats.includes(format)) {
    throw new Error(
      `exportModel: format must be ${exportFormats.map((f) => `'${f}'`).join(' or ')}, got ${JSON.stringify(format)}`,
    );
  }
  if (typeof outPath !== 'string' || outPath === '') {
    throw new Error(
      `exportModel: outPath must be a non-empty path, got ${JSON.stringify(outPath)}`,
    );
  }
  // The output must not be, be inside or hold the model it reads (export ck ck/model.json turned
  // the model.json into ONNX bytes).
  await checkOutputPath('outPath', outPath, [{ what: 'inPath', path: inPath }]);
  const model = await loadModel(fileSystem(inPath));
  try {
    if (format === 'onnx') {
      const bytes = exportOnnx(model, options.onnx);
      const file = path.resolve(outPath);
      await replaceFilesAtomically(path.dirname(file), [
        { name: path.basename(file), data: bytes },
      ]);
      return { format, files: [file], bytes: bytes.byteLength, layerClasses: classesOf(model) };
    }
    const folded = foldModel(model, { fuseBatchNorm: options.fuseBatchNorm ?? true });
    try {
      await folded.save(fileSystem(outPath));
      const files = [MODEL_JSON_NAME, WEIGHTS_BIN_NAME].map((name) => path.resolve(outPath, name));
      const sizes = await Promise.all(files.map(async (f) => (await fs.stat(f)).size));
      return {
        format,
        files,
        bytes: sizes.reduce((a, b) => a + b, 0),
        layerClasses: classesOf(folded),
      };
    } finally {
      folded.dispose();
    }
  } finally {
    model.dispose();
  }
}

function classesOf(model: tf.LayersModel): string[] {
  return model.layers.map((l) => l.getClassName());
}
