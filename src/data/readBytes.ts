/**
 * Reading a data file as bytes, gunzipping when it is gzip. Node-only.
 */
import * as fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/**
 * The file's bytes; gzip is recognised by its magic bytes 1f 8b (not the extension, so a renamed file
 * still works — IDX files start with 00 00 and CIFAR labels are < 10, so neither can look like gzip).
 * Errors name the file.
 */
export async function readBytes(file: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return new Uint8Array(await gunzipAsync(raw));
    } catch (e) {
      throw new Error(`${file}: gzip data is damaged or truncated (${(e as Error).message})`);
    }
  }
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** The first of `candidates` that exists as a file, or null. */
export async function firstExisting(candidates: readonly string[]): Promise<string | null> {
  for (const c of candidates) {
    try {
      if ((await fs.stat(c)).isFile()) return c;
    } catch {
      // Not there: try the next one.
    }
  }
  return null;
}
