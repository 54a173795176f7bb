import type { MovementOutcomeRow } from "../../store/index.js";

/** One line of the reconciliation report: per outcome and asset, how many and how much (base units). */
export type MovementReportLine = {
  outcome: string;
  asset: string;
  count: number;
  /** Records' amounts (what users receive), or the chain's amount where no record exists. */
  amount: bigint;
  /** What the chain moved for them. */
  chainAmount: bigint;
  /** Fees of their transactions (counted once per transaction), in `feeAsset`. */
  fee: bigint;
  feeAsset: string | null;
};

/** Leg subjects whose outcome is told by their record's row (so nothing is counted twice). */
const TOLD_BY_RECORD = new Set(["matched", "replaced", "amount_mismatch", "reorged"]);

/**
 * The daily reconciliation report (issue 14, item 5): current outcomes grouped by (outcome, asset, fee
 * asset), sorted. Each movement counts once: a matched pair under its record, a movement without a
 * record under its leg. Pure.
 */
export function computeMovementReport(rows: readonly MovementOutcomeRow[]): MovementReportLine[] {
  const lines = new Map<string, MovementReportLine>();
  for (const r of rows) {
    if (!r.current) continue;
    if (r.subject.startsWith("leg:") && TOLD_BY_RECORD.has(r.outcome)) continue;
    // The receiving side of an internal movement (a wallet added late: markTransfersWithBackfilledIn) is told by its sending side.
    if (r.outcome === "internal" && r.direction === "in") continue;
    const key = `${r.outcome}\u0000${r.asset}\u0000${r.feeAsset ?? ""}`;
    let line = lines.get(key);
    if (!line) lines.set(key, (line = { outcome: r.outcome, asset: r.asset, count: 0, amount: 0n, chainAmount: 0n, fee: 0n, feeAsset: r.feeAsset }));
    line.count++;
    line.amount += r.amount ?? r.chainAmount ?? 0n;
    line.chainAmount += r.chainAmount ?? 0n;
    line.fee += r.fee ?? 0n;
  }
  return [...lines.values()].sort((a, b) => (a.outcome === b.outcome ? (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0) : a.outcome < b.outcome ? -1 : 1));
}
