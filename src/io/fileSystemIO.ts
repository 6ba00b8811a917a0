/**
 * A `tf.io` IOHandler that saves and loads LayersModels as files in the standard TF.js format
 * (model.json + weights.bin), for Node without tfjs-node. Node-only: exported from `doconv/node`.
 *
 *   await model.save(fileSystem('out/model'));        // or model.save('file://out/model') after
 *   const m = await tf.loadLayersModel(fileSystem('out/model/model.json'));  // registerFileSystemRouter()
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { replaceFilesAtomically } from './atomicFiles.js';
import { describeFsError, fileKind, readCheckedFile } from './checkedRead.js';
import {
  type ConfinedFile,
  confinedPath as confinedPathRule,
  resolveConfinedFile,
} from './confinedFiles.js';
import { checkModelTopology } from './modelGraph.js';
import { checkWeightSpecs, weightSpecsByteLength } from './weightSpecBytes.js';

export const MODEL_JSON_NAME = 'model.json';
export const WEIGHTS_BIN_NAME = 'weights.bin';
export const FILE_URL_SCHEME = 'file://';

/**
 * The handler behind `fileSystem(path)`.
 * - save(path): `path` is a directory; writes `path/model.json` and `path/weights.bin` atomically
 *   (see atomicFiles.ts), replacing a model already there only once the new files are complete.
 * - load(path): `path` is a model.json (or a directory holding one); weight files are read from the
 *   manifest's `paths`, relative to the model.json, and checked against the manifest's byte count.
 */
export class FileSystemHandler implements tf.io.IOHandler {
  constructor(readonly path: string) {
    if (typeof path !== 'string' || path === '') {
      throw new Error(`fileSystem: path must be a non-empty string, got ${JSON.stringify(path)}`);
    }
  }

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    const dir = this.path;
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error(
        `fileSystem(${dir}).save: binary (GraphDef) topologies are not supported, only JSON`,
      );
    }
    const specs = artifacts.weightSpecs ?? [];
    const chunks = weightChunks(artifacts.weightData);
    const actual = chunks.reduce((n, c) => n + c.byteLength, 0);
    const expected = weightSpecsByteLength(specs);
    // Refuse to write a model that could never load again.
    if (expected !== null && expected !== actual) {
      throw new Error(
        `fileSystem(${dir}).save: weightData has ${actual} bytes but the ${specs.length} weight specs need ${expected}`,
      );
    }
    const modelJSON: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [WEIGHTS_BIN_NAME], weights: specs }],
    };
    // Optional parts are written only when present, as tfjs' own savers do.
    if (artifacts.trainingConfig != null) modelJSON.trainingConfig = artifacts.trainingConfig;
    if (artifacts.signature != null) modelJSON.signature = artifacts.signature;
    if (artifacts.userDefinedMetadata != null)
      modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
    if (artifacts.modelInitializer != null) modelJSON.modelInitializer = artifacts.modelInitializer;
    if (artifacts.initializerSignature != null)
      modelJSON.initializerSignature = artifacts.initializerSignature;

    try {
      // weights.bin first, model.json last: model.json is the commit point.
      await replaceFilesAtomically(dir, [
        { name: WEIGHTS_BIN_NAME, data: chunks },
        { name: MODEL_JSON_NAME, data: JSON.stringify(modelJSON) },
      ]);
    } catch (e) {
      throw new Error(
        `fileSystem(${dir}).save failed, nothing was changed: ${(e as Error).message}`,
      );
    }
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    const jsonPath = await modelJsonPathOf(this.path);
    let text: string;
    try {
      text = new TextDecoder().decode(await readCheckedFile(jsonPath, 'model file'));
    } catch (e) {
      throw new Error(`fileSystem: ${(e as Error).message}`);
    }
    let modelJSON: tf.io.ModelJSON;
    try {
      modelJSON = JSON.parse(text) as tf.io.ModelJSON;
    } catch (e) {
      throw new Error(
        `fileSystem: model file ${jsonPath} is not valid JSON: ${(e as Error).message}`,
      );
    }
    if (modelJSON === null || typeof modelJSON !== 'object' || modelJSON.modelTopology == null) {
      throw new Error(
        `fileSystem: model file ${jsonPath} has no modelTopology; is it a TF.js model.json?`,
      );
    }
    if (modelJSON.weightsManifest != null && !Array.isArray(modelJSON.weightsManifest)) {
      throw new Error(
        `fileSystem: model file ${jsonPath} has a weightsManifest that is not an array`,
      );
    }
    // Before TF.js sees it: a cycle or dangling reference would hang its loader.
    checkModelTopology(modelJSON.modelTopology, `fileSystem: model file ${jsonPath}`);
    return tf.io.getModelArtifactsForJSON(modelJSON, (manifest) =>
      readWeights(manifest, path.dirname(jsonPath), jsonPath),
    );
  }
}

