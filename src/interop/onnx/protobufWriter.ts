/**
 * The few protobuf wire-format writes an ONNX ModelProto needs: varints (int32/int64/enum), 32-bit
 * floats, length-delimited strings, bytes, sub-messages and packed repeated scalars. Written here so
 * ONNX export needs no protobuf library at run time (onnx-proto + protobufjs are ~22 MB installed and
 * ~450 kB of bundle input); test/onnx decodes the output with onnx-proto, an independent decoder.
 *
 * Wire format: each field is a key varint (fieldNumber << 3 | wireType) then its value; wire type 0 =
 * varint, 2 = length-delimited (length varint + bytes), 5 = 32-bit little-endian.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const utf8 = new TextEncoder();

export class ProtobufWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private key(field: number, wireType: number): void {
    this.push(varintBytes(BigInt((field << 3) | wireType)));
  }

  /** int32, int64 or enum: negative values as 64-bit two's complement (10 bytes), as protobuf does. */
  int(field: number, value: number): this {
    this.key(field, VARINT);
    this.push(varintBytes(toUint64(value)));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, FIXED32);
    this.push(float32Bytes([value]));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.push(varintBytes(BigInt(value.length)));
    this.push(value);
    return this;
  }

  /** A sub-message, written by `write` into a writer of its own. */
  message(field: number, write: (w: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** Repeated int32/int64, packed (one length-delimited field); nothing when empty. */
  packedInts(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const parts = values.map((v) => varintBytes(toUint64(v)));
    return this.bytes(field, concat(parts, total(parts)));
  }

  /** Repeated float, packed; nothing when empty. */
  packedFloats(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    return this.bytes(field, float32Bytes(values));
  }

  finish(): Uint8Array {
    return concat(this.chunks, this.length);
  }
}

function toUint64(value: number): bigint {
  if (!Number.isSafeInteger(value)) {
    throw new Error(`protobuf: integer field value must be a safe integer, got ${value}`);
  }
  return BigInt.asUintN(64, BigInt(value));
}

function varintBytes(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function float32Bytes(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

function total(parts: Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.length, 0);
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
