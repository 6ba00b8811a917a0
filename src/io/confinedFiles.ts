/**
 * The one rule for paths that come from inside a file — a model.json's weight paths, a COCO
 * `file_name`, a label mask named after it. Node-only.
 *
 * Such a path is data written by whoever made the file, not a path the user chose. It must be a
 * relative path that stays inside its folder, both as written (`../x`, `/etc/passwd`, `C:\x` are
 * refused) and once symlinks are resolved (a link inside the folder pointing out of it is refused),
 * and it must be a regular file (a folder, FIFO or device such as /dev/zero would block or never
 * end). Every refusal names the file that listed the path, what it was, the path as written and why.
 *
 * What stays open: the folder is resolved once and the file opened by its resolved path, so a
 * symlink swapped in between by someone with write access to the folder can still redirect the
 * read; that attacker could replace the file itself anyway.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { describeFsError, fileKind, readCheckedFileSync } from './checkedRead.js';

/**
 * Who listed a path and as what, for messages: `${from} lists ${what} "name": why` when the rule
 * refuses it, `cannot read ${what} file (listed in ${from}): why` when the file system does.
 */
export interface PathSource {
  /** The file the path was read from (a model.json, a COCO JSON). */
  from: string;
  /** What the path names, e.g. 'weights file', 'image'. */
  what: string;
}

/** A path from a file broke the rule; the message names the listing file, the path and why. */
export class ConfinedPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfinedPathError';
  }
}

const refusal = (source: PathSource, name: unknown, why: string) =>
  new ConfinedPathError(`${source.from} lists ${source.what} ${JSON.stringify(name)}: ${why}`);

const unreadable = (source: PathSource, file: string, why: string) =>
  new ConfinedPathError(`cannot read ${source.what} ${file} (listed in ${source.from}): ${why}`);

/**
 * The lexical half of the rule: `name` is a non-empty relative path staying inside `dir`. Returns
 * `dir`/`name` resolved (symlinks not followed: see `resolveConfinedFile`).
 */
export function confinedPath(dir: string, name: unknown, source: PathSource): string {
  if (typeof name !== 'string' || name === '')
    throw refusal(source, name, 'not a non-empty string');
  if (name.includes('\0') || path.isAbsolute(name) || /^[a-zA-Z]:|^[\\/]/.test(name)) {
    throw refusal(
      source,
      name,
      `absolute paths are not allowed; paths are relative to ${path.dirname(source.from)}`,
    );
  }
  const resolved = path.resolve(dir, name);
  if (!isInside(path.resolve(dir), resolved)) {
    throw refusal(source, name, `it leaves its folder ${dir}`);
  }
  return resolved;
}

/** A file that passed the whole rule: its resolved path and size. */
export interface ConfinedFile {
  /** The real path (symlinks resolved): the path to open. */
  file: string;
  size: number;
}

/**
 * The whole rule: `confinedPath`, then symlinks resolved (the real path must be inside the real
 * `dir`), then a regular file. Does not read the file.
 */
export async function resolveConfinedFile(
  dir: string,
  name: unknown,
  source: PathSource,
): Promise<ConfinedFile> {
  const lexical = confinedPath(dir, name, source);
  let real: string;
  let realDir: string;
  let stat: fs.Stats;
  try {
    realDir = await fsp.realpath(dir);
    real = await fsp.realpath(lexical);
    stat = await fsp.stat(real);
  } catch (e) {
    throw unreadable(source, lexical, describeFsError(e));
  }
  return checkResolved(source, name, lexical, realDir, real, stat);
}

/** `resolveConfinedFile` for synchronous readers. */
export function resolveConfinedFileSync(
  dir: string,
  name: unknown,
  source: PathSource,
): ConfinedFile {
  const lexical = confinedPath(dir, name, source);
  let real: string;
  let realDir: string;
  let stat: fs.Stats;
  try {
    realDir = fs.realpathSync(dir);
    real = fs.realpathSync(lexical);
    stat = fs.statSync(real);
  } catch (e) {
    throw unreadable(source, lexical, describeFsError(e));
  }
  return checkResolved(source, name, lexical, realDir, real, stat);
}

/**
 * Reads a file that passed the rule (see checkedRead.ts: a regular file within the decode cap).
 */
export function readConfinedFileSync(
  dir: string,
  name: unknown,
  source: PathSource,
  maxBytes?: number,
): Uint8Array {
  const { file } = resolveConfinedFileSync(dir, name, source);
  return readCheckedFileSync(file, `${source.what} (listed in ${source.from})`, maxBytes);
}

function checkResolved(
  source: PathSource,
  name: unknown,
  lexical: string,
  realDir: string,
  real: string,
  stat: fs.Stats,
): ConfinedFile {
  if (!isInside(realDir, real)) {
    throw refusal(
      source,
      name,
      `${lexical} resolves to ${real} (through a symlink), outside the folder ${realDir}`,
    );
  }
  if (!stat.isFile()) throw unreadable(source, lexical, `it is ${fileKind(stat)}`);
  return { file: real, size: stat.size };
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
