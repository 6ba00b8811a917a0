import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Builds a safetensors file by hand from a header object and raw data bytes. */
function file(
  header: Record<string, unknown>,
  data: Uint8Array,
  headerLength?: number,
): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('readSafetensors', () => {
  it('round-trips float32, int32 and bool through writeSafetensors', () => {
    const bytes = writeSafetensors(
      {
        a: tf.tensor2d([
          [1.5, -2],
          [3, 4],
        ]),
        b: tf.tensor1d([7, -8], 'int32'),
        c: tf.tensor1d([true, false], 'bool'),
      },
      { format: 'pt' },
    );
    expect(new DataView(bytes.buffer).getBigUint64(0, true) % 8n).toBe(0n);
    const t = readSafetensors(bytes);
    expect(t.a.shape).toEqual([2, 2]);
    expect(Array.from(t.a.dataSync())).toEqual([1.5, -2, 3, 4]);
    expect(t.b.dtype).toBe('int32');
    expect(Array.from(t.b.dataSync())).toEqual([7, -8]);
    expect(Array.from(t.c.dataSync())).toEqual([1, 0]);
    expect(readSafetensorsHeader(bytes).a).toEqual({ dtype: 'F32', shape: [2, 2] });
  });

  it('decodes I64 (e.g. num_batches_tracked), F64, F16 and BF16', () => {
    const data = new Uint8Array(8 + 8 + 2 + 2);
    const view = new DataView(data.buffer);
    view.setBigInt64(0, -5n, true);
    view.setFloat64(8, 0.25, true);
    view.setUint16(16, 0x3c00, true); // F16 1.0
    view.setUint16(18, 0xc000, true); // BF16 -2.0
    const t = readSafetensors(
      file(
        {
          n: { dtype: 'I64', shape: [], data_offsets: [0, 8] },
          d: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
          h: { dtype: 'F16', shape: [1], data_offsets: [16, 18] },
          b: { dtype: 'BF16', shape: [1], data_offsets: [18, 20] },
        },
        data,
      ),
    );
    expect(t.n.dtype).toBe('int32');
    expect(t.n.dataSync()[0]).toBe(-5);
    expect(t.d.dataSync()[0]).toBe(0.25);
    expect(t.h.dataSync()[0]).toBe(1);
    expect(t.b.dataSync()[0]).toBe(-2);
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['too short', () => new Uint8Array(4), /too short/],
    [
      'header longer than the file',
      () => file({}, new Uint8Array(0), 1000),
      /header length 1000 exceeds.*truncated/,
    ],
    [
      'header not JSON',
      () => {
        const f = file({ a: 1 }, new Uint8Array(0));
        f[9] = 0x7b;
        f[10] = 0x7b;
        return f;
      },
      /not valid JSON/,
    ],
    [
      'unknown dtype',
      () => file({ w: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      /'w' has unknown dtype "F8"/,
    ],
    [
      'offsets past the data (truncated file)',
      () => file({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
      /'w' data_offsets \[0,16\] lie outside the 8 data bytes/,
    ],
    [
      'header lies about the size',
      () => file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /'w' \(F32 \[3\]\) needs 12 bytes but its data_offsets span 8/,
    ],
    [
      'bad shape',
      () => file({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)),
      /'w' has invalid shape \[-1\]/,
    ],
    [
      'I64 outside int32',
      () => {
        const d = new Uint8Array(8);
        new DataView(d.buffer).setBigInt64(0, 1n << 40n, true);
        return file({ n: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, d);
      },
      /'n' \(I64\) holds 1099511627776/,
    ],
  ];
  it.each(bad)('%s → an error naming it, nothing allocated', (_name, make, message) => {
    const before = tf.memory().numTensors;
    expect(() => readSafetensors(make(), 'model.safetensors')).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a bad tensor after good ones leaves nothing allocated', () => {
    const data = new Uint8Array(12);
    const bytes = file(
      {
        a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        n: { dtype: 'I64', shape: [1], data_offsets: [4, 12] },
      },
      data,
    );
    new DataView(bytes.buffer).setBigInt64(8 + bytes.byteLength - 12 - 8 + 4, 1n << 40n, true);
    const before = tf.memory().numTensors;
    expect(() => readSafetensors(bytes)).toThrow(/'n'/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
