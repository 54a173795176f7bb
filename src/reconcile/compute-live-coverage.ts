import { computeAssetStatus, computeCoverageBps } from "./compute-coverage.js";
import { scaleAmount } from "./scale-amount.js";

/** One liability asset's live figure (unsigned, not a checkpoint). Amounts in the liability asset's base units. */
export type LiveCoverageRow = {
  asset: string;
  snapshotId: string;
  decimals: number;
  liabilities: bigint;
  reserves: bigint;
  coverageBps: bigint | null;
  status: "covered" | "breach";
  /** Per chain, the finalized height the reserves are as of. */
  heights: Record<string, number>;
  computedAtMs: number;
};

/**
 * Live coverage: the latest finalized reserves of every chain against the latest snapshot's liabilities,
 * per liability asset, with the same exact scaling (floored) and coverage rule as checkpoints. Pure.
 */
export function computeLiveCoverage(p: {
  snapshotId: string;
  liabilities: ReadonlyArray<{ asset: string; decimals: number; total: bigint }>;
  chainAssets: ReadonlyArray<{ id: string; chain: string; decimals: number; backs: string | null }>;
  /** Per chain: its finalized height and per chain asset the counted wallets' sum there. */
  chains: Readonly<Record<string, { height: number; totals: Readonly<Record<string, bigint>> }>>;
  nowMs: number;
}): LiveCoverageRow[] {
  const heights = Object.fromEntries(Object.entries(p.chains).map(([k, c]) => [k, c.height]));
  return p.liabilities.map((l) => {
    let reserves = 0n;
    for (const a of p.chainAssets) {
      const c = p.chains[a.chain];
      if (a.backs !== l.asset || !c) continue;
      reserves += scaleAmount(c.totals[a.id] ?? 0n, a.decimals, l.decimals).scaled;
    }
    return {
      asset: l.asset, snapshotId: p.snapshotId, decimals: l.decimals, liabilities: l.total, reserves,
      coverageBps: computeCoverageBps(reserves, l.total), status: computeAssetStatus(reserves, l.total), heights, computedAtMs: p.nowMs,
    };
  });
}
