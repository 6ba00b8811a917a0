/**
 * Replace a set of files in one directory so that a failure never leaves a half-written file behind.
 * Node-only (exported from `doconv/node`).
 *
 * Why this order: every new file is written to a temp file beside its target and fsynced BEFORE any
 * target is touched, so a failure while writing (disk full, bad data, killed process) leaves the old files
 * as they were. Targets are then renamed into place in the given order — put the file that makes the set
 * "valid" (model.json) last, so it is the commit point. rename(2) within one directory is atomic on POSIX.
 * If a rename fails part-way, the targets already replaced are restored from hard-link backups.
 * What stays non-atomic: a crash between two renames can pair a new weights.bin with the old model.json;
 * loaders detect that through the manifest's byte count (see fileSystemIO.ts).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** One file to write: a base name inside the target directory and its content. */
export interface FileToWrite {
  /** Base name (no directory part), e.g. 'model.json'. */
  name: string;
  /** Content; several chunks are written one after another (avoids concatenating large weight shards). */
  data: string | Uint8Array | readonly Uint8Array[];
}

/**
 * Writes `files` into `dir` (created if missing) atomically per file, committing them in array order.
 * On any failure, every target keeps its previous content (or stays absent), no temp file is left, and a
 * directory this call created is removed again.
 */
