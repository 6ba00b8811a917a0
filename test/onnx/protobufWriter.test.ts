import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ProtobufWriter } from '../../src/interop/onnx/protobufWriter.js';

// protobufjs's Reader is the independent reference for every wire type the writer emits.
const { Reader } = protobuf;

describe('ProtobufWriter against protobufjs', () => {
  for (const value of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 53 - 1, -1, -2, -(2 ** 40)]) {
    it(`int64 ${value}`, () => {
      const r = Reader.create(new ProtobufWriter().int(3, value).finish());
      expect(r.uint32()).toBe((3 << 3) | 0);
      expect(Number(r.int64())).toBe(value);
      expect(r.pos).toBe(r.len);
    });
  }

  it('floats, strings, bytes, packed lists and sub-messages', () => {
    const bytes = new ProtobufWriter()
      .float(2, 0.1)
      .string(1, 'név')
      .bytes(4, Uint8Array.from([0, 255]))
      .packedInts(8, [1, -1, 300])
      .packedFloats(7, [1.5, -2])
      .message(5, (m) => m.int(1, 7).string(2, 'x'))
      .finish();
    const r = Reader.create(bytes);
    expect(r.uint32()).toBe((2 << 3) | 5);
    expect(r.float()).toBeCloseTo(0.1, 7);
    expect(r.uint32()).toBe((1 << 3) | 2);
    expect(r.string()).toBe('név');
    expect(r.uint32()).toBe((4 << 3) | 2);
    expect([...r.bytes()]).toEqual([0, 255]);
    expect(r.uint32()).toBe((8 << 3) | 2);
    const ints = Reader.create(r.bytes());
    expect([ints.int64(), ints.int64(), ints.int64()].map(Number)).toEqual([1, -1, 300]);
    expect(r.uint32()).toBe((7 << 3) | 2);
    const floats = Reader.create(r.bytes());
    expect([floats.float(), floats.float()]).toEqual([1.5, -2]);
    expect(r.uint32()).toBe((5 << 3) | 2);
    const sub = Reader.create(r.bytes());
    expect(sub.uint32()).toBe(8);
    expect(Number(sub.int64())).toBe(7);
    expect(sub.uint32()).toBe(18);
    expect(sub.string()).toBe('x');
    expect(r.pos).toBe(r.len);
  });

  it('writes nothing for empty packed lists', () => {
    expect(new ProtobufWriter().packedInts(1, []).packedFloats(2, []).finish().length).toBe(0);
  });

  it('names a value that is not a safe integer', () => {
    expect(() => new ProtobufWriter().int(1, 1.5)).toThrow(/safe integer, got 1.5/);
  });
});
