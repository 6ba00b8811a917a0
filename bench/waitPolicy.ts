/**
 * A/B of the native engine's thread and waiting policies under load — `npx tsx bench/waitPolicy.ts`.
 * libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, when it is loaded with the addon, so each
 * policy runs in a process of its own: `bench/train.ts --load --rounds 1 --no-torch` with the
 * policy's environment (idle, then with the busy loops it starts and stops itself). Policies
 * alternate in order round by round; per policy the images/s idle and loaded, the kept fraction
 * (loaded ÷ idle) and the CPU time per step (a spinning wait burns CPU another process could use).
 *
 *   npx tsx bench/waitPolicy.ts [--policies spin,passive,…] [--nets resnet-20]
 *     [--variants doconv] [--rounds 1] [--windows 2] [--window-seconds 1] [--load-procs 1]
 *     [--child-seconds 150]  (a policy's process is stopped after that, its busy loops with it)
 *     [--out DIR]   (default results/; the per-policy runs go to a temporary folder)
 *
 * Writes <out>/wait-policy-<date>.json. Not a test: never asserts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeResult } from './resultFile.js';
import type { NetRow } from './roundsSummary.js';
import { summarize, windowOrder, type Summary } from './stats.js';

/**
 * Each policy: its environment, on top of the caller's (whose own settings of POLICY_KEYS are
 * removed first), and extra arguments for bench/train.ts. OMP_WAIT_POLICY=active is not here: it
 * only makes the spinning longer.
 */
export const POLICIES: Record<string, { env: Record<string, string>; args?: string[] }> = {
  // what doconv does unless told (nativeAddon.ts applyWaitPolicy), every core
  default: { env: {} },
  // libgomp's own default: spin 300 000 times before sleeping (set explicitly, as doconv would
  // otherwise choose passive), every core
  spin: { env: { GOMP_SPINCOUNT: '300000' } },
  // sleep at once when a thread waits (OMP_WAIT_POLICY=passive: GOMP_SPINCOUNT 0)
  passive: { env: { OMP_WAIT_POLICY: 'passive' } },
  // a short spin (~10 µs) before sleeping
  'spin-10k': { env: { GOMP_SPINCOUNT: '10000' } },
  // one oneDNN thread: no team to wait for
  'threads-1': { env: { DOCONV_NATIVE_THREADS: '1' } },
  'threads-1-passive': { env: { DOCONV_NATIVE_THREADS: '1', OMP_WAIT_POLICY: 'passive' } },
  // passive, and the threads follow the load average or the step times (bench/adaptiveThreads.ts)
  'adaptive-passive': { env: { OMP_WAIT_POLICY: 'passive' }, args: ['--adapt-threads', 'load'] },
  'adaptive-spin': { env: { GOMP_SPINCOUNT: '300000' }, args: ['--adapt-threads', 'load'] },
  'steps-passive': { env: { OMP_WAIT_POLICY: 'passive' }, args: ['--adapt-threads', 'steps'] },
};
const POLICY_KEYS = [
  'OMP_WAIT_POLICY',
  'GOMP_SPINCOUNT',
  'DOCONV_NATIVE_THREADS',
  'OMP_NUM_THREADS',
];

interface PolicyRun {
  policy: string;
  round: number;
  seconds: number;
  file: string | null;
  error?: string;
  rows: NetRow[];
}

function runPolicy(
  policy: string,
  round: number,
  childArgs: string[],
  tmp: string,
  childSeconds: number,
): PolicyRun {
  const env = { ...process.env };
  for (const k of POLICY_KEYS) delete env[k];
  Object.assign(env, POLICIES[policy].env);
  const args = [...childArgs, ...(POLICIES[policy].args ?? []), '--out', tmp];
  const t0 = performance.now();
  // One node process (tsx as a loader, no npx/sh between), so the timeout's SIGTERM reaches the
  // bench itself, which then kills its busy loops (bench/busyLoop.ts).
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/train.ts', ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: childSeconds * 1000,
    killSignal: 'SIGTERM',
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const line of r.stdout.split('\n')) if (line.startsWith('round ')) console.log(`  ${line}`);
  const file = /wrote (\S+\.json)/.exec(r.stdout)?.[1] ?? null;
  if (r.status !== 0 || file === null) {
    const error = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    return { policy, round, seconds, file, error, rows: [] };
  }
  const result = JSON.parse(readFileSync(file, 'utf8')) as { rows: NetRow[] };
  return { policy, round, seconds, file, rows: result.rows };
}

interface PolicyFigures {
  idleImagesPerSec: Summary;
  loadedImagesPerSec: Summary;
  /** loaded ÷ idle, per run */
  kept: Summary;
  idleCpuMsPerStep: Summary;
  loadedCpuMsPerStep: Summary;
}

