/**
 * Hostile bytes for every binary parser (safetensors, IDX, CIFAR-10): each input either parses to
 * the right values or fails with an Error that names the file — never a crash deep in a DataView,
 * a silent wrong value, a hang, a leaked tensor or a giant allocation. Includes a few hundred seeded
 * mutations of valid files per format.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCifar10Batch, CIFAR10_RECORD_BYTES } from '../../src/data/cifar10.js';
import { parseIdx, parseIdxImages, parseIdxLabels } from '../../src/data/idx.js';
import {
  MAX_SAFETENSORS_HEADER_BYTES,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../src/interop/safetensors.js';

let tensorsBefore = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tensorsBefore = tf.memory().numTensors;
});
afterAll(() => {
  // Every case disposes what it got; a parser that allocated and then threw would show here.
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

/** mulberry32: seeded, so a failing mutation reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded mutation of `bytes`: flipped bytes, a truncation, an extension or a rewritten word. */
function mutate(bytes: Uint8Array, seed: number): Uint8Array {
  const r = rng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  let out = bytes.slice();
  switch (pick(4)) {
    case 0:
      for (let i = 0, n = 1 + pick(4); i < n; i++) out[pick(out.length)] = pick(256);
      break;
    case 1:
      out = out.slice(0, pick(out.length));
      break;
    case 2: {
      const longer = new Uint8Array(out.length + 1 + pick(64));
      longer.set(out);
      for (let i = out.length; i < longer.length; i++) longer[i] = pick(256);
      out = longer;
      break;
    }
    default: {
      // A header word (safetensors length, IDX dimension) set to an extreme.
      const at = pick(Math.min(out.length, 24) - 3);
      const word = [0xffffffff, 0x7fffffff, 0, 1, 0x10000][pick(5)];
      new DataView(out.buffer).setUint32(at, word, r() < 0.5);
    }
  }
  return out;
}

/** Runs `parse`; a result is disposed; an error must be an Error naming `name`. */
function expectParsesOrNames(parse: () => unknown, name: string, label: string): void {
  let result: unknown;
  try {
    result = parse();
  } catch (e) {
    expect(e, label).toBeInstanceOf(Error);
    expect((e as Error).message, label).toContain(name);
    return;
  }
  if (result && typeof result === 'object') {
    for (const v of Object.values(result)) if (v instanceof tf.Tensor) v.dispose();
  }
}

/** The same bytes at an odd offset inside a larger Node Buffer (a pooled Buffer's situation). */
function insideLargerBuffer(bytes: Uint8Array): Buffer {
  const big = Buffer.alloc(bytes.length + 4096, 0xab);
  big.set(bytes, 13);
  return big.subarray(13, 13 + bytes.length);
}

