/**
 * The delay before the next attempt after `attempts` attempts failed (ms), or null when the schedule is
 * exhausted: schedule[attempts] with ±20% jitter (so a receiver that comes back is not hit by every
 * sender at once), and never sooner than a `Retry-After` the receiver gave (capped at 24 h).
 */
export function computeRetryDelay(p: { attempts: number; schedule: readonly number[]; retryAfterMs?: number | null; random: () => number }): number | null {
  if (p.attempts >= p.schedule.length) return null;
  const base = p.schedule[p.attempts]!;
  const jittered = Math.round(base * (0.8 + 0.4 * p.random()));
  return Math.max(jittered, Math.min(p.retryAfterMs ?? 0, 86_400_000));
}

/** Parses a Retry-After header (delta seconds or an HTTP date) into ms from `nowMs`; null when absent or malformed. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d{1,9}$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
