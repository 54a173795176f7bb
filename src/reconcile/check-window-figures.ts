/**
 * Version 2: an anchored asset's window figures follow from its backing lines (minReserves = Σ minScaled), the
 * window_dressing test from the figures and the threshold, and a flag is listed exactly when the test holds.
 * Returns the problem, or null. Import-free: the transparency page's verifier runs it too. Pure.
 */
export function checkWindowFigures(
  a: { reserves: string | null; backing: ReadonlyArray<{ window?: { minScaled: string } }>; window?: { minReserves: string; riseBefore: string; dropAfter: string; thresholdBps: number; windowDressing: boolean } | null },
  reserves: bigint,
  flagged: boolean,
): string | null {
  try {
    return check(a, reserves, flagged);
  } catch {
    return "holds a figure that is not an integer";
  }
}

function check(a: Parameters<typeof checkWindowFigures>[0], reserves: bigint, flagged: boolean): string | null {
  const w = a.window;
  if (!isRecord(w)) return "missing (a version 2 document states the reserve window of every anchored asset)";
  let min = 0n;
  for (const b of a.backing) {
    if (!isRecord(b.window)) return "a backing line has no window";
    min += BigInt(b.window.minScaled);
  }
  if (w.minReserves !== min.toString()) return "minReserves is not the sum of the backing lines' minScaled";
  if (!Number.isSafeInteger(w.thresholdBps) || w.thresholdBps < 1) return "thresholdBps is not a positive integer";
  const limit = BigInt(w.thresholdBps) * reserves;
  const dressing = BigInt(w.riseBefore) * 10_000n > limit && BigInt(w.dropAfter) * 10_000n > limit;
  if (w.windowDressing !== dressing) return "windowDressing does not follow from riseBefore, dropAfter, thresholdBps and reserves";
  if (flagged !== dressing) return dressing ? "window dressing is not listed in flags" : "flags lists window dressing the figures do not show";
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
