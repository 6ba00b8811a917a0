/**
 * Where a benchmark's JSON goes and what it starts with: the date, the machine, the command, then
 * the benchmark's own fields. results/ by default; smoke tests pass a temporary folder (`--out`),
 * so figures from a busy or tiny run never land beside the measured ones.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** The machine a figure was measured on. */
export function machineRecord(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model,
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** Writes `<dir>/<prefix>-<date>.json` and returns its path. */
export function writeResult(
  prefix: string,
  script: string,
  fields: Record<string, unknown>,
  dir = 'results',
): string {
  const date = new Date().toISOString();
  const out = {
    date,
    machine: machineRecord(),
    command: `npx tsx ${script} ${process.argv.slice(2).join(' ')}`.trim(),
    ...fields,
  };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${prefix}-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${file}`);
  return file;
}
