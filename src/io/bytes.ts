/**
 * The one way doconv's parsers read bytes they are handed (safetensors, IDX, CIFAR-10, weights).
 * Browser-safe.
 *
 * Why: a Uint8Array may be a window on a larger buffer (a Node Buffer from the pool, a subarray), and
 * a subclass may change what `slice()` means (Buffer.slice returns a view, not a copy). Every parser
 * normalises its input with `byteInput` first, reads numbers through `byteView`, and takes aligned
 * copies with `copyBytes`, so `.buffer` is never read past the window.
 */

/**
 * The bytes of `input` as a plain Uint8Array over exactly its window (no copy). Accepts any
 * Uint8Array (incl. Node's Buffer), another ArrayBufferView, or an ArrayBuffer; anything else is an
 * error naming `what` and what it got.
 */
export function byteInput(input: unknown, what: string): Uint8Array {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) {
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }
  if (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer) {
    return new Uint8Array(input);
  }
  throw new TypeError(
    `${what}: expected bytes (a Uint8Array or ArrayBuffer), got ${describe(input)}`,
  );
}

/** A DataView over exactly the window of `bytes`. */
export function byteView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A fresh copy of bytes [begin, end) in its own ArrayBuffer (offset 0, so aligned for any typed
 * array) — whatever subclass `bytes` is.
 */
export function copyBytes(bytes: Uint8Array, begin = 0, end = bytes.byteLength): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, begin, end);
}

/** A short, safe description of a value for error messages (type and size, never the content). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return typeof value;
}
