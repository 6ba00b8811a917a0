/** Writers for small hand-made IDX and CIFAR-10 files, so parser tests know every byte. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

/** An unsigned-byte IDX file: magic 00 00 08 ndims, big-endian dims, values. */
export function idxBytes(dims: number[], values: ArrayLike<number>, typeCode = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, typeCode, dims.length]);
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(Array.from(values), header.length);
  return out;
}

/** Images whose pixel (n, y, x) is (n·31 + y·7 + x) mod 256, so positions are checkable. */
export function patternImages(count: number, h: number, w: number): Uint8Array {
  const a = new Uint8Array(count * h * w);
  for (let n = 0; n < count; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) a[(n * h + y) * w + x] = (n * 31 + y * 7 + x) % 256;
  return a;
}

/** A four-file MNIST-layout folder (optionally gzipped) with `train` and `test` images of h×w. */
export async function writeIdxFolder(
  dir: string,
  opts: { train: number; test: number; h?: number; w?: number; gzip?: boolean },
): Promise<void> {
  const h = opts.h ?? 4;
  const w = opts.w ?? 3;
  const write = (name: string, bytes: Uint8Array) =>
    fs.writeFile(
      path.join(dir, opts.gzip ? `${name}.gz` : name),
      opts.gzip ? gzipSync(bytes) : bytes,
    );
  for (const [prefix, count] of [
    ['train', opts.train],
    ['t10k', opts.test],
  ] as const) {
    await write(`${prefix}-images-idx3-ubyte`, idxBytes([count, h, w], patternImages(count, h, w)));
    await write(
      `${prefix}-labels-idx1-ubyte`,
      idxBytes(
        [count],
        Array.from({ length: count }, (_, i) => i % 10),
      ),
    );
  }
}

/** One CIFAR-10 record: label, then red, green, blue planes where plane c pixel p = (c·100 + p + seed) mod 256. */
export function cifarRecord(label: number, seed = 0): Uint8Array {
  const r = new Uint8Array(3073);
  r[0] = label;
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 1024; p++) r[1 + c * 1024 + p] = (c * 100 + p + seed) % 256;
  return r;
}

/** A batch file of `count` records, record i with label (i + first) mod 10 and seed i + first. */
export function cifarBatch(count: number, first = 0): Uint8Array {
  const out = new Uint8Array(count * 3073);
  for (let i = 0; i < count; i++) out.set(cifarRecord((i + first) % 10, i + first), i * 3073);
  return out;
}

/** Writes data_batch_1..5.bin and test_batch.bin with `perFile` records each; returns the dir. */
export async function writeCifarFolder(dir: string, perFile: number): Promise<void> {
  for (let f = 0; f < 5; f++)
    await fs.writeFile(path.join(dir, `data_batch_${f + 1}.bin`), cifarBatch(perFile, f * perFile));
  await fs.writeFile(path.join(dir, 'test_batch.bin'), cifarBatch(perFile, 1000));
}

export async function makeTempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'doconv-data-'));
}
