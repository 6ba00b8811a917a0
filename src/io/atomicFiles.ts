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
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
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
