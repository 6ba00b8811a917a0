/**
 * Reading a whole file doconv will decode, with the checks every reader needs first. Node-only.
 *
 * Why: `fs.readFile` on a FIFO blocks forever, on /dev/zero grows until memory runs out, and on a
 * 5 GB file allocates 5 GB before any parser can object. So the file is opened once, checked
 * through that handle to be a regular file within the decode cap (limits.ts), and read to its
 * measured size. Errors name `what` and the file.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { checkDecodedSize } from './limits.js';

/**
 * Opens `file` for reading without blocking (a FIFO would otherwise block the open itself) and
 * checks through the handle that it is a regular file; the caller closes the handle.
 */
export async function openRegularFile(
  file: string,
  what: string,
): Promise<{ handle: fsp.FileHandle; size: number }> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${describeFsError(e)}`);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new Error(`cannot read ${what} ${file}: it is ${fileKind(stat)}`);
  }
  return { handle, size: stat.size };
}

/** The bytes of `file` (a regular file of at most the decode cap); `what` names it in errors. */
export async function readCheckedFile(
  file: string,
  what: string,
  maxBytes?: number,
): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(file, what);
  try {
    checkDecodedSize(`${what} ${file}`, size, 'its size', maxBytes);
    const out = new Uint8Array(size);
    let at = 0;
    while (at < out.length) {
      const { bytesRead } = await handle.read(out, at, out.length - at, at);
      if (bytesRead === 0) throw new Error(`${what} ${file} shrank while it was read`);
      at += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** `readCheckedFile` for synchronous readers. */
export function readCheckedFileSync(file: string, what: string, maxBytes?: number): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${describeFsError(e)}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`cannot read ${what} ${file}: it is ${fileKind(stat)}`);
    checkDecodedSize(`${what} ${file}`, stat.size, 'its size', maxBytes);
    const out = new Uint8Array(stat.size);
    let at = 0;
    while (at < out.length) {
      const n = fs.readSync(fd, out, at, out.length - at, at);
      if (n === 0) throw new Error(`${what} ${file} shrank while it was read`);
      at += n;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** What a non-regular file is, for messages ("a directory", "a FIFO", ...). */
export function fileKind(stat: fs.Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory, not a regular file';
  if (stat.isFIFO()) return 'a FIFO (named pipe), not a regular file';
  if (stat.isCharacterDevice()) return 'a character device, not a regular file';
  if (stat.isBlockDevice()) return 'a block device, not a regular file';
  if (stat.isSocket()) return 'a socket, not a regular file';
  return 'not a regular file';
}

/** A Node fs error as a short phrase ("no such file", else its message). */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'ELOOP') return 'too many levels of symlinks';
  return (e as Error).message;
}