export async function replaceFilesAtomically(
  dir: string,
  files: readonly FileToWrite[],
): Promise<void> {
  for (const f of files) {
    if (f.name === '' || f.name !== path.basename(f.name) || f.name === '.' || f.name === '..') {
      throw new Error(
        `replaceFilesAtomically: file name must be a plain base name, got ${JSON.stringify(f.name)}`,
      );
    }
  }
  // mkdir returns the first directory it had to create (undefined when dir existed): that is what we remove
  // on failure, so a failed save into a new folder leaves no empty folders behind.
  let createdRoot: string | undefined;
  try {
    createdRoot = await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create directory ${dir}: ${(e as Error).message}`);
  }
  // Temp files and backups a killed earlier write left beside these targets (never a live one's).
  await removeStale(
    dir,
    files.map((f) => f.name),
    (entry, name) =>
      new RegExp(`^\\.${escapeRegExp(name)}\\.(\\d+)-[0-9a-f]+\\.(tmp|bak)$`).exec(entry),
  );
  const tag = writerTag();
  const tempOf = (name: string) => path.join(dir, `.${name}.${tag}.tmp`);
  const backupOf = (name: string) => path.join(dir, `.${name}.${tag}.bak`);
  const written: string[] = [];
  const backups: string[] = [];
  const committed: Array<{ target: string; backup: string | null }> = [];
  try {
    for (const f of files) {
      const temp = tempOf(f.name);
      written.push(temp);
      await writeAndSync(temp, f.data);
    }
    for (const f of files) {
      const target = path.join(dir, f.name);
      const backup = (await keepBackup(target, backupOf(f.name))) ? backupOf(f.name) : null;
      if (backup) backups.push(backup);
      await fs.rename(tempOf(f.name), target);
      committed.push({ target, backup });
    }
  } catch (e) {
    await rollBack(committed);
    await Promise.all([...written, ...backups].map((p) => fs.rm(p, { force: true })));
    if (createdRoot !== undefined) await fs.rm(createdRoot, { recursive: true, force: true });
    throw e;
  }
  await Promise.all(backups.map((p) => fs.rm(p, { force: true })));
  await syncDirectory(dir);
}

async function writeAndSync(file: string, data: FileToWrite['data']): Promise<void> {
  // 'wx': the temp name is unique, so finding it already there means something is badly wrong.
  const handle = await fs.open(file, 'wx');
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await handle.writeFile(data);
    } else {
      for (const chunk of data) await handle.writeFile(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Hard-links an existing target to `backup` (the target itself stays in place). False when no target. */
async function keepBackup(target: string, backup: string): Promise<boolean> {
  try {
    await fs.link(target, backup);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    // Filesystems without hard links (some network/FUSE mounts): fall back to a copy. A directory in the
    // target's place gives EPERM/EISDIR here; let the rename report that, there is nothing to back up.
    if (code === 'EPERM' || code === 'EISDIR' || code === 'ENOTSUP' || code === 'EXDEV') {
      try {
        const st = await fs.stat(target);
        if (!st.isFile()) return false;
        await fs.copyFile(target, backup, fsConstants.COPYFILE_EXCL);
        return true;
      } catch {
        return false;
      }
    }
    throw e;
  }
}

async function rollBack(
  committed: ReadonlyArray<{ target: string; backup: string | null }>,
): Promise<void> {
  // Newest first, so each target gets back exactly what it held before this call.
  for (const { target, backup } of [...committed].reverse()) {
    try {
      if (backup) await fs.rename(backup, target);
      else await fs.rm(target, { force: true });
    } catch {
      // Best effort: the original error is what the caller needs to see.
    }
  }
}

/** fsync the directory so the renames themselves survive a power loss (not supported everywhere). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the data files are already synced.
  } finally {
    await handle?.close();
  }
}

/**
 * Publishes a folder atomically: `write(temp)` fills a fresh temp folder beside `out`
 * (`.NAME.tmp-PID-HEX`), which is then renamed to `out`. A folder already at `out` is renamed
 * aside first (`.NAME.old-PID-HEX`) and removed once the new one is in place, or put back if the
 * rename fails: `out` is the old folder or the new one, never a mix. Temp folders of writers that
 * no longer run (killed mid-write) are removed first; an aside folder such a writer left while
 * `out` is missing is the last complete version, and is put back.
 */
export async function publishFolder(
  out: string,
  write: (temp: string) => Promise<void>,
): Promise<void> {
  const parent = path.dirname(out);
  const base = path.basename(out);
  await fs.mkdir(parent, { recursive: true });
  await recoverStaleFolders(out);
  const tag = writerTag();
  const temp = path.join(parent, `.${base}.tmp-${tag}`);
  const aside = path.join(parent, `.${base}.old-${tag}`);
  try {
    await fs.mkdir(temp);
    await write(temp);
  } catch (e) {
    await fs.rm(temp, { recursive: true, force: true });
    throw e;
  }
  const hadOld = await fs.lstat(out).then(
    () => true,
    () => false,
  );
  try {
    if (hadOld) await fs.rename(out, aside);
    try {
      await fs.rename(temp, out);
    } catch (e) {
      if (hadOld) await fs.rename(aside, out).catch(() => {});
      throw e;
    }
  } catch (e) {
    await fs.rm(temp, { recursive: true, force: true });
    throw e;
  }
  if (hadOld) await fs.rm(aside, { recursive: true, force: true });
  await syncDirectory(parent);
}

/** `.NAME.tmp-*` / `.NAME.old-*` folders of dead writers beside `out`: removed, or an old one restored. */
async function recoverStaleFolders(out: string): Promise<void> {
  const parent = path.dirname(out);
  const base = path.basename(out);
  const pattern = new RegExp(`^\\.${escapeRegExp(base)}\\.(tmp|old)-(\\d+)-[0-9a-f]+$`);
  const entries = await fs.readdir(parent).catch(() => [] as string[]);
  for (const entry of entries) {
    const m = pattern.exec(entry);
    if (!m || isAlive(Number(m[2]))) continue;
    const full = path.join(parent, entry);
    const outExists = await fs.lstat(out).then(
      () => true,
      () => false,
    );
    if (m[1] === 'old' && !outExists) await fs.rename(full, out).catch(() => {});
    else await fs.rm(full, { recursive: true, force: true });
  }
}

/** Removes `dir`'s entries that `match` ties to one of `names` and to a process no longer running. */
async function removeStale(
  dir: string,
  names: readonly string[],
  match: (entry: string, name: string) => RegExpExecArray | null,
): Promise<void> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((entry) =>
        names.some((name) => {
          const m = match(entry, name);
          return m !== null && !isAlive(Number(m[1]));
        }),
      )
      .map((entry) => fs.rm(path.join(dir, entry), { force: true })),
  );
}

/** A writer's unique tag: its pid (so a later run can tell a dead writer's leftovers) and 8 hex digits. */
function writerTag(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Whether process `pid` runs (signal 0 tests without sending; EPERM means it runs as another user). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
