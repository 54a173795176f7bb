import { MOVEMENT_FLAGS, type MatchLeg, type MovementKind, type MovementOutcomeName, type MovementRecord } from "./movement-types.js";

/** A record in the matcher's pool, with what it currently is and since when its SLA runs. */
export type PoolRecord = { record: MovementRecord; current: MovementOutcomeName | null; currentAtMs: number | null };
/** A leg in the matcher's pool, with its current outcome (null: new). */
export type PoolLeg = { leg: MatchLeg; current: MovementOutcomeName | null };

export type ComputeMovementMatchesParameters = {
  records: readonly PoolRecord[];
  legs: readonly PoolLeg[];
  nowMs: number;
  /** An external leg becomes unexplained this long after it was first seen (and only once final). */
  graceMs: number;
  /** A record without its movement becomes missing_on_chain this long after its time (or after its movement was reorged away). */
  slaMs: number;
  /** Largest |block time − record time| for a match without txid. */
  windowMs: number;
  /** Per fee asset: the largest expected fee of a transaction (base units). */
  feeCeilings: Readonly<Record<string, bigint>>;
  /** Per asset: an unexplained inflow below this (base units) is dust (flag `dust`, grouped per dust window). */
  dustFloors?: Readonly<Record<string, bigint>>;
  /** Length of a dust window in ms of block time (default 3,600,000). */
  dustWindowMs?: number;
};

/** What became of a record: its outcome and, when matched, the leg. */
export type RecordResult = { record: MovementRecord; outcome: MovementOutcomeName; leg: MatchLeg | null; flags: string[] };
/** What became of a leg: matched to a record, or its own outcome. */
export type LegResult = { leg: MatchLeg; outcome: MovementOutcomeName; recordId: string | null; flags: string[] };

export type ComputeMovementMatchesReturnType = { records: RecordResult[]; legs: LegResult[] };

/** The leg direction and side a record kind matches: withdrawals pay out of custody, deposits come in, transfers and sweeps stay inside. */
function fits(kind: MovementKind, leg: MatchLeg): boolean {
  const internal = leg.counterpartyWalletId !== null;
  if (kind === "withdrawal") return leg.direction === "out" && !internal;
  if (kind === "deposit") return leg.direction === "in" && !internal;
  return leg.direction === "out" && internal;
}

/** A record's counterparty names the leg's: equal, or not shown by the chain (a Bitcoin deposit's senders) or not given (a deposit record). */
function sameParty(r: MovementRecord, leg: MatchLeg): boolean {
  if (r.counterparty === null || leg.counterparty === null) return r.kind === "deposit";
  return r.counterparty === leg.counterparty;
}

/**
 * Matches records against custody legs (issue 14, item 2). Pure and deterministic: records are taken
 * oldest first (then by id), each leg explains at most one record.
 * 1. By txid: a leg of the record's transaction, kind-compatible and of the record's asset, with the
 *    record's counterparty and amount → `matched`; with its counterparty but another amount →
 *    `amount_mismatch`. A txid not on chain (yet) falls through to 2.
 * 2. By (chain, asset, direction, exact amount, counterparty), the leg whose block time is nearest the
 *    record's time within the window; a record whose own txid was not the one found (RBF, EVM speed-up)
 *    is `replaced`.
 * Unmatched legs: custody to custody → `internal`; else `pending` until final and past the grace period,
 * then `unexplained_outflow` / `unexplained_inflow`. Unmatched records: `pending` (or still `reorged`) until
 * the SLA has run out, then `missing_on_chain`. A matched movement's fee (the transaction's, on its first
 * out leg only, so a batch's fee counts once) above the ceiling adds the flag `fee_above_ceiling`. An extra
 * outflow of a transaction a record explains, in an asset with a fee ceiling and at most that ceiling (Solana
 * rent for a new token account), is `matched` to that record with the flag `transaction_cost`. An unexplained
 * inflow below its asset's dust floor carries the flags `dust` and `dust_window:<start ms>`.
 */
