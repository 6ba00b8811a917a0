/**
 * The folder a run writes (see trainModel.ts for what each file holds), and the guards that keep a
 * new run from mixing with an old one or with a run writing there right now.
 *
 * The lock: OUT/doconv.lock, created with open(…, 'wx') (fails if it exists, atomically), holds
 * {pid, hostname, started, token}. It is removed when the run ends however it ends (errors and a
 * first Ctrl-C end the run through trainModel; process.exit through an exit hook). A lock whose
 * process is gone (a killed run) is stale: the next run takes it over and says so.
 */
import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasCheckpoint } from './checkpoint.js';
import { METRICS_FILE } from './metrics.js';
import { checkOutputPath, type NamedPath } from '../io/outputPaths.js';
import { OptionError } from '../util/optionError.js';
import { CURVES_FILE } from './trainingCurves.js';

export const CHECKPOINT_DIR = 'checkpoint';
export const FOLDED_DIR = 'folded';
export const SUMMARY_FILE = 'summary.json';
export const LOCK_FILE = 'doconv.lock';

/** The paths of a run's files in `out`. */
export interface RunFolder {
  out: string;
  checkpoint: string;
  metrics: string;
  folded: string;
  lock: string;
}

export function runFolder(out: string): RunFolder {
  return {
    out,
    checkpoint: path.join(out, CHECKPOINT_DIR),
    metrics: path.join(out, METRICS_FILE),
    folded: path.join(out, FOLDED_DIR),
    lock: path.join(out, LOCK_FILE),
  };
}

/** The files a run writes into `out`; a folder holding any of them holds a run. */
const RUN_FILES = [METRICS_FILE, CHECKPOINT_DIR, FOLDED_DIR, SUMMARY_FILE, CURVES_FILE];

/** Removes the lock a run holds; call once when the run ends. */
export type ReleaseLock = () => Promise<void>;

/**
 * Makes `out` and locks it for this run; a run already there must be resumed or (with `overwrite`)
 * is removed first. A resume needs a checkpoint when the folder holds a run: without one (deleted)
 * it is refused rather than restarted from epoch 1 over the old metrics. Returns the lock's release.
 */
export async function prepareRunFolder(
  folder: RunFolder,
  opts: { resume?: boolean; overwrite?: boolean },
  log: (message: string) => void = () => {},
  inputs: readonly NamedPath[] = [],
): Promise<ReleaseLock> {
  const { out } = folder;
  // Never `/` or the home folder, nor an input of the run (its data, its model file).
  await checkOutputPath('out', out, inputs);
  const created = await makeFolder(out);
  const unlock = await lockRunFolder(folder, log);
  // A run that fails before writing anything leaves no empty folder behind.
  const release = async () => {
    await unlock();
    if (created) await fs.rmdir(out).catch(() => {});
  };
  try {
    const present: string[] = [];
    for (const name of RUN_FILES) {
      if (await exists(path.join(out, name))) present.push(name);
    }
    if (present.length > 0 && !opts.resume) {
      if (!opts.overwrite) {
        throw new OptionError(
          ['out', 'resume', 'overwrite'],
          (n) =>
            `${n('out')} ${JSON.stringify(out)} already holds a run (${present.join(', ')}); resume it (${n('resume', 'true')}) or replace it (${n('overwrite', 'true')})`,
        );
      }
      await Promise.all(
        present.map((name) => fs.rm(path.join(out, name), { recursive: true, force: true })),
      );
    }
    if (opts.resume && present.length > 0 && !(await hasCheckpoint(folder.checkpoint))) {
      throw new OptionError(
        'overwrite',
        (n) =>
          `cannot resume ${JSON.stringify(out)}: it holds a run (${present.join(', ')}) but no checkpoint (${folder.checkpoint} is missing); replace the run with ${n('overwrite', 'true')}`,
      );
    }
  } catch (e) {
    await release();
    throw e;
  }
  return release;
}

