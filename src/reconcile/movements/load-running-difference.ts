import type { ResolvedConfig } from "../../lib/config.js";
import { loadLatestSnapshot } from "../../liabilities/load-snapshot.js";
import { loadBalances, loadCursor, loadMovementRecordSums, loadWalletStates, type Store } from "../../store/index.js";
import { computeRunningDifference, type RunningDifferenceBase, type RunningDifferenceLine } from "./compute-running-difference.js";

/**
 * The base of the running difference. Today: the latest liabilities snapshot's totals at its as-of.
 * TODO(#14): switch to the last signed checkpoint (its liabilities per asset and time) once checkpoints land.
 */
export async function loadRunningDifferenceBase(store: Store): Promise<RunningDifferenceBase | null> {
  const snap = await loadLatestSnapshot(store);
  if (!snap) return null;
  return { source: "liabilities_snapshot", id: snap.snapshotId, atMs: snap.asOfMs, liabilities: new Map(snap.assets.map((a) => [a.id, a.total])) };
}

export type LoadRunningDifferenceReturnType = { base: RunningDifferenceBase; lines: RunningDifferenceLine[]; finalized: Record<string, number | null> } | null;

/**
 * Reads what the running difference needs (base, record sums since it, counted balances at each chain's
 * finalized height) and computes it. Null when there is no base yet (no snapshot).
 */
export async function loadRunningDifference(store: Store, config: ResolvedConfig): Promise<LoadRunningDifferenceReturnType> {
  const base = await loadRunningDifferenceBase(store);
  if (!base) return null;
  const records = await loadMovementRecordSums(store, { afterMs: base.atMs });
  const reserves = new Map<string, bigint>();
  const finalized: Record<string, number | null> = {};
  for (const chain of Object.keys(config.chains)) {
    const cursor = await loadCursor(store, chain);
    finalized[chain] = cursor?.finalizedHeight ?? null;
    if (cursor?.finalizedHeight === null || cursor?.finalizedHeight === undefined) continue;
    // Pending wallets (not yet backfilled) and removed ones are not reserves.
    const counted = new Set((await loadWalletStates(store, { chain })).filter((w) => w.state === "active").map((w) => w.walletId));
    for (const b of await loadBalances(store, { chain, atHeight: cursor.finalizedHeight })) {
      if (counted.size && !counted.has(b.walletId)) continue;
      reserves.set(b.asset, (reserves.get(b.asset) ?? 0n) + b.amount);
    }
  }
  return { base, lines: computeRunningDifference({ base, records, reserves }), finalized };
}
