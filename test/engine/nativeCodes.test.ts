/**
 * The codes the addon and its TypeScript side share, defined once on each side: each enum in
 * native/src's headers is read here and checked against the TypeScript table that sends it, so a
 * code added or renumbered on one side only fails this test (issue #20, item 5).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { activationCode } from '../../src/engine/native/nativeConvGeometry.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/engine/native/nativeEltwise.js';

/** `enum Name : int32_t { kA = 0, kB = 1 }` in `header`, as {a: 0, b: 1} (prefix and k dropped). */
function cppEnum(header: string, name: string, prefix = ''): Record<string, number> {
  const text = readFileSync(new URL(`../../native/src/${header}`, import.meta.url), 'utf8');
  const body = new RegExp(`enum ${name}\\s*:\\s*int32_t\\s*\\{([^}]*)\\}`).exec(text)?.[1];
  if (body === undefined) throw new Error(`enum ${name} not found in native/src/${header}`);
  const entries = [...body.matchAll(/k(\w+)\s*=\s*(\d+)/g)].map(
    ([, key, value]) => [key.slice(prefix.length).toLowerCase(), Number(value)] as const,
  );
  return Object.fromEntries(entries);
}

describe('codes shared by the addon and src/engine/native', () => {
  it('Activation (conv.h) = activationCode (convGeometry.ts)', () => {
    const codes = cppEnum('conv.h', 'Activation');
    expect(Object.keys(codes).length).toBeGreaterThan(3);
    for (const [name, code] of Object.entries(codes)) {
      expect(activationCode(name), name).toBe(code);
    }
    expect(activationCode('swish')).toBeUndefined();
  });

  it('BinaryOp and UnaryOp (eltwise.h) = BINARY_OPS and UNARY_OPS (nativeEltwise.ts)', () => {
    expect(cppEnum('eltwise.h', 'BinaryOp')).toEqual(BINARY_OPS);
    expect(cppEnum('eltwise.h', 'UnaryOp', 'Unary')).toEqual(UNARY_OPS);
  });
});
