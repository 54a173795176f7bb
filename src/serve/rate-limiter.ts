/** A token-bucket rate limiter keyed by name (an API key's name, a client address). */
export type RateLimiter = {
  /** Takes `points` from `key`'s bucket; returns 0 when allowed, else the seconds to wait (Retry-After, at least 1). */
  take(key: string, points: number, nowMs: number): number;
};

/**
 * Creates a token bucket per key: `burst` points, refilled at `perSecond`. A request of more points
 * than the bucket holds is refused without taking any. At most `maxKeys` buckets are kept (the least
 * recently used is forgotten, i.e. refilled), so a flood of client addresses cannot grow memory.
 */
export function createRateLimiter(p: { perSecond: number; burst: number; maxKeys?: number }): RateLimiter {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const maxKeys = p.maxKeys ?? 10_000;
  return {
    take(key, points, nowMs) {
      let b = buckets.get(key);
      if (b) buckets.delete(key);
      else b = { tokens: p.burst, atMs: nowMs };
      b.tokens = Math.min(p.burst, b.tokens + ((nowMs - b.atMs) / 1000) * p.perSecond);
      b.atMs = nowMs;
      buckets.set(key, b);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
      if (b.tokens >= points) {
        b.tokens -= points;
        return 0;
      }
      return Math.max(1, Math.ceil((points - b.tokens) / p.perSecond));
    },
  };
}
