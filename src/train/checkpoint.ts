/**
 * Training checkpoints: one directory holding everything a run needs to continue exactly.
 *
 *   checkpoint/model.json, weights.bin     the model in TF.js format (loads with tf.loadLayersModel)
 *   checkpoint/optimizer.json, optimizer.bin  the optimizer's class, config and getWeights() tensors
 *   checkpoint/state.json                  epochs done, the run's options, the metrics so far
 *
 * Written atomically as a whole: everything goes to a fresh temp directory beside the target, then the
 * old checkpoint is renamed aside, the temp directory renamed into place, and the old one deleted.
 * A failure before the swap leaves the previous checkpoint untouched and removes the temp directory.
 * A crash between the two renames leaves only the renamed-aside old one, which `loadCheckpoint` finds.
 * Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileSystem } from '../io/fileSystemIO.js';
import { loadModel } from '../io/loadModel.js';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import { Adam, SGD, type ScheduledOptimizer } from './optimizers.js';

const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const STATE_JSON = 'state.json';
const FORMAT = 'doconv-checkpoint/1';

/** What a checkpoint holds besides the model and the optimizer; `S` is the trainer's state type. */
export interface CheckpointContents<S> {
  model: tf.LayersModel;
  optimizer: ScheduledOptimizer;
  state: S;
}

/** A loaded checkpoint: a fresh model and optimizer (the caller disposes both) and the state. */
export interface LoadedCheckpoint<S> extends CheckpointContents<S> {
  /** The directory it was read from (the target, or a renamed-aside copy after a crash). */
  dir: string;
}

interface OptimizerFile {
  format: string;
  className: string;
  config: tf.serialization.ConfigDict;
  weightSpecs: tf.io.WeightsManifestEntry[];
}

const tempPrefix = (dir: string) => path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-`);
const asidePrefix = (dir: string) => path.join(path.dirname(dir), `.${path.basename(dir)}.old-`);

/** Writes `contents` as the checkpoint directory `dir`, replacing any checkpoint there atomically. */
export async function saveCheckpoint<S>(
  dir: string,
  contents: CheckpointContents<S>,
): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await removeSiblings(tempPrefix(dir)); // left by a crashed save
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = tempPrefix(dir) + tag;
  const aside = asidePrefix(dir) + tag;
  try {
    await contents.model.save(fileSystem(temp));
    const named = await contents.optimizer.getWeights();
    const { data, specs } = await tf.io.encodeWeights(named);
    // getWeights makes a fresh tensor for the step count; the slots are the optimizer's own.
    tf.dispose(named.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
    const optimizerFile: OptimizerFile = {
      format: FORMAT,
      className: contents.optimizer.getClassName(),
      config: contents.optimizer.getConfig(),
      weightSpecs: specs,
    };
    await replaceFilesAtomically(temp, [
      { name: OPTIMIZER_BIN, data: new Uint8Array(data) },
      { name: OPTIMIZER_JSON, data: JSON.stringify(optimizerFile) },
      {
        name: STATE_JSON,
        data: JSON.stringify({ format: FORMAT, state: contents.state }, null, 1),
      },
    ]);
  } catch (e) {
    await fs.rm(temp, { recursive: true, force: true });
    throw new Error(
      `saving checkpoint ${dir} failed; the previous checkpoint is unchanged: ${(e as Error).message}`,
    );
  }
  const hadOld = await exists(dir);
  if (hadOld) await fs.rename(dir, aside);
  try {
    await fs.rename(temp, dir);
  } catch (e) {
    if (hadOld) await fs.rename(aside, dir).catch(() => {});
    await fs.rm(temp, { recursive: true, force: true });
    throw new Error(
      `saving checkpoint ${dir} failed; the previous checkpoint is unchanged: ${(e as Error).message}`,
    );
  }
  await fs.rm(aside, { recursive: true, force: true });
  // Old ones left aside by an earlier crash are superseded now.
  await removeSiblings(asidePrefix(dir));
}

/** Whether a checkpoint can be loaded from `dir` (or from an old copy a crash left beside it). */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return (await findCheckpoint(dir)) !== null;
}

/** Loads the checkpoint `dir`; throws naming the directory when there is none or it is damaged. */
export async function loadCheckpoint<S>(dir: string): Promise<LoadedCheckpoint<S>> {
  const found = await findCheckpoint(dir);
  if (found === null)
    throw new Error(`no checkpoint in ${dir} (expected ${path.join(dir, STATE_JSON)})`);
  const stateFile = await readJson<{ format: string; state: S }>(path.join(found, STATE_JSON));
  checkFormat(stateFile.format, path.join(found, STATE_JSON));
  const optFile = await readJson<OptimizerFile>(path.join(found, OPTIMIZER_JSON));
  checkFormat(optFile.format, path.join(found, OPTIMIZER_JSON));
  const optimizer = optimizerFromConfig(optFile, path.join(found, OPTIMIZER_JSON));
  const bin = await fs.readFile(path.join(found, OPTIMIZER_BIN));
  const expected = optFile.weightSpecs.reduce(
    (n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1),
    0,
  );
  if (bin.byteLength !== expected) {
    throw new Error(
      `${path.join(found, OPTIMIZER_BIN)}: ${bin.byteLength} bytes, ${OPTIMIZER_JSON} needs ${expected}`,
    );
  }
  const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  const decoded = tf.io.decodeWeights(buffer, optFile.weightSpecs);
  const named = optFile.weightSpecs.map((s) => ({ name: s.name, tensor: decoded[s.name] }));
  await optimizer.setWeights(named);
  tf.dispose(Object.values(decoded));
  const model = await loadModel(fileSystem(path.join(found, 'model.json')));
  return { model, optimizer, state: stateFile.state, dir: found };
}

function optimizerFromConfig(file: OptimizerFile, where: string): ScheduledOptimizer {
  const config = file.config as Record<string, number>;
  if (file.className === SGD.className) {
    return new SGD({ learningRate: config.learningRate, momentum: config.momentum });
  }
  if (file.className === Adam.className) {
    return new Adam({
      learningRate: config.learningRate,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: config.epsilon,
    });
  }
  throw new Error(`${where}: unknown optimizer class ${JSON.stringify(file.className)}`);
}

async function findCheckpoint(dir: string): Promise<string | null> {
  if (await exists(path.join(dir, STATE_JSON))) return dir;
  const prefix = asidePrefix(dir);
  const siblings = await fs.readdir(path.dirname(dir)).catch(() => [] as string[]);
  for (const name of siblings) {
    const full = path.join(path.dirname(dir), name);
    if (full.startsWith(prefix) && (await exists(path.join(full, STATE_JSON)))) return full;
  }
  return null;
}

async function removeSiblings(prefix: string): Promise<void> {
  const parent = path.dirname(prefix);
  const names = await fs.readdir(parent).catch(() => [] as string[]);
  await Promise.all(
    names
      .map((n) => path.join(parent, n))
      .filter((full) => full.startsWith(prefix))
      .map((full) => fs.rm(full, { recursive: true, force: true })),
  );
}

async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function checkFormat(format: string, file: string): void {
  if (format !== FORMAT)
    throw new Error(
      `${file}: format ${JSON.stringify(format)}, expected ${JSON.stringify(FORMAT)}`,
    );
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}
