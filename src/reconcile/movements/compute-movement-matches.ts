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

/** Per direction, a chain and asset's legs (positions in the legs given) by exact amount. */
type AmountIndex = { in: Map<bigint, number[]>; out: Map<bigint, number[]> };

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
  // Legs are named by their position in p.legs: the indexes hold positions, and takenBy[k] is the result of the
  // record leg k explains (an array, not a Map keyed by leg objects: no identity hash per leg).
  const L = p.legs;
  const takenBy: (RecordResult | undefined)[] = new Array(L.length);
  const takenOrder: number[] = [];
  // Index by txid. Keys are the legs' own strings (no key string is built per leg or record: concatenations were a
  // large part of a 200,000-record pass).
  const byTx = new Map<string, number[]>();
  for (let k = 0; k < L.length; k++) {
    const txid = L[k]!.leg.txid;
    if (txid === null) continue;
    const list = byTx.get(txid);
    if (list) list.push(k);
    else byTx.set(txid, [k]);
  }
  const records = [...p.records].sort((a, b) => a.record.timeMs - b.record.timeMs || (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
  // results[i]: the outcome of records[i].
  const results: (RecordResult | undefined)[] = new Array(records.length);
  const feeFlags = (leg: MatchLeg): string[] => {
    if (leg.fee === null || leg.feeAsset === null) return [];
    const ceiling = p.feeCeilings[leg.feeAsset];
    return ceiling !== undefined && leg.fee > ceiling ? ["fee_above_ceiling"] : [];
  };
  const take = (k: number, res: RecordResult) => {
    takenBy[k] = res;
    takenOrder.push(k);
  };

  // 1. By txid: among the legs of the record's transaction not yet taken, of its chain and asset and kind-compatible,
  // the first with its amount and counterparty, else the first with its counterparty, else the only one.
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!.record;
    if (r.txid === null) continue;
    const list = byTx.get(r.txid);
    if (list === undefined) continue;
    let exact = -1;
    let party = -1;
    let only = -1;
    let count = 0;
    for (const k of list) {
      const leg = L[k]!.leg;
      if (leg.chain !== r.chain || takenBy[k] !== undefined || leg.asset !== r.asset || !fits(r.kind, leg)) continue;
      count++;
      if (count === 1) only = k;
      if (sameParty(r, leg)) {
        if (leg.amount === r.amount) {
          exact = k;
          break;
        }
        if (party === -1) party = k;
      }
    }
    if (exact !== -1) {
      const leg = L[exact]!.leg;
      take(exact, (results[i] = { record: r, outcome: "matched", leg, flags: feeFlags(leg) }));
      continue;
    }
    const chosen = party !== -1 ? party : count === 1 ? only : -1;
    if (chosen !== -1) {
      const leg = L[chosen]!.leg;
      take(chosen, (results[i] = { record: r, outcome: "amount_mismatch", leg, flags: feeFlags(leg) }));
    }
  }

  // Index by chain, asset and direction, then exact amount, of the legs step 1 left (nested maps of the legs' own
  // strings; bigint Map keys compare by value, so no amount is turned into a string). Built only if a record is left.
  const byAmount = new Map<string, Map<string, AmountIndex>>();
  if (results.includes(undefined)) {
    for (let k = 0; k < L.length; k++) {
      if (takenBy[k] !== undefined) continue;
      const leg = L[k]!.leg;
      let assets = byAmount.get(leg.chain);
      if (!assets) byAmount.set(leg.chain, (assets = new Map()));
      let index = assets.get(leg.asset);
      if (!index) assets.set(leg.asset, (index = { in: new Map(), out: new Map() }));
      const amounts = index[leg.direction];
      const list = amounts.get(leg.amount);
      if (list) list.push(k);
      else amounts.set(leg.amount, [k]);
    }
  }

  // 2. By attributes, nearest in time within the window.
  for (let i = 0; i < records.length; i++) {
    if (results[i] !== undefined) continue;
    const r = records[i]!.record;
    const list = byAmount.get(r.chain)?.get(r.asset)?.[r.kind === "deposit" ? "in" : "out"].get(r.amount);
    if (list === undefined) continue;
    let best = -1;
    let bestLeg: MatchLeg | undefined;
    let bestDistance = Infinity;
    for (const k of list) {
      if (takenBy[k] !== undefined) continue;
      const leg = L[k]!.leg;
      if (!fits(r.kind, leg) || !sameParty(r, leg)) continue;
      const d = Math.abs(leg.blockTimeMs - r.timeMs);
      if (d > p.windowMs) continue;
      if (d < bestDistance || (d === bestDistance && bestLeg !== undefined && (leg.height < bestLeg.height || (leg.height === bestLeg.height && leg.position < bestLeg.position)))) {
        best = k;
        bestLeg = leg;
        bestDistance = d;
      }
    }
    if (bestLeg !== undefined) {
      const replaced = r.txid !== null && bestLeg.txid !== r.txid;
      take(best, (results[i] = { record: r, outcome: replaced ? "replaced" : "matched", leg: bestLeg, flags: replaced ? [...feeFlags(bestLeg), "txid_replaced"] : feeFlags(bestLeg) }));
    }
  }

  // Records left over.
  for (let i = 0; i < records.length; i++) {
    if (results[i] !== undefined) continue;
    const pr = records[i]!;
    const r = pr.record;
    const start = pr.current === "reorged" && pr.currentAtMs !== null ? Math.max(r.timeMs, pr.currentAtMs) : r.timeMs;
    const overdue = p.nowMs - start >= p.slaMs;
    const outcome: MovementOutcomeName = overdue ? "missing_on_chain" : pr.current === "reorged" ? "reorged" : "pending";
    results[i] = { record: r, outcome, leg: null, flags: [] };
  }

  // Transactions a record explains: their small extra outflows in a fee asset (Solana rent for the user's new
  // token account) are costs of that withdrawal, at most the fee ceiling each; without a ceiling, none are.
  // Only with a fee ceiling can a leg be such a cost: without any, no transaction's legs are collected.
  const anyCeiling = Object.keys(p.feeCeilings).length > 0;
  const explained = new Map<string, Map<string, string>>(); // chain → txid → record id
  if (anyCeiling) {
    for (const k of takenOrder) {
      const leg = L[k]!.leg;
      if (leg.txid === null) continue;
      let txids = explained.get(leg.chain);
      if (!txids) explained.set(leg.chain, (txids = new Map()));
      if (!txids.has(leg.txid)) txids.set(leg.txid, takenBy[k]!.record.id);
    }
  }

  const legs: LegResult[] = new Array(L.length);
  for (let k = 0; k < L.length; k++) legs[k] = legResult(L[k]!, takenBy[k]);
  return { records: results as RecordResult[], legs };

  function legResult(l: PoolLeg, res: RecordResult | undefined): LegResult {
    if (res !== undefined) return { leg: l.leg, outcome: res.outcome, recordId: res.record.id, flags: [] };
    if (l.leg.counterpartyWalletId !== null) return { leg: l.leg, outcome: "internal", recordId: null, flags: [] };
    const costOf = anyCeiling && l.leg.direction === "out" && l.leg.txid !== null ? explained.get(l.leg.chain)?.get(l.leg.txid) : undefined;
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
  }
}