function safetensorsFile(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** F16 [1, −2, 0.5], BF16 [1, −2], F32 [3.25], I32 [−7]. */
function mixedDtypeFile(): Uint8Array {
  const data = new Uint8Array(6 + 4 + 4 + 4);
  const v = new DataView(data.buffer);
  [0x3c00, 0xc000, 0x3800].forEach((h, i) => v.setUint16(2 * i, h, true));
  [0x3f80, 0xc000].forEach((h, i) => v.setUint16(6 + 2 * i, h, true));
  v.setFloat32(10, 3.25, true);
  v.setInt32(14, -7, true);
  return safetensorsFile(
    {
      half: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      brain: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
      single: { dtype: 'F32', shape: [1], data_offsets: [10, 14] },
      int: { dtype: 'I32', shape: [1], data_offsets: [14, 18] },
    },
    data,
  );
}

describe('safetensors', () => {
  it('decodes every dtype right from a Node Buffer view at an odd offset', () => {
    const t = readSafetensors(insideLargerBuffer(mixedDtypeFile()), 'view.safetensors');
    expect(Array.from(t.half.dataSync())).toEqual([1, -2, 0.5]);
    expect(Array.from(t.brain.dataSync())).toEqual([1, -2]);
    expect(Array.from(t.single.dataSync())).toEqual([3.25]);
    expect(Array.from(t.int.dataSync())).toEqual([-7]);
    tf.dispose(Object.values(t));
  });

  it('accepts an ArrayBuffer', () => {
    const bytes = mixedDtypeFile();
    const t = readSafetensors(bytes.buffer as ArrayBuffer, 'ab.safetensors');
    expect(Array.from(t.single.dataSync())).toEqual([3.25]);
    tf.dispose(Object.values(t));
  });

  it('keeps tensors named like Object.prototype members, and frees them', () => {
    const data = new Uint8Array(8);
    const file = safetensorsFile(
      JSON.parse(
        '{"__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},' +
          ' "constructor": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}',
      ),
      data,
    );
    const t = readSafetensors(file, 'proto.safetensors');
    expect(Object.keys(t).sort()).toEqual(['__proto__', 'constructor']);
    expect(t['__proto__']).toBeInstanceOf(tf.Tensor);
    expect(Object.keys(readSafetensorsHeader(file)).sort()).toEqual(['__proto__', 'constructor']);
    tf.dispose(Object.values(t));
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not bytes: a string', 'abc', /bad\.safetensors: expected bytes .* got a string/],
    ['not bytes: null', null, /expected bytes .* got null/],
    ['not bytes: an array', [1, 2], /expected bytes .* got an array/],
    ['header null', safetensorsFile(null, new Uint8Array()), /must be a JSON object .* got null/],
    ['header an array', safetensorsFile([1], new Uint8Array()), /must be a JSON object/],
    [
      'entry null',
      safetensorsFile({ w: null }, new Uint8Array()),
      /tensor 'w' must be described by an object/,
    ],
    [
      'dtype a number',
      safetensorsFile({ w: { dtype: 4, shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor 'w' has unknown dtype 4/,
    ],
    [
      'dtype toString (a prototype key)',
      safetensorsFile(
        { w: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } },
        new Uint8Array(4),
      ),
      /unknown dtype "toString"/,
    ],
    [
      'offsets not an array',
      safetensorsFile({ w: { dtype: 'F32', shape: [1], data_offsets: 'x' } }, new Uint8Array(4)),
      /data_offsets "x" lie outside/,
    ],
    [
      'a huge shape the data cannot hold',
      safetensorsFile(
        { w: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 4] } },
        new Uint8Array(4),
      ),
      /needs \d+ bytes but its data_offsets span 4/,
    ],
    [
      'header not UTF-8',
      (() => {
        const f = safetensorsFile({}, new Uint8Array());
        f[8] = 0xff;
        return f;
      })(),
      /not valid JSON in UTF-8/,
    ],
    // The format's own rules (safetensors' reference `validate`): ranges tile the data exactly.
    [
      'two tensors over the same bytes',
      safetensorsFile(
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        },
        new Uint8Array(4),
      ),
      /tensor '(a|b)' data_offsets \[0, 4\] overlap tensor '(a|b)' \(which ends at 4\)/,
    ],
    [
      'a gap between tensors',
      safetensorsFile(
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
        },
        new Uint8Array(12),
      ),
      /tensor 'b' data_offsets \[8, 12\] leave a gap after tensor 'a' \(which ends at 4\)/,
    ],
    [
      'data not starting at 0',
      safetensorsFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
      /leave a gap after the start of the data/,
    ],
    [
      'trailing bytes',
      safetensorsFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(9)),
      /5 trailing bytes after tensor 'a' \(the data section is 9 bytes, the tensors end at 4\)/,
    ],
    [
      'a duplicate tensor name',
      (() => {
        const f = safetensorsFile(
          {
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            zz: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          },
          new Uint8Array(8),
        );
        // Rename "zz" to "a" in place: same length, so the header length stays right.
        const at = new TextDecoder().decode(f).indexOf('"zz"');
        f.set(new TextEncoder().encode('"a"'), at);
        f[at + 3] = 0x20;
        return f;
      })(),
      /header names "a" twice/,
    ],
    [
      'non-string __metadata__ values',
      safetensorsFile({ __metadata__: { format: 'pt', epoch: 3 } }, new Uint8Array()),
      /__metadata__ "epoch" must be a string, got 3/,
    ],
    [
      '__metadata__ not an object',
      safetensorsFile({ __metadata__: ['pt'] }, new Uint8Array()),
      /__metadata__ must be an object of strings, got an array/,
    ],
  ];
  for (const [label, input, message] of bad) {
    it(`refuses ${label}, naming the file`, () => {
      expect(() => readSafetensors(input as Uint8Array, 'bad.safetensors')).toThrow(message);
    });
  }

  it(`refuses a header over ${MAX_SAFETENSORS_HEADER_BYTES} bytes before decoding it`, () => {
    // A sparse claim: the length field says 200 MB and the file is that long (zeros after 8 bytes).
    const len = MAX_SAFETENSORS_HEADER_BYTES + 1;
    const f = new Uint8Array(8 + len);
    new DataView(f.buffer).setBigUint64(0, BigInt(len), true);
    expect(() => readSafetensors(f, 'big.safetensors')).toThrow(/over the .*-byte limit/);
  });

  it('300 seeded mutations of a valid file: parsed or refused naming the file', () => {
    const tensors = { a: tf.tensor2d([[1, 2]]), b: tf.tensor1d([3], 'int32') };
    const valid = writeSafetensors(tensors);
    tf.dispose(Object.values(tensors));
    const withMixed = mixedDtypeFile();
    for (let seed = 1; seed <= 300; seed++) {
      const base = seed % 2 ? valid : withMixed;
      const m = mutate(base, seed);
      expectParsesOrNames(
        () => readSafetensors(m, 'fuzz.safetensors'),
        'fuzz.safetensors',
        `seed ${seed}`,
      );
      expectParsesOrNames(
        () => readSafetensors(insideLargerBuffer(m), 'fuzz.safetensors'),
        'fuzz.safetensors',
        `seed ${seed} (Buffer view)`,
      );
    }
  });
});

