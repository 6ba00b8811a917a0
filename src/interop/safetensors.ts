import * as tf from '@tensorflow/tfjs';
import { byteInput, byteView, copyBytes, describe } from '../io/bytes.js';

/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {...}}, then the raw data.
 * TF.js holds float32, int32 and bool, so F64/F16/BF16 become float32 and I64/I32/I16/I8/U8 become
 * int32 (an I64 value outside the int32 range is an error, never silently wrapped).
 */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** A header larger than this is refused before it is decoded (real headers are kilobytes). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Parses a safetensors file into tensors (the caller owns them). Throws naming the file and tensor on
 * bad input, before any tensor is allocated. The result has no prototype, so a tensor may be named
 * `__proto__` or `constructor`. Values are returned as stored, NaN and ±Infinity included: loaders
 * that write them into a model decide (loadPytorchStateDict refuses them).
 */
export function readSafetensors(
  input: Uint8Array | ArrayBuffer,
  fileName = 'safetensors',
): Record<string, tf.Tensor> {
  const entries = parseHeader(byteInput(input, fileName), fileName);
  // Decode everything first: a bad tensor late in the file leaves nothing allocated.
  const decoded = entries.map(({ name, entry, data }) => ({
    name,
    shape: entry.shape,
    ...decode(name, entry, data, fileName),
  }));
  const out: Record<string, tf.Tensor> = Object.create(null);
  for (const { name, shape, values, dtype } of decoded) out[name] = tf.tensor(values, shape, dtype);
  return out;
}

/** The header alone (names, dtypes, shapes), e.g. to report keys before loading. */
export function readSafetensorsHeader(
  input: Uint8Array | ArrayBuffer,
  fileName = 'safetensors',
): Record<string, { dtype: string; shape: number[] }> {
  const out: Record<string, { dtype: string; shape: number[] }> = Object.create(null);
  for (const { name, entry } of parseHeader(byteInput(input, fileName), fileName))
    out[name] = { dtype: entry.dtype, shape: entry.shape };
  return out;
}

function parseHeader(bytes: Uint8Array, fileName: string) {
  if (bytes.byteLength < 8)
    throw new Error(`${fileName}: ${bytes.byteLength} bytes is too short for a safetensors header`);
  const headerLength = Number(byteView(bytes).getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) {
    throw new Error(
      `${fileName}: header length ${headerLength} exceeds the file (${bytes.byteLength} bytes): truncated?`,
    );
  }
  if (headerLength > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new Error(
      `${fileName}: header length ${headerLength} is over the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (e) {
    throw new Error(`${fileName}: header is not valid JSON in UTF-8 (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(
      `${fileName}: header must be a JSON object of tensors, got ${describe(header)}`,
    );
  }
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  const duplicate = firstDuplicateKey(headerText);
  if (duplicate !== null) {
    throw new Error(
      `${fileName}: header names ${JSON.stringify(duplicate)} twice (JSON.parse would silently keep the last)`,
    );
  }
  checkMetadata((header as Record<string, unknown>).__metadata__, fileName);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const entries: { name: string; entry: HeaderEntry; data: Uint8Array }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new Error(
        `${fileName}: tensor '${name}' must be described by an object {dtype, shape, data_offsets}, got ${describe(raw)}`,
      );
    }
    const entry = raw as HeaderEntry;
    if (typeof entry.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, entry.dtype)) {
      throw new Error(
        `${fileName}: tensor '${name}' has unknown dtype ${JSON.stringify(entry.dtype)}`,
      );
    }
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(
        `${fileName}: tensor '${name}' has invalid shape ${JSON.stringify(entry.shape)}`,
      );
    }
    const [begin, end] = (Array.isArray(entry.data_offsets) ? entry.data_offsets : []) as number[];
    const expected = entry.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[entry.dtype];
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(end) ||
      begin < 0 ||
      end < begin ||
      end > dataLength
    ) {
      throw new Error(
        `${fileName}: tensor '${name}' data_offsets ${JSON.stringify(entry.data_offsets)} lie outside the ` +
          `${dataLength} data bytes: truncated or corrupt`,
      );
    }
    if (end - begin !== expected) {
      throw new Error(
        `${fileName}: tensor '${name}' (${entry.dtype} ${JSON.stringify(entry.shape)}) needs ${expected} bytes ` +
          `but its data_offsets span ${end - begin}`,
      );
    }
    entries.push({ name, entry, data: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  checkContiguous(entries, dataLength, fileName);
  return entries;
}

/**
 * The format's own rule (the reference implementation's `validate`): the tensors' byte ranges,
 * in offset order, tile the data section exactly — from 0, each starting where the previous
 * ended (no overlap, no gap), the last ending at the end of the file (no trailing bytes).
 */
function checkContiguous(
  entries: ReadonlyArray<{ name: string; entry: HeaderEntry }>,
  dataLength: number,
  fileName: string,
): void {
  const sorted = [...entries].sort(
    (a, b) =>
      a.entry.data_offsets[0] - b.entry.data_offsets[0] ||
      a.entry.data_offsets[1] - b.entry.data_offsets[1],
  );
  let at = 0;
  let previous = 'the start of the data';
  for (const { name, entry } of sorted) {
    const [begin, end] = entry.data_offsets;
    if (begin !== at) {
      throw new Error(
        `${fileName}: tensor '${name}' data_offsets [${begin}, ${end}] ${begin < at ? 'overlap' : 'leave a gap after'} ` +
          `${previous} (which ends at ${at}); tensors must be stored back to back`,
      );
    }
    at = end;
    previous = `tensor '${name}'`;
  }
  if (at !== dataLength) {
    throw new Error(
      `${fileName}: ${dataLength - at} trailing bytes after ${previous} (the data section is ${dataLength} bytes, the tensors end at ${at})`,
    );
  }
}

/** `__metadata__`, when present, is a string → string map (the format allows nothing else). */
function checkMetadata(metadata: unknown, fileName: string): void {
  if (metadata === undefined) return;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new Error(
      `${fileName}: __metadata__ must be an object of strings, got ${describe(metadata)}`,
    );
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new Error(
        `${fileName}: __metadata__ ${JSON.stringify(key)} must be a string, got ${describe(value)}`,
      );
    }
  }
}