/** Per policy and net/variant, the figures over the policy's runs (those with both conditions). */
export function policyFigures(runs: PolicyRun[]): Record<string, Record<string, PolicyFigures>> {
  const out: Record<string, Record<string, PolicyFigures>> = {};
  for (const policy of new Set(runs.map((r) => r.policy))) {
    const rows = runs.filter((r) => r.policy === policy).flatMap((r) => r.rows);
    const byKey: Record<string, PolicyFigures> = {};
    for (const key of new Set(rows.map((r) => `${r.net} ${r.variant}`))) {
      const of = (condition: string) =>
        rows.filter((r) => `${r.net} ${r.variant}` === key && r.condition === condition);
      const idle = of('idle');
      const loaded = of('loaded');
      if (idle.length === 0 || loaded.length !== idle.length) continue;
      byKey[key] = {
        idleImagesPerSec: summarize(idle.map((r) => r.imagesPerSec.median)),
        loadedImagesPerSec: summarize(loaded.map((r) => r.imagesPerSec.median)),
        kept: summarize(loaded.map((r, i) => r.imagesPerSec.median / idle[i].imagesPerSec.median)),
        idleCpuMsPerStep: summarize(idle.map((r) => r.cpuMsPerStep.median)),
        loadedCpuMsPerStep: summarize(loaded.map((r) => r.cpuMsPerStep.median)),
      };
    }
    out[policy] = byKey;
  }
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: {
      policies: {
        type: 'string',
        default: 'spin,passive,spin-10k,threads-1-passive,adaptive-passive',
      },
      nets: { type: 'string', default: 'resnet-20' },
      variants: { type: 'string', default: 'doconv' },
      rounds: { type: 'string', default: '1' },
      windows: { type: 'string', default: '2' },
      'window-seconds': { type: 'string', default: '1' },
      warmup: { type: 'string', default: '2' },
      'load-procs': { type: 'string', default: '1' },
      batch: { type: 'string' },
      out: { type: 'string', default: 'results' },
      'child-seconds': { type: 'string', default: '150' },
    },
  });
  const childSeconds = Number(values['child-seconds']);
  if (!(childSeconds > 0))
    throw new Error(`--child-seconds: positive, got ${values['child-seconds']}`);
  const policies = values.policies.split(',');
  for (const p of policies) {
    if (!(p in POLICIES)) {
      throw new Error(
        `--policies: unknown policy ${JSON.stringify(p)}; known ${Object.keys(POLICIES).join(', ')}`,
      );
    }
  }
  const rounds = Number(values.rounds);
  const childArgs = [
    '--load',
    '--rounds',
    '1',
    '--no-torch',
    '--nets',
    values.nets,
    '--variants',
    values.variants,
    '--windows',
    values.windows,
    '--window-seconds',
    values['window-seconds'],
    '--warmup',
    values.warmup,
    '--load-procs',
    values['load-procs'],
    ...(values.batch ? ['--batch', values.batch] : []),
  ];
  const tmp = mkdtempSync(join(os.tmpdir(), 'doconv-wait-policy-'));
  const runs: PolicyRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const policy of windowOrder(policies, round - 1)) {
      console.log(`round ${round}: ${policy} ${JSON.stringify(POLICIES[policy])}`);
      const run = runPolicy(policy, round, childArgs, tmp, childSeconds);
      if (run.error) console.log(`  ${policy}: FAILED (${run.error})`);
      runs.push(run);
    }
  }
  const figures = policyFigures(runs);
  const f = (s: Summary, d = 1) =>
    `${s.median.toFixed(d)} [${s.min.toFixed(d)}–${s.max.toFixed(d)}]`;
  for (const [policy, byKey] of Object.entries(figures)) {
    for (const [key, x] of Object.entries(byKey)) {
      console.log(
        `${policy.padEnd(18)} ${key}: idle ${f(x.idleImagesPerSec)} img/s, loaded ${f(x.loadedImagesPerSec)}, kept ${f(x.kept, 2)}; CPU ms/step idle ${f(x.idleCpuMsPerStep, 0)}, loaded ${f(x.loadedCpuMsPerStep, 0)}`,
      );
    }
  }
  writeResult(
    'wait-policy',
    'bench/waitPolicy.ts',
    {
      load1m: os.loadavg(),
      policies: Object.fromEntries(policies.map((p) => [p, POLICIES[p]])),
      childArgs,
      figures,
      runs: runs.map(({ rows, ...rest }) => ({ ...rest, rows: rows.length })),
    },
    values.out,
  );
}

await main();
