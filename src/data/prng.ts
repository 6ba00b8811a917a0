/**
 * A small seeded PRNG, so shuffling and augmentation repeat exactly for a seed (Math.random cannot be
 * seeded, and tf.randomUniform's seeding depends on the backend). Browser-safe.
 *
 * mulberry32 (Tommy Ettinger, public domain): 32-bit state, one add + two multiply-xorshift rounds per
 * draw, period 2^32 — plenty for shuffling ≤ millions of examples per epoch, and fast in JS because
 * Math.imul keeps everything in 32-bit integers.
 */

/** Returns floats uniform in [0, 1). */
export type Rng = () => number;

/** A mulberry32 generator seeded with `seed` (any integer; only its low 32 bits matter). */
export function createRng(seed: number): Rng {
  const next = createUint32Rng(seed);
  return () => next() / 4294967296;
}

/**
 * The same mulberry32 stream as `createRng`, as unsigned 32-bit integers: for generators that must
 * give the same bytes on every machine from integer arithmetic alone (see data/scenes.ts).
 */
export function createUint32Rng(seed: number): () => number {
  if (!Number.isInteger(seed))
    throw new Error(`createRng: seed must be an integer, got ${JSON.stringify(seed)}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * A uniform integer in [0, n) from a 32-bit draw u, as ⌊u·n / 2³²⌋: u·n < 2⁵³ for n < 2²¹, so the
 * product and the division by a power of two are exact in doubles — integer arithmetic.
 */
export function uint32Below(u: number, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n >= 2 ** 21)
    throw new Error(`uint32Below: n must be an integer in 1..2^21-1, got ${JSON.stringify(n)}`);
  return Math.floor((u * n) / 4294967296);
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/**
 * Combines two integers into one well-mixed 32-bit seed, e.g. mixSeeds(runSeed, epoch) for a different
 * but repeatable shuffle every epoch (neighbouring seeds would otherwise start mulberry32 one step apart).
 * Uses the murmur3 finaliser on a·φ ⊕ b.
 */
export function mixSeeds(a: number, b: number): number {
  if (!Number.isInteger(a) || !Number.isInteger(b)) {
    throw new Error(
      `mixSeeds: seeds must be integers, got ${JSON.stringify(a)} and ${JSON.stringify(b)}`,
    );
  }
  let h = (Math.imul(a >>> 0, 0x9e3779b9) ^ (b >>> 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A random permutation of 0 .. n-1 (Fisher–Yates), deterministic for the generator's seed. */
export function permutation(n: number, rng: Rng): Uint32Array {
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`permutation: n must be a non-negative integer, got ${JSON.stringify(n)}`);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