/** Creates the file IOHandler for `path` (a directory to save into, or a model.json to load). */
export function fileSystem(path: string): FileSystemHandler {
  return new FileSystemHandler(path);
}

/**
 * Routes `file://` URLs to `fileSystem`, so `model.save('file://dir')` and
 * `tf.loadLayersModel('file://dir/model.json')` work. Importing `doconv/node` calls this. It does nothing
 * when some handler already claims `file://` (e.g. tfjs-node), because two matching routers make tfjs
 * refuse the URL. Returns whether it registered.
 */
export function registerFileSystemRouter(): boolean {
  const probe = `${FILE_URL_SCHEME}probe`;
  if (tf.io.getSaveHandlers(probe).length > 0 || tf.io.getLoadHandlers(probe).length > 0)
    return false;
  // tfjs types a router as always returning a handler, but its own routers return null for URLs they
  // do not claim, and the registry filters those out; ours does the same.
  const router = fileSystemRouter as Parameters<typeof tf.io.registerSaveRouter>[0];
  tf.io.registerSaveRouter(router);
  tf.io.registerLoadRouter(router);
  return true;
}

function fileSystemRouter(url: string | string[]): tf.io.IOHandler | null {
  if (typeof url !== 'string' || !url.startsWith(FILE_URL_SCHEME)) return null;
  return fileSystem(url.slice(FILE_URL_SCHEME.length));
}

async function modelJsonPathOf(p: string): Promise<string> {
  try {
    if ((await fs.stat(p)).isDirectory()) return path.join(p, MODEL_JSON_NAME);
  } catch {
    // Missing: fall through, and let the read report the path the user gave.
  }
  return p;
}

async function readWeights(
  manifest: tf.io.WeightsManifestConfig,
  dir: string,
  jsonPath: string,
): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer[]]> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  const source = { from: jsonPath, what: 'weights file' };
  for (const [g, group] of manifest.entries()) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
      throw new Error(
        `fileSystem: ${jsonPath}: weightsManifest[${g}] must have 'paths' and 'weights' arrays`,
      );
    }
    checkWeightSpecs(group.weights, `${jsonPath}: weightsManifest[${g}]`);
    // Paths and sizes first: a manifest that does not match its files is refused before anything
    // is read. Each path goes through the one rule for paths read from files (confinedFiles.ts).
    let files: ConfinedFile[];
    try {
      files = await Promise.all(group.paths.map((p) => resolveConfinedFile(dir, p, source)));
    } catch (e) {
      throw new Error(`fileSystem: ${(e as Error).message}`);
    }
    const bytes = files.reduce((a, f) => a + f.size, 0);
    // Shards split a group's bytes at arbitrary points, so only the group's total can be checked.
    const expected = weightSpecsByteLength(group.weights);
    if (expected !== null && expected !== bytes) {
      const names = files.map((f) => f.file);
      throw new Error(
        `fileSystem: weights file${names.length > 1 ? 's' : ''} ${names.join(', ')} hold${names.length > 1 ? '' : 's'} ` +
          `${bytes} bytes but ${jsonPath} lists ${group.weights.length} weights needing ${expected} bytes ` +
          `(${bytes < expected ? 'truncated' : 'too long'}; wrong or partly written file?)`,
      );
    }
    for (const { file, size } of files) {
      buffers.push(await readRegularFile(file, size, jsonPath));
    }
    specs.push(...group.weights);
  }
  return [specs, buffers];
}

/**
 * The path rule for every file a model.json names (see confinedFiles.ts): a relative path that
 * stays inside the model.json's folder. `../x`, absolute paths and anything not a non-empty string
 * are refused, naming the model file and the path.
 */
export function confinedPath(dir: string, name: unknown, jsonPath: string): string {
  try {
    return confinedPathRule(dir, name, { from: jsonPath, what: 'weights file' });
  } catch (e) {
    throw new Error(`fileSystem: ${(e as Error).message}`);
  }
}

/**
 * Reads exactly `size` bytes of `file` through one handle that is checked to be a regular file of
 * that size (the file may have changed since it was measured), into an ArrayBuffer of its own.
 */
async function readRegularFile(file: string, size: number, jsonPath: string): Promise<ArrayBuffer> {
  const where = `fileSystem: weights file ${file} (listed in ${jsonPath})`;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${where} is ${fileKind(stat)}`);
    if (stat.size !== size) throw new Error(`${where} changed size while it was read`);
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(out, at, size - at, at);
      if (bytesRead === 0) throw new Error(`${where} ended after ${at} of ${size} bytes`);
      at += bytesRead;
    }
    return out.buffer;
  } catch (e) {
    if ((e as Error).message.startsWith(where)) throw e;
    throw new Error(`${where} cannot be read: ${describeFsError(e)}`);
  } finally {
    await handle?.close();
  }
}

function weightChunks(data: tf.io.WeightData | undefined): Uint8Array[] {
  if (data == null) return [];
  return (Array.isArray(data) ? data : [data]).map((b) => new Uint8Array(b));
}
