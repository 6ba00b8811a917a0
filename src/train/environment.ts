/**
 * Which backend and engine a run uses and what machine it ran on, recorded with every result, and
 * the resume rule that follows from it. Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { nativeEngineInUse } from '../engine/engineState.js';
import {
  type BackendName,
  currentEngine,
  type EngineName,
  useBestBackend,
} from '../engine/useBestBackend.js';
import { OptionError } from '../util/optionError.js';

/**
 * 'auto': the fastest available (tfjs-node, else doconv-native where the native addon is built, else
 * wasm with doconv's kernels, else cpu).
 */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'doconv-native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * What ran a run's ops, as summary.json, checkpoints and comparison records hold it. A run repeats
 * bit for bit only on the same engine and, on 'native', the same oneDNN thread count.
 */
export interface EngineRecord {
  /** The TF.js backend's name ('doconv-native', 'wasm', 'tensorflow', 'cpu'). */
  backend: string;
  engine: EngineName;
  /** oneDNN's version on engine 'native', else null. */
  oneDnn: string | null;
  /** oneDNN threads per training thread (the main thread or each worker) on 'native', else null. */
  threads: number | null;
}

/** The backend and engine running ops in this thread now. */
export function engineRecord(): EngineRecord {
  const engine = currentEngine();
  const native = engine === 'native' ? nativeEngineInUse() : null;
  return {
    backend: tf.getBackend(),
    engine,
    oneDnn: native?.oneDnn ?? null,
    threads: native?.threads ?? null,
  };
}

/** "native (1 oneDNN thread)", "wasm", "cpu". */
export function describeEngine(r: EngineRecord): string {
  if (r.engine !== 'native') return r.engine;
  const threads = r.threads ?? '?';
  return `native (${threads} oneDNN thread${threads === 1 ? '' : 's'})`;
}

/**
 * Selects `choice` (undefined keeps the current backend) and returns what runs: the backend and
 * its engine.
 */
export async function selectBackend(
  choice: BackendChoice | undefined,
  log: (message: string) => void = () => {},
): Promise<EngineRecord> {
  if (choice === undefined) {
    await tf.ready();
    return engineRecord();
  }
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(
      `backend must be one of ${BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(choice)}`,
    );
  }
  const candidates: BackendName[] | undefined = choice === 'auto' ? undefined : [choice];
  try {
    await useBestBackend({ log, candidates });
  } catch (e) {
    throw new Error(`backend ${JSON.stringify(choice)} is not available: ${(e as Error).message}`);
  }
  return engineRecord();
}

/**
 * Refuses to resume the checkpoint `checkpoint` (trained on `saved`) on another engine or oneDNN
 * thread count, where the run would silently stop repeating an uninterrupted one; with `allow`, logs
 * the change and goes on. A checkpoint without a record (written before it was kept) resumes as before.
 */
export function checkResumeEngine(
  saved: EngineRecord | undefined,
  current: EngineRecord,
  checkpoint: string,
  allow: boolean,
  log: (message: string) => void,
): void {
  if (saved == null) return;
  if (saved.engine === current.engine && (saved.threads ?? null) === current.threads) return;
  const was = describeEngine(saved);
  const now = describeEngine(current);
  if (!allow) {
    throw new OptionError(
      'allowEngineChange',
      (n) =>
        `cannot resume ${checkpoint}: it was trained on engine ${was}, this process runs ${now}; ` +
        'resume on the same engine (DOCONV_ENGINE=wasm forces wasm; DOCONV_NATIVE_THREADS sets the native thread count), ' +
        `or pass ${n('allowEngineChange', 'true')} to continue on this one — the run will then differ from an uninterrupted one`,
    );
  }
  log(
    `engine changed: ${checkpoint} was trained on ${was}, continuing on ${now} (allowEngineChange); the run will differ from an uninterrupted one`,
  );
}

/** The machine, as results files record it. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  tfjs: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
  };
}
