/**
 * The one decode cap (src/io/limits.ts): its default, the environment variable, the option, and the
 * error every reader throws when a file declares more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkDecodedSize,
  DecodeLimitError,
  decodeLimitBytes,
  DEFAULT_MAX_DECODED_BYTES,
  MAX_DECODED_BYTES_ENV,
  parseByteCount,
} from '../../src/io/limits.js';

const saved = process.env[MAX_DECODED_BYTES_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[MAX_DECODED_BYTES_ENV];
  else process.env[MAX_DECODED_BYTES_ENV] = saved;
});

describe('decode limit', () => {
  it('defaults to 1 GiB, is raised by the environment variable, and the option wins over both', () => {
    delete process.env[MAX_DECODED_BYTES_ENV];
    expect(decodeLimitBytes()).toBe(2 ** 30);
    expect(DEFAULT_MAX_DECODED_BYTES).toBe(2 ** 30);
    process.env[MAX_DECODED_BYTES_ENV] = '4G';
    expect(decodeLimitBytes()).toBe(4 * 2 ** 30);
    process.env[MAX_DECODED_BYTES_ENV] = '1500';
    expect(decodeLimitBytes()).toBe(1500);
    expect(decodeLimitBytes(99)).toBe(99);
  });

  it('parses digits with K/M/G/T suffixes and refuses anything else, naming the variable', () => {
    expect(parseByteCount('12')).toBe(12);
    expect(parseByteCount('3k')).toBe(3072);
    expect(parseByteCount('2M')).toBe(2 * 2 ** 20);
    expect(parseByteCount('1T')).toBe(2 ** 40);
    for (const bad of ['', '0', '-5', '+5', ' 5', '1.5G', '1e9', 'lots', '99999999999999999999'])
      expect(() => parseByteCount(bad), bad).toThrow(
        /DOCONV_MAX_DECODED_BYTES: expected a positive/,
      );
    process.env[MAX_DECODED_BYTES_ENV] = 'lots';
    expect(() => decodeLimitBytes()).toThrow(/DOCONV_MAX_DECODED_BYTES.*"lots"/);
    expect(() => decodeLimitBytes(0)).toThrow(/maxBytes: expected a positive integer, got 0/);
    expect(() => decodeLimitBytes(NaN)).toThrow(/got NaN/);
  });

  it('refuses a declared size over the cap naming the file, the count and how to raise it', () => {
    expect(() => checkDecodedSize('a.idx', 100, '10×10 ubyte values', 100)).not.toThrow();
    let err: unknown;
    try {
      checkDecodedSize('a.idx', 101, '101 ubyte values', 100);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeLimitError);
    expect((err as DecodeLimitError).declared).toBe(101);
    expect((err as Error).message).toMatch(
      /^a\.idx: declares 101 ubyte values = 101 bytes, over the decode limit of 100 bytes \(raise it with DOCONV_MAX_DECODED_BYTES/,
    );
    // NaN and values beyond 2^53 are refused, never compared as false.
    expect(() => checkDecodedSize('f', NaN, 'x', 100)).toThrow(DecodeLimitError);
    expect(() => checkDecodedSize('f', 2 ** 70, 'x')).toThrow(DecodeLimitError);
  });
});
