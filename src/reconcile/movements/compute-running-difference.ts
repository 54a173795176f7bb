/** Where the running difference starts: liabilities per asset at a time (base units). */
export type RunningDifferenceBase = { source: "checkpoint" | "liabilities_snapshot"; id: string; atMs: number; liabilities: ReadonlyMap<string, bigint> };

/** Per asset (issue 14, item 4): what the records say is owed now, what custody holds at the latest final blocks, and the gap. */
export type RunningDifferenceLine = {
  asset: string;
  /** Liabilities at the base. */
  baseLiabilities: bigint;
  /** Deposit records since the base (credited to users). */
  deposits: bigint;
  /** Withdrawal records since the base whose movement is on chain (matched). */
  withdrawals: bigint;
  /** base + deposits − withdrawals. */
  liabilities: bigint;
  /** Counted custody balances at each chain's latest finalized block. */
  reserves: bigint;
  /** reserves − liabilities: signed; drift from zero beyond in-flight movements is a discrepancy. */
  difference: bigint;
  /** Withdrawal records since the base not (yet) on chain: owed to users no more, still in custody. */
  inFlight: bigint;
};

/**
 * The running difference, pure: per asset of the base or the reserves, base liabilities + credited
 * deposits − completed withdrawals against reserves. Assets are compared by id (no netting across ids).
 */
export function computeRunningDifference(p: {
  base: RunningDifferenceBase;
  records: readonly { kind: string; asset: string; open: boolean; total: bigint }[];
  reserves: ReadonlyMap<string, bigint>;
}): RunningDifferenceLine[] {
  const assets = new Set([...p.base.liabilities.keys(), ...p.reserves.keys()]);
  const lines: RunningDifferenceLine[] = [];
  for (const asset of [...assets].sort()) {
    let deposits = 0n;
    let withdrawals = 0n;
    let inFlight = 0n;
    for (const r of p.records) {
      if (r.asset !== asset) continue;
      if (r.kind === "deposit") deposits += r.total;
      else if (r.kind === "withdrawal") {
        if (r.open) inFlight += r.total;
        else withdrawals += r.total;
      }
    }
    const baseLiabilities = p.base.liabilities.get(asset) ?? 0n;
    const liabilities = baseLiabilities + deposits - withdrawals;
    const reserves = p.reserves.get(asset) ?? 0n;
    lines.push({ asset, baseLiabilities, deposits, withdrawals, liabilities, reserves, difference: reserves - liabilities, inFlight });
  }
  return lines;
}