export function computeMovementMatches(p: ComputeMovementMatchesParameters): ComputeMovementMatchesReturnType {
  const byTx = new Map<string, PoolLeg[]>();
  // By (chain, asset, direction), then by exact amount: bigint Map keys compare by value, so no amount is
  // turned into a string (that conversion was a large part of a million-record pass).
  const byAmount = new Map<string, Map<bigint, PoolLeg[]>>();
  for (const l of p.legs) {
    if (l.leg.txid !== null) {
      const k = `${l.leg.chain}\u0000${l.leg.txid}`;
      const list = byTx.get(k);
      if (list) list.push(l);
      else byTx.set(k, [l]);
    }
    const k = `${l.leg.chain}\u0000${l.leg.asset}\u0000${l.leg.direction}`;
    let amounts = byAmount.get(k);
    if (!amounts) byAmount.set(k, (amounts = new Map()));
    const list = amounts.get(l.leg.amount);
    if (list) list.push(l);
    else amounts.set(l.leg.amount, [l]);
  }
  const taken = new Map<PoolLeg, string>();
  const records = [...p.records].sort((a, b) => a.record.timeMs - b.record.timeMs || (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
  const results = new Map<string, RecordResult>();
  const feeFlags = (leg: MatchLeg): string[] => {
    if (leg.fee === null || leg.feeAsset === null) return [];
    const ceiling = p.feeCeilings[leg.feeAsset];
    return ceiling !== undefined && leg.fee > ceiling ? ["fee_above_ceiling"] : [];
  };

  // 1. By txid.
  for (const pr of records) {
    const r = pr.record;
    if (r.txid === null) continue;
    const candidates = (byTx.get(`${r.chain}\u0000${r.txid}`) ?? []).filter((l) => !taken.has(l) && l.leg.asset === r.asset && fits(r.kind, l.leg));
    if (candidates.length === 0) continue;
    const exact = candidates.find((l) => l.leg.amount === r.amount && sameParty(r, l.leg));
    if (exact) {
      taken.set(exact, r.id);
      results.set(r.id, { record: r, outcome: "matched", leg: exact.leg, flags: feeFlags(exact.leg) });
      continue;
    }
    const party = candidates.find((l) => sameParty(r, l.leg)) ?? (candidates.length === 1 ? candidates[0] : undefined);
    if (party) {
      taken.set(party, r.id);
      results.set(r.id, { record: r, outcome: "amount_mismatch", leg: party.leg, flags: feeFlags(party.leg) });
    }
  }

  // 2. By attributes, nearest in time within the window.
  for (const pr of records) {
    const r = pr.record;
    if (results.has(r.id)) continue;
    const direction = r.kind === "deposit" ? "in" : "out";
    const list = byAmount.get(`${r.chain}\u0000${r.asset}\u0000${direction}`)?.get(r.amount);
    let best: PoolLeg | undefined;
    let bestDistance = Infinity;
    for (const l of list ?? []) {
      if (taken.has(l) || !fits(r.kind, l.leg) || !sameParty(r, l.leg)) continue;
      const d = Math.abs(l.leg.blockTimeMs - r.timeMs);
      if (d > p.windowMs) continue;
      if (d < bestDistance || (d === bestDistance && best !== undefined && (l.leg.height < best.leg.height || (l.leg.height === best.leg.height && l.leg.position < best.leg.position)))) {
        best = l;
        bestDistance = d;
      }
    }
    if (best) {
      taken.set(best, r.id);
      const replaced = r.txid !== null && best.leg.txid !== r.txid;
      results.set(r.id, { record: r, outcome: replaced ? "replaced" : "matched", leg: best.leg, flags: [...feeFlags(best.leg), ...(replaced ? ["txid_replaced"] : [])] });
    }
  }

  // Records left over.
  for (const pr of records) {
    const r = pr.record;
    if (results.has(r.id)) continue;
    const start = pr.current === "reorged" && pr.currentAtMs !== null ? Math.max(r.timeMs, pr.currentAtMs) : r.timeMs;
    const overdue = p.nowMs - start >= p.slaMs;
    const outcome: MovementOutcomeName = overdue ? "missing_on_chain" : pr.current === "reorged" ? "reorged" : "pending";
    results.set(r.id, { record: r, outcome, leg: null, flags: [] });
  }

  // Transactions a record explains: their small extra outflows in a fee asset (Solana rent for the user's new
  // token account) are costs of that withdrawal, at most the fee ceiling each; without a ceiling, none are.
  const explained = new Map<string, string>();
  for (const [l, recordId] of taken) if (l.leg.txid !== null && !explained.has(`${l.leg.chain}\u0000${l.leg.txid}`)) explained.set(`${l.leg.chain}\u0000${l.leg.txid}`, recordId);

  const legs: LegResult[] = p.legs.map((l) => {
    const recordId = taken.get(l);
    if (recordId !== undefined) return { leg: l.leg, outcome: results.get(recordId)!.outcome, recordId, flags: [] };
    if (l.leg.counterpartyWalletId !== null) return { leg: l.leg, outcome: "internal", recordId: null, flags: [] };
    const costOf = l.leg.direction === "out" && l.leg.txid !== null ? explained.get(`${l.leg.chain}\u0000${l.leg.txid}`) : undefined;
    const ceiling = p.feeCeilings[l.leg.asset];
    if (costOf !== undefined && ceiling !== undefined && l.leg.amount <= ceiling) return { leg: l.leg, outcome: "matched", recordId: costOf, flags: ["transaction_cost"] };
    const due = l.leg.final && p.nowMs - l.leg.seenAtMs >= p.graceMs;
    const outcome: MovementOutcomeName = !due ? "pending" : l.leg.direction === "out" ? "unexplained_outflow" : "unexplained_inflow";
    const floor = p.dustFloors?.[l.leg.asset];
    if (outcome === "unexplained_inflow" && floor !== undefined && l.leg.amount < floor) {
      // Unsolicited dust (J4, and the bait of address poisoning): thousands of them are one incident per
      // (chain, asset, window of block time), at info; the window start rides in the flags for the alert engine.
      const windowMs = p.dustWindowMs ?? 3_600_000;
      return { leg: l.leg, outcome, recordId: null, flags: [MOVEMENT_FLAGS.dust, `dust_window:${Math.floor(l.leg.blockTimeMs / windowMs) * windowMs}`] };
    }
    return { leg: l.leg, outcome, recordId: null, flags: feeFlags(l.leg) };
  });
  return { records: records.map((pr) => results.get(pr.record.id)!), legs };
}