/**
 * The first key that occurs twice in one object of the JSON `text`, or null. JSON.parse keeps the
 * last of duplicate keys silently; the format forbids them. A scan of the (already valid) JSON:
 * strings are skipped whole, and a string followed by ':' is a key of the innermost open object.
 */
function firstDuplicateKey(text: string): string | null {
  const objects: Array<Set<string> | null> = []; // null for an array
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') objects.push(new Set());
    else if (c === '[') objects.push(null);
    else if (c === '}' || c === ']') objects.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k])) k++;
      const keys = objects[objects.length - 1];
      if (text[k] === ':' && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = j;
    }
  }
  return null;
}

function decode(name: string, entry: HeaderEntry, data: Uint8Array, fileName: string) {
  // An aligned copy of exactly these bytes (the input may be a Buffer, whose slice() is a view).
  const copy = copyBytes(data);
  const view = new DataView(copy.buffer);
  const n = copy.byteLength / DTYPE_BYTES[entry.dtype];
  switch (entry.dtype) {
    case 'F32':
      return { values: new Float32Array(copy.buffer), dtype: 'float32' as const };
    case 'F64':
      return {
        values: Float32Array.from(new Float64Array(copy.buffer)),
        dtype: 'float32' as const,
      };
    case 'F16':
      return {
        values: Float32Array.from({ length: n }, (_, i) =>
          halfToFloat(view.getUint16(2 * i, true)),
        ),
        dtype: 'float32' as const,
      };
    case 'BF16':
      return {
        values: Float32Array.from({ length: n }, (_, i) =>
          bf16ToFloat(view.getUint16(2 * i, true)),
        ),
        dtype: 'float32' as const,
      };
    case 'I64': {
      const values = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new Error(
            `${fileName}: tensor '${name}' (I64) holds ${v}, outside the int32 range TF.js supports`,
          );
        }
        values[i] = Number(v);
      }
      return { values, dtype: 'int32' as const };
    }
    case 'I32':
      return { values: new Int32Array(copy.buffer), dtype: 'int32' as const };
    case 'I16':
      return { values: Int32Array.from(new Int16Array(copy.buffer)), dtype: 'int32' as const };
    case 'I8':
      return { values: Int32Array.from(new Int8Array(copy.buffer)), dtype: 'int32' as const };
    case 'U8':
      return { values: Int32Array.from(copy), dtype: 'int32' as const };
    default: // BOOL
      return { values: Uint8Array.from(copy, (b) => (b ? 1 : 0)), dtype: 'bool' as const };
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function bf16ToFloat(b: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, b << 16, false);
  return view.getFloat32(0, false);
}

/** Writes tensors (float32 → F32, int32 → I32, bool → BOOL) as safetensors bytes, names sorted. */
export function writeSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const dtype = { float32: 'F32', int32: 'I32', bool: 'BOOL' }[t.dtype as string];
    if (!dtype)
      throw new Error(`writeSafetensors: tensor '${name}' has unsupported dtype ${t.dtype}`);
    const values = t.dataSync();
    const bytes =
      t.dtype === 'bool'
        ? Uint8Array.from(values as Uint8Array)
        : copyBytes(byteInput(values, `writeSafetensors: tensor '${name}'`));
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.byteLength + ((8 - (json.byteLength % 8)) % 8)).fill(
    0x20,
  ); // pad to 8 with spaces
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