/** idx3: 2 images of 2×3; idx1: 2 labels. */
function idxImages(): Uint8Array {
  return Uint8Array.from([
    0,
    0,
    8,
    3,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    3,
    ...[1, 2, 3, 4, 5, 6],
    ...[7, 8, 9, 10, 11, 12],
  ]);
}
function idxLabels(): Uint8Array {
  return Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 4, 9]);
}

describe('IDX', () => {
  it('parses right from a Node Buffer view at an odd offset, and from an ArrayBuffer', () => {
    const images = parseIdxImages(insideLargerBuffer(idxImages()), 'img.idx');
    expect([images.count, images.height, images.width]).toEqual([2, 2, 3]);
    expect(Array.from(images.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(parseIdxLabels(idxLabels().buffer as ArrayBuffer, 'lbl.idx', 10))).toEqual([
      4, 9,
    ]);
  });

  it('refuses non-bytes naming the file', () => {
    expect(() => parseIdx({} as Uint8Array, 'x.idx')).toThrow(
      /x\.idx: expected bytes .* got an object/,
    );
  });

  it('300 seeded mutations of valid files: parsed or refused naming the file', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const m = mutate(seed % 2 ? idxImages() : idxLabels(), seed);
      expectParsesOrNames(() => parseIdxImages(m, 'fuzz.idx'), 'fuzz.idx', `seed ${seed} images`);
      expectParsesOrNames(
        () => parseIdxLabels(m, 'fuzz.idx', 10),
        'fuzz.idx',
        `seed ${seed} labels`,
      );
    }
  });
});

describe('CIFAR-10 binary', () => {
  function batchOf(records: number): Uint8Array {
    const b = new Uint8Array(records * CIFAR10_RECORD_BYTES);
    for (let r = 0; r < records; r++) {
      b[r * CIFAR10_RECORD_BYTES] = r % 10;
      for (let i = 1; i < CIFAR10_RECORD_BYTES; i++)
        b[r * CIFAR10_RECORD_BYTES + i] = (r + i) % 256;
    }
    return b;
  }

  it('decodes the same from a Node Buffer view as from the plain bytes', () => {
    const bytes = batchOf(2);
    const a = parseCifar10Batch(bytes, 'b.bin', 2);
    const b = parseCifar10Batch(insideLargerBuffer(bytes), 'b.bin', 2);
    expect(Array.from(b.labels)).toEqual([0, 1]);
    expect(b.images).toEqual(a.images);
  });

  it('200 seeded mutations: parsed or refused naming the file', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const m = mutate(batchOf(2), seed);
      expectParsesOrNames(() => parseCifar10Batch(m, 'fuzz.bin', 2), 'fuzz.bin', `seed ${seed}`);
    }
  });
});
