/**
 * The pool of runs behind compareConvs, whatever the task: every seed trained with conv and with doconv, each run in a folder of
 * its own, reused when it finished with the same settings and resumed when it was interrupted, so a
 * long comparison can be restarted. Node-only.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { nativeThreadsFor } from '../engine/native/nativeAddon.js';
import { hasCheckpoint } from './checkpoint.js';
import type { EngineRecord } from './environment.js';
import { METRICS_FILE, readMetrics } from './metrics.js';
import { CHECKPOINT_DIR, SUMMARY_FILE } from './runFolder.js';
import { OptionError } from '../util/optionError.js';

export const COMPARED_CONVS = ['conv', 'doconv'] as const;
export type Side = (typeof COMPARED_CONVS)[number];

/** One value per side, each made afresh. */
export function bySide<T>(make: () => T): Record<Side, T> {
  return { conv: make(), doconv: make() };
}

/** Options of a comparison beyond its recipe; S is a run's summary. */
export interface ComparisonOptions<S> {
  /** Seeds 1..runs. */
  runs?: number;
  /** Explicit seeds instead of 1..runs. */
  seeds?: number[];
  /** Output folder for NAME.json/.md/.svg (default: no files). */
  out?: string;
  /** Folder for the per-run training folders. Default OUT/runs (runs are not saved without either). */
  runsDir?: string;
  /** Base name of the JSON/MD/SVG files. */
  name?: string;
  /** The command line to record in the JSON. */
  command?: string;
  /** Called after each run with its summary (in completion order when jobs > 1). */
  onRunEnd?: (summary: S, reused: boolean) => void | Promise<void>;
  /** Runs trained side by side, each in a worker thread of its own; default 1. */
  jobs?: number;
}

/** The keys of ComparisonOptions: what is left of a comparison's options without them is the recipe. */
export const COMPARISON_KEYS = [
  'runs',
  'seeds',
  'out',
  'runsDir',
  'name',
  'command',
  'onRunEnd',
  'jobs',
] as const satisfies readonly (keyof ComparisonOptions<unknown>)[];

/** The per-run folders' parent: runsDir, else OUT/runs, else none (runs are not saved). */
export function runsFolder(opts: Pick<ComparisonOptions<unknown>, 'out' | 'runsDir'>) {
  return opts.runsDir ?? (opts.out !== undefined ? path.join(opts.out, 'runs') : undefined);
}

/** Where and how one run of the pool trains; `out` is its folder (none without a runs folder). */
export interface PoolRun {
  conv: Side;
  seed: number;
  out: string | undefined;
  resume: boolean;
  overwrite: boolean;
}

/** How the pool runs; C is the recipe recorded in a summary, S the summary, M a metrics line. */
export interface PoolPlan<C, S, M> {
  seeds: number[];
  /** Runs at once. */
  jobs: number;
  runsDir: string | undefined;
  /** The recipe of one run. */
  resolve(conv: Side, seed: number): C;
  /** The settings a finished run's recipe differs in from `want` (any refuses to reuse it). */
  differences(recorded: C, want: C): string[];
  /** Trains one run, here or in a worker thread. */
  train(run: PoolRun): Promise<{ summary: S; history: M[] }>;
  onRunEnd?: (summary: S, reused: boolean) => void | Promise<void>;
}

/** One run of the pool, and whether it was a finished one reused. */
export interface PooledRun<S, M> {
  conv: Side;
  summary: S;
  history: M[];
  reused: boolean;
}

/**
 * The line saying how side-by-side runs share the native engine's threads (the main thread's
 * engine line gives the count for one run), or null when there is nothing to say.
 */
export function jobsThreadsNote(engine: EngineRecord, jobs: number): string | null {
  if (jobs < 2 || engine.engine !== 'native') return null;
  const n = nativeThreadsFor(jobs);
  return `doconv: ${jobs} runs side by side, ${n} oneDNN thread${n > 1 ? 's' : ''} each`;
}

/** Every seed with conv and with doconv, in that order (whatever order they finish in). */
export function runPool<C, S extends { config: C }, M>(
  plan: PoolPlan<C, S, M>,
): Promise<PooledRun<S, M>[]> {
  const tasks = plan.seeds.flatMap((seed) => COMPARED_CONVS.map((conv) => ({ seed, conv })));
  return inPool(tasks, plan.jobs, async ({ seed, conv }) => {
    const r = await runOne(plan, conv, seed);
    await plan.onRunEnd?.(r.summary, r.reused);
    return { conv, ...r };
  });
}

/** One run: reused when finished with these settings, else trained (or resumed). */
async function runOne<C, S extends { config: C }, M>(
  plan: PoolPlan<C, S, M>,
  conv: Side,
  seed: number,
): Promise<Omit<PooledRun<S, M>, 'conv'>> {
  const out =
    plan.runsDir !== undefined ? path.join(plan.runsDir, `${conv}-seed${seed}`) : undefined;
  const want = plan.resolve(conv, seed);
  const finished = out ? await reusableSummary<C, S>(out, want, plan) : null;
  if (finished !== null) {
    return {
      summary: finished,
      history: await readMetrics<M>(path.join(out!, METRICS_FILE)),
      reused: true,
    };
  }
  // An interrupted run resumes from its checkpoint; a folder without one holds nothing to keep.
  const resume = out !== undefined && (await hasCheckpoint(path.join(out, CHECKPOINT_DIR)));
  const run = await plan.train({ conv, seed, out, resume, overwrite: !resume });
  return { ...run, reused: false };
}

/** The summary of a finished run in `dir` with the settings `want`, or null (then it is trained/resumed). */
async function reusableSummary<C, S extends { config: C }>(
  dir: string,
  want: C,
  { differences }: Pick<PoolPlan<C, S, unknown>, 'differences'>,
): Promise<S | null> {
  let summary: S;
  try {
    summary = JSON.parse(await fs.readFile(path.join(dir, SUMMARY_FILE), 'utf8')) as S;
  } catch {
    return null;
  }
  const differ = differences(summary.config, want);
  if (differ.length > 0) {
    throw new OptionError(
      'out',
      (n) =>
        `${path.join(dir, SUMMARY_FILE)} is a finished run with other settings (${differ.join(', ')}); use another ${n('out')}`,
    );
  }
  return summary;
}

/**
 * `fn` over `items` with at most `limit` running at once; results in `items` order. The first
 * failure rejects once the runs in flight have settled (none is left running unawaited).
 */
async function inPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown = null;
  const lane = async () => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== null) throw failure;
  return results;
}
