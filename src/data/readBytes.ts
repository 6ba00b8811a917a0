/**
 * Reading a data file as bytes, gunzipping when it is gzip. Node-only.
 */
import * as fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { openRegularFile, readCheckedFile } from '../io/checkedRead.js';
import { decodedPastLimit, decodeLimitBytes, type DecodeLimitOption } from '../io/limits.js';

const gunzipAsync = promisify(gunzip);

/** Options of {@link readBytes}. */
export interface ReadBytesOptions extends DecodeLimitOption {
  /**
   * The size the format's header declares for the whole (inflated) file: a gzip file is inflated
   * at most one byte past it, so a header that lies about a bomb costs no more than it declared.
   */
  declaredBytes?: number;
}

/**
 * The file's bytes; gzip is recognised by its magic bytes 1f 8b (not the extension, so a renamed file
 * still works — IDX files start with 00 00 and CIFAR labels are < 10, so neither can look like gzip).
 * Both the file and what it inflates to are held to the decode cap (io/limits.ts): zlib stops
 * inflating there (or just past `declaredBytes`), so a small gzip bomb costs at most the cap.
 * Errors name the file.
 */
export async function readBytes(file: string, opts: ReadBytesOptions = {}): Promise<Uint8Array> {
  const raw = await readCheckedFile(file, 'data file', opts.maxBytes);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    const cap = decodeLimitBytes(opts.maxBytes);
    const declared = opts.declaredBytes;
    const limit = declared !== undefined && declared < cap ? declared + 1 : cap;
    try {
      const inflated = await gunzipAsync(raw, { maxOutputLength: limit });
      return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        if (limit < cap) {
          throw new Error(
            `${file}: gzip data inflates past the ${declared} bytes its header declares (trailing data, or a header that lies)`,
          );
        }
        throw decodedPastLimit(`data file ${file}: gzip data inflates`, cap);
      }
      throw new Error(`${file}: gzip data is damaged or truncated (${(e as Error).message})`);
    }
  }
  return raw;
}

/**
 * The first `n` bytes the file holds (inflated when it is gzip; fewer when it is shorter), read and
 * inflated only that far — so a format's header can be checked against the decode cap before the
 * whole file is inflated.
 */
export async function readHead(file: string, n: number): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(file, 'data file');
  try {
    const first = new Uint8Array(Math.min(n, size));
    await handle.read(first, 0, first.length, 0);
    if (!(first[0] === 0x1f && first[1] === 0x8b)) return first;
    const chunks: Buffer[] = [];
    let have = 0;
    const stream = handle.createReadStream({ start: 0, autoClose: false }).pipe(createGunzip());
    try {
      for await (const chunk of stream) {
        chunks.push(chunk as Buffer);
        have += (chunk as Buffer).length;
        if (have >= n) break;
      }
    } catch (e) {
      throw new Error(`${file}: gzip data is damaged or truncated (${(e as Error).message})`);
    } finally {
      stream.destroy();
    }
    return new Uint8Array(Buffer.concat(chunks).subarray(0, n));
  } finally {
    await handle.close();
  }
}

/**
 * The first of `candidates` that exists (as anything: a FIFO or folder there is then refused by the
 * read, naming what it is, rather than reported missing), or null.
 */
export async function firstExisting(candidates: readonly string[]): Promise<string | null> {
  for (const c of candidates) {
    try {
      await fs.stat(c);
      return c;
    } catch {
      // Not there: try the next one.
    }
  }
  return null;
}
