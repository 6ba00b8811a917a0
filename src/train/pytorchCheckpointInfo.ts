/**
 * The JSON tools/train_ddp.py writes beside its checkpoint (checkpoint.json): found, read and checked
 * for `doconv import`. Node-only.
 */
import * as fs from 'node:fs/promises';
import type { StateDictComposition } from '../interop/pytorchStateDict.js';
import type { ConvKind } from '../models/index.js';
import type { NormalizeKind } from './data.js';

/** The JSON tools/train_ddp.py writes beside its checkpoint (the fields the import reads). */
export interface PytorchCheckpointInfo {
  format?: string;
  model?: string;
  conv?: ConvKind;
  /** 'definition' (tools/doconv_torch's DO-Conv) or 'pytorch-official' (the official DOConv2d). */
  composition?: StateDictComposition;
  dataset?: string;
  normalize?: NormalizeKind;
  inputShape?: [number, number, number];
  numClasses?: number;
  testAccuracy?: number;
  testImages?: number;
  worldSize?: number;
  command?: string;
  [key: string]: unknown;
}

/** `<checkpoint without .safetensors>.json` when that file exists, else null. */
export async function defaultInfoPath(checkpoint: string): Promise<string | null> {
  const candidate = checkpoint.replace(/\.safetensors$/i, '') + '.json';
  return candidate !== checkpoint && (await exists(candidate)) ? candidate : null;
}

/** Reads and checks the JSON; errors name the file, the key and the value. */
export async function readCheckpointInfo(file: string): Promise<PytorchCheckpointInfo> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read checkpoint info ${JSON.stringify(file)}: ${(e as Error).message}`);
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new Error(`${file}: expected a JSON object, got ${JSON.stringify(info)?.slice(0, 80)}`);
  }
  const i = info as PytorchCheckpointInfo;
  for (const key of ['model', 'conv', 'dataset', 'composition'] as const) {
    if (i[key] !== undefined && typeof i[key] !== 'string') {
      throw new Error(`${file}: ${key} must be a string, got ${JSON.stringify(i[key])}`);
    }
  }
  if (i.composition !== undefined && !['definition', 'pytorch-official'].includes(i.composition)) {
    throw new Error(
      `${file}: composition must be 'definition' or 'pytorch-official', got ${JSON.stringify(i.composition)}`,
    );
  }
  if (
    i.inputShape !== undefined &&
    !(
      Array.isArray(i.inputShape) &&
      i.inputShape.length === 3 &&
      i.inputShape.every((d) => Number.isInteger(d) && d > 0)
    )
  ) {
    throw new Error(
      `${file}: inputShape must be [height, width, channels], got ${JSON.stringify(i.inputShape)}`,
    );
  }
  return i;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
