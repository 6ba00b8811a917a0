/**
 * Which backend a run uses and what machine it ran on, recorded with every result. Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { type BackendName, useBestBackend } from '../engine/useBestBackend.js';

/** 'auto': the fastest available (tfjs-node, else wasm with doconv's kernels, else cpu). */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** Selects `choice` (undefined keeps the current backend) and returns the active backend's name. */
export async function selectBackend(
  choice: BackendChoice | undefined,
  log: (message: string) => void = () => {},
): Promise<string> {
  if (choice === undefined) {
    await tf.ready();
    return tf.getBackend();
  }
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(
      `backend must be one of ${BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(choice)}`,
    );
  }
  const candidates: BackendName[] | undefined = choice === 'auto' ? undefined : [choice];
  try {
    return (await useBestBackend({ log, candidates })).backend;
  } catch (e) {
    throw new Error(`backend ${JSON.stringify(choice)} is not available: ${(e as Error).message}`);
  }
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