/** mkdir -p `out`, with an error naming it when it (or a parent) is a file; true if it was new. */
async function makeFolder(out: string): Promise<boolean> {
  if (out.trim() === '') throw new Error('out must be a folder path, got ""');
  const stat = await fs.stat(out).catch(() => null);
  if (stat !== null && !stat.isDirectory()) {
    throw new Error(`out ${JSON.stringify(out)} is a file, not a folder`);
  }
  if (stat !== null) return false;
  try {
    await fs.mkdir(out, { recursive: true });
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a part of the path is a file'
        : (e as Error).message;
    throw new Error(`cannot make out folder ${JSON.stringify(out)}: ${why}`);
  }
}

/** What the lock file holds. */
interface LockRecord {
  pid: number;
  hostname: string;
  started: string;
  token: string;
}

/** The lock files this process holds, with their tokens (for the exit hook). */
const held = new Map<string, string>();

function removeHeldLocksSync(): void {
  for (const [file, token] of held) {
    try {
      if (readLockSync(file)?.token === token) fsSync.unlinkSync(file);
    } catch {
      // exiting: nothing more to do
    }
  }
  held.clear();
}

/** Takes `folder`'s lock, or throws naming the run that holds it. */
export async function lockRunFolder(
  folder: RunFolder,
  log: (message: string) => void = () => {},
): Promise<ReleaseLock> {
  const file = folder.lock;
  const record: LockRecord = {
    pid: process.pid,
    hostname: os.hostname(),
    started: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  await createLockFile(file, record, log);
  if (held.size === 0) process.on('exit', removeHeldLocksSync);
  held.set(file, record.token);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.delete(file);
    if (held.size === 0) process.off('exit', removeHeldLocksSync);
    if (readLockSync(file)?.token === record.token) await fs.rm(file, { force: true });
  };
}

/** Creates the lock file with open(…, 'wx'), taking over a stale one once. */
async function createLockFile(
  file: string,
  record: LockRecord,
  log: (message: string) => void,
): Promise<void> {
  // Two tries: the second after taking over a stale lock (another run may win that race).
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(file, 'wx');
      try {
        await handle.writeFile(JSON.stringify(record) + '\n');
      } catch (e) {
        await handle.close();
        await fs.rm(file, { force: true });
        throw e;
      }
      await handle.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (attempt > 0) throw inUse(file, readLockSync(file));
    }
    const other = readLockSync(file);
    if (other === null || isAlive(other)) throw inUse(file, other);
    // Moved aside (atomic) rather than deleted, and checked: if another run took it over first, the
    // file moved is its fresh lock, which goes back.
    const aside = `${file}.stale-${record.token}`;
    if (
      !(await fs.rename(file, aside).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const moved = readLockSync(aside);
    if (moved?.token !== other.token) {
      await fs.rename(aside, file).catch(() => {});
      throw inUse(file, moved);
    }
    await fs.rm(aside, { force: true });
    log(
      `taking over the stale lock ${file} of a run that is gone (pid ${other.pid}, started ${other.started})`,
    );
  }
}

function inUse(file: string, other: LockRecord | null): Error {
  const who =
    other !== null
      ? `pid ${other.pid} on ${other.hostname}, started ${other.started}`
      : 'its lock file cannot be read';
  return new OptionError(
    'out',
    (n) =>
      `${n('out')} ${JSON.stringify(path.dirname(file))} is in use by another doconv run (${who}); wait for it to finish, or use another ${n('out')}. If no run is using it, remove ${file}`,
  );
}

/** The lock file's record; null when it is unreadable or not a lock record. */
function readLockSync(file: string): LockRecord | null {
  try {
    const r = JSON.parse(fsSync.readFileSync(file, 'utf8')) as Partial<LockRecord>;
    if (typeof r.pid !== 'number' || typeof r.token !== 'string') return null;
    return {
      pid: r.pid,
      hostname: String(r.hostname),
      started: String(r.started),
      token: r.token,
    };
  } catch {
    return null;
  }
}

/** Whether the run that wrote `r` may still be running (another machine's: assume it is). */
function isAlive(r: LockRecord): boolean {
  if (r.hostname !== os.hostname()) return true;
  // This process: a run in this thread or in a worker thread (compare --jobs), so never stale.
  if (r.pid === process.pid) return true;
  try {
    process.kill(r.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
