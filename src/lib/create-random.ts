/**
 * A seeded PRNG (mulberry32) for reproducible workloads, demos and tests: the
 * same seed gives the same keys, amounts and reorg points. Not for secrets
 * (nonces and keys that protect anything use node:crypto).
 */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  /** A float in [0, 1). */
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** An integer in [min, max]. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

/** What createRandom returns. */
export type Random = ReturnType<typeof createRandom>;
