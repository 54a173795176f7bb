import type { ResolvedMovements } from "../../lib/config.js";
import type { Logger } from "../../lib/logger.js";
import {
  loadCurrentOutcomeHeadsByNameIn, loadCurrentOutcomesByNameIn, loadCurrentOutcomesIn, loadCurrentOutcomesInRangeIn, loadLegsIn, loadMovementCursorIn, loadOpenMovementRecordsIn,
  loadRecordCounterpartiesLikeIn, loadUnattributedOutflowsIn, saveMovementCursorIn, saveMovementOutcomesIn, saveMovementRecordsOpenIn,
  type Db, type LegWithTime, type MovementOutcomeHead, type MovementOutcomeInput, type MovementOutcomeRow, type Store, type UnattributedOutflow,
} from "../../store/index.js";
import { computeAddressAffixes, computeLookAlike } from "./compute-look-alike.js";
import { computeMovementMatches, type PoolLeg, type PoolRecord } from "./compute-movement-matches.js";
import { MOVEMENT_FLAGS, OUTCOME_SEVERITY, type MatchLeg, type MovementOutcomeName } from "./movement-types.js";

/** Leg outcomes that keep a leg in the matcher's pool (a record may still explain it). */
const POOLED_LEG_OUTCOMES = ["pending", "unexplained_outflow", "unexplained_inflow", "unknown_counterparty"] as const;
/** The outcomes an open record's current row can have (pending: back inside its SLA when a pass runs with an earlier clock). */
const OPEN_RECORD_OUTCOMES = ["missing_on_chain", "reorged", "pending"] as const;
const RECORD_PREFIX = "record:";
/** Record outcomes that close a record. */
const CLOSING: ReadonlySet<MovementOutcomeName> = new Set(["matched", "replaced", "amount_mismatch"]);

export type MatchMovementsParameters = {
  settings: ResolvedMovements;
  /** Chains whose new legs to take in (default: every chain with a cursor). */
  chains: readonly string[];
  nowMs: number;
  logger?: Logger;
  /**
   * Also take in legs at heights the matcher has passed, from `fromHeight` up to its cursor (a late-added
   * wallet's backfilled history): legs a current outcome row already names are skipped.
   */
  rescan?: { chain: string; fromHeight: number };
};

export type MatchMovementsReturnType = { transitions: MovementOutcomeInput[]; newLegs: number; pooledRecords: number };

/**
 * One matching pass, inside the caller's transaction `db` (a block's, an import's, or a periodic tick's):
 * takes in the legs of blocks indexed since the last pass, matches every open record and every pooled leg
 * (computeMovementMatches), and writes the outcomes that changed, closing matched records. Unexplained
 * outflows are logged at error level. Idempotent: a second pass at the same time writes nothing.
 * @throws the store's typed errors
 */
export async function matchMovementsIn(store: Store, db: Db, p: MatchMovementsParameters): Promise<MatchMovementsReturnType> {
  // One matcher at a time across processes (an import while `start` follows): a subject's current row is unique.
  if (store.dialect === "postgres") await (db as unknown as { execute: (q: string) => Promise<unknown> }).execute("SELECT pg_advisory_xact_lock(4242014)");
  const { t } = store;
  const windowMs = p.settings.windowSeconds * 1000;
  // Every chain's finalized height, not only the passed chains': the pool holds every chain's legs, and a leg
  // read without its chain's finality would count as unfinalized (an unexplained outflow flipping back to
  // pending on every other chain's block, and unexplained again on its own chain's).
  const cursors = new Map((await db.select().from(t.chainCursors)).map((c) => [c.chain, c]));
  const finalized = new Map<string, number | null>([...cursors].map(([chain, c]) => [chain, c.finalizedHeight === null ? null : Number(c.finalizedHeight)]));
  const legs = new Map<string, PoolLeg>();
  let newLegs = 0;
  for (const chain of p.chains) {
    const cursor = cursors.get(chain);
    if (!cursor) continue;
    const after = await loadMovementCursorIn(store, db, chain);
    if (after !== null && after >= Number(cursor.height)) continue;
    const rows = await loadLegsIn(store, db, { chain, afterHeight: after, toHeight: Number(cursor.height) });
    for (const leg of buildMatchLegs(rows, { nowMs: p.nowMs, finalizedHeight: finalized.get(chain) ?? null })) {
      legs.set(leg.subject, { leg, current: null });
      newLegs++;
    }
    await saveMovementCursorIn(store, db, { chain, height: Number(cursor.height) });
  }
  if (p.rescan) newLegs += await rescanLegsIn(store, db, { ...p.rescan, nowMs: p.nowMs, finalizedHeight: finalized.get(p.rescan.chain) ?? null, legs });
  const pooled = [
    ...(await loadCurrentOutcomesByNameIn(store, db, { outcomes: POOLED_LEG_OUTCOMES, subjectPrefix: "leg:" })),
    // Custody-to-custody legs stay matchable by a late internal_transfer / sweep record within the window.
    ...(await loadCurrentOutcomesByNameIn(store, db, { outcomes: ["internal"], subjectPrefix: "leg:", minBlockTimeMs: p.nowMs - windowMs })),
  ];
  const pooledRows = new Map<string, MovementOutcomeRow>();
  for (const row of pooled) {
    if (legs.has(row.subject)) continue;
    pooledRows.set(row.subject, row);
    const fin = finalized.get(row.chain);
    legs.set(row.subject, { leg: legFromRow(row, fin === undefined ? null : fin), current: row.outcome as MovementOutcomeName });
  }

  const open = await loadOpenMovementRecordsIn(store, db);
  // An open record's current row, when it has one, is missing_on_chain, reorged or pending (most pending records have none,
  // matched ones are closed): one indexed query instead of a lookup per open record.
  // Keyed by record id (the subject without its `record:` prefix): looked up by the record's own id string, no key built per record.
  const currentRecordRows = new Map<string, MovementOutcomeHead>();
  for (const r of await loadCurrentOutcomeHeadsByNameIn(store, db, { outcomes: OPEN_RECORD_OUTCOMES, subjectPrefix: RECORD_PREFIX })) currentRecordRows.set(r.subject.slice(RECORD_PREFIX.length), r);
  // The stored row is the record (a superset of its fields): no copy per record.
  // heads[i]: open[i]'s current row (the matcher returns records oldest first, the order they are read in, so the
  // write loop below finds a record's row by position when the record there is the same object).
  const heads: (MovementOutcomeHead | undefined)[] = new Array(open.length);
  const records: PoolRecord[] = open.map((r, i) => {
    const row = currentRecordRows.size ? currentRecordRows.get(r.id) : undefined;
    heads[i] = row;
    return { record: r as unknown as PoolRecord["record"], current: (row?.outcome as MovementOutcomeName | undefined) ?? null, currentAtMs: row?.atMs ?? null };
  });

  const result = computeMovementMatches({
    records, legs: [...legs.values()], nowMs: p.nowMs, graceMs: p.settings.graceSeconds * 1000, slaMs: p.settings.slaSeconds * 1000,
    windowMs, feeCeilings: p.settings.feeCeilings, dustFloors: p.settings.dustFloors, dustWindowMs: (p.settings.dustWindowSeconds ?? 3600) * 1000,
  });
  // J8: records no leg explains whose transaction left only an unexplained outflow (gas) on chain.
  const unexplainedTx = result.records.filter((r) => r.record.txid !== null && r.record.kind !== "deposit" && !CLOSING.has(r.outcome)
    && !currentRecordRows.get(r.record.id)?.flags.includes(MOVEMENT_FLAGS.failedOnChain));
  const gasOnly = unexplainedTx.length ? await loadUnattributedOutflowsIn(store, db, { txids: unexplainedTx.map((r) => ({ chain: r.record.chain, txid: r.record.txid! })) }) : [];
  const failed = computeFailedTransactions(unexplainedTx, gasOnly, p.settings.feeCeilings);

  const out: MovementOutcomeInput[] = [];
  const close: string[] = [];
  // Subjects written below that have no current row (an open record without one): nothing to clear.
  const fresh = new Set<string>();
  for (let i = 0; i < result.records.length; i++) {
    const r = result.records[i]!;
    const prev = (r.record as unknown) === open[i] ? heads[i] : currentRecordRows.get(r.record.id);
    const prevName = (prev?.outcome as MovementOutcomeName | undefined) ?? "pending";
    const gas = failed.size ? failed.get(r.record.id) : undefined;
    if (gas) {
      // J8: the record's transaction is on chain and failed: missing_on_chain at once (no SLA to wait for: it will
      // not confirm), naming the failed txid and block; its gas is a custody outflow the record explains.
      r.outcome = "missing_on_chain";
      r.leg = gas;
      r.flags = [MOVEMENT_FLAGS.failedOnChain];
      out.push({ ...legOutcome(gas, "matched", p.nowMs, [MOVEMENT_FLAGS.failedOnChain, MOVEMENT_FLAGS.transactionCost]), recordId: r.record.id });
    } else if (prev?.flags.includes(MOVEMENT_FLAGS.failedOnChain) && !CLOSING.has(r.outcome)) {
      continue; // still failed: a later transaction matching the record (a retry) replaces this
    }
    if (prevName === r.outcome && (r.leg === null || prev?.blockHash === r.leg.blockHash)) continue;
    if (CLOSING.has(r.outcome)) close.push(r.record.id);
    const subject = RECORD_PREFIX + r.record.id;
    if (!prev) fresh.add(subject);
    const leg = r.leg;
    // Fields written out (not spread from legFields): one object per record instead of two.
    out.push({
      subject, outcome: r.outcome, severity: OUTCOME_SEVERITY[r.outcome], recordId: r.record.id, kind: r.record.kind,
      chain: r.record.chain, asset: r.record.asset, amount: r.record.amount, recordTimeMs: r.record.timeMs, flags: r.flags, atMs: p.nowMs,
      chainAmount: leg?.amount ?? null, fee: leg?.fee ?? null, feeAsset: leg?.feeAsset ?? null, direction: leg?.direction ?? null,
      height: leg?.height ?? null, blockHash: leg?.blockHash ?? null, position: leg?.position ?? null, walletId: leg?.walletId ?? null,
      counterpartyWalletId: leg?.counterpartyWalletId ?? null, blockTimeMs: leg?.blockTimeMs ?? null, seenAtMs: leg?.seenAtMs ?? null,
      counterparty: leg?.counterparty ?? r.record.counterparty,
      txid: leg?.txid ?? r.record.txid,
    });
  }
  const lookAlikeChars = p.settings.lookAlikeChars ?? 4;
  for (const l of result.legs) {
    const prev = pooledRows.get(l.leg.subject);
    if (l.outcome === "unexplained_outflow" && lookAlikeChars > 0 && l.leg.counterparty !== null) {
      if (prev?.outcome === "unknown_counterparty") continue; // checked when it became unexplained
      if (prev?.outcome !== "unexplained_outflow") {
        // J5, address poisoning: an unexplained outflow to an address that shares its first and last characters
        // with a counterparty the records know is not just unexplained: it names the address it imitates.
        const looksLike = await findLookAlikeIn(store, db, { chain: l.leg.chain, address: l.leg.counterparty, chars: lookAlikeChars });
        if (looksLike !== null) {
          l.outcome = "unknown_counterparty";
          l.flags = [...l.flags, `looks_like:${looksLike}`];
        }
      }
    }
    if (l.recordId !== null) {
      // A leg that was pending or unexplained is now explained: its own subject says so (the incident resolves).
      // A transaction cost (rent) is written too: the outflow is accounted to its record, visibly.
      if (prev || l.flags.includes("transaction_cost")) out.push({ ...legOutcome(l.leg, "matched", p.nowMs, l.flags), recordId: l.recordId });
      continue;
    }
    if (prev?.outcome === l.outcome) continue;
    out.push(legOutcome(l.leg, l.outcome, p.nowMs, l.flags));
  }
  // An open record's only possible current rows are OPEN_RECORD_OUTCOMES (the others close it): without
  // one it has none to clear. Legs are always cleared (a transaction mined again after a reorg has a `reorged` row).
  const isNew = (subject: string) => fresh.has(subject);
  if (out.length) await saveMovementOutcomesIn(store, db, out, { isNew });
  if (close.length) await saveMovementRecordsOpenIn(store, db, { ids: close, open: false });
  for (const o of out) {
    if (o.outcome === "unknown_counterparty") {
      p.logger?.error({ msg: "custody outflow to a look-alike of a known counterparty", chain: o.chain, block: o.height, txid: o.txid, asset: o.asset, amount: o.chainAmount?.toString(), counterparty: o.counterparty, looks_like: o.flags.find((f) => f.startsWith("looks_like:"))?.slice(11), subject: o.subject });
    } else if (o.outcome === "unexplained_outflow") {
      p.logger?.error({ msg: "unexplained custody outflow", chain: o.chain, block: o.height, block_hash: o.blockHash, txid: o.txid, asset: o.asset, amount: o.chainAmount?.toString(), counterparty: o.counterparty, wallet_id: o.walletId, subject: o.subject });
    } else if (o.outcome === "amount_mismatch" || o.outcome === "missing_on_chain" || o.outcome === "unexplained_inflow") {
      p.logger?.warn({ msg: `movement ${o.outcome}`, chain: o.chain, block: o.height, txid: o.txid, asset: o.asset, record_id: o.recordId, subject: o.subject });
    } else if (o.flags.includes("fee_above_ceiling")) {
      p.logger?.warn({ msg: "transaction fee above the configured ceiling", chain: o.chain, block: o.height, txid: o.txid, fee: o.fee?.toString(), fee_asset: o.feeAsset });
    }
  }
  return { transitions: out, newLegs, pooledRecords: open.length };
}

function legFields(leg: MatchLeg | null) {
  return {
    chainAmount: leg?.amount ?? null, fee: leg?.fee ?? null, feeAsset: leg?.feeAsset ?? null, direction: leg?.direction ?? null,
    height: leg?.height ?? null, blockHash: leg?.blockHash ?? null, position: leg?.position ?? null, walletId: leg?.walletId ?? null,
    counterpartyWalletId: leg?.counterpartyWalletId ?? null, blockTimeMs: leg?.blockTimeMs ?? null, seenAtMs: leg?.seenAtMs ?? null,
  };
}

function legOutcome(leg: MatchLeg, outcome: MovementOutcomeName, nowMs: number, flags: string[]): MovementOutcomeInput {
  return {
    subject: leg.subject, outcome, severity: flags.includes(MOVEMENT_FLAGS.dust) ? "info" : OUTCOME_SEVERITY[outcome], recordId: null, kind: null, chain: leg.chain, asset: leg.asset,
    amount: null, recordTimeMs: null, flags, atMs: nowMs, ...legFields(leg), counterparty: leg.counterparty, txid: leg.txid,
  };
}

function legFromRow(row: MovementOutcomeRow, finalizedHeight: number | null): MatchLeg {
  return {
    subject: row.subject, chain: row.chain, height: row.height!, blockHash: row.blockHash!, blockTimeMs: row.blockTimeMs!, txid: row.txid,
    position: row.position!, walletId: row.walletId!, asset: row.asset, direction: row.direction as "in" | "out", amount: row.chainAmount!,
    counterparty: row.counterparty, counterpartyWalletId: row.counterpartyWalletId, fee: row.fee, feeAsset: row.feeAsset,
    seenAtMs: row.seenAtMs ?? row.atMs, final: finalizedHeight !== null && row.height! <= finalizedHeight,
  };
}

/**
 * The matcher's legs of a run of stored legs (block and position order): fee legs become the fee of
 * their transaction's first out leg; a custody wallet's incoming side of an internal movement is
 * dropped (its outgoing side stands for it). Subjects: `leg:<chain>:<txid>:<rank in the transaction>`,
 * the same when the transaction is mined again in another block. Pure.
 */
export function buildMatchLegs(rows: readonly LegWithTime[], p: { nowMs: number; finalizedHeight: number | null }): MatchLeg[] {
  const fees = new Map<string, { amount: bigint; asset: string }>();
  for (const r of rows) {
    if (r.direction !== "fee" || r.txid === null) continue;
    const k = `${r.blockHash}\u0000${r.txid}`;
    const f = fees.get(k);
    if (f && f.asset === r.asset) f.amount += r.amount;
    else if (!f) fees.set(k, { amount: r.amount, asset: r.asset });
  }
  // Per block hash, per txid: the rank of the next leg, and whether the transaction's fee was given (nested maps, the
  // block's looked up only when the block changes: no key string built per leg).
  const blocks = new Map<string, { rank: Map<string | null, number>; feeGiven: Set<string> }>();
  let block: { rank: Map<string | null, number>; feeGiven: Set<string> } | undefined;
  let blockHash: string | undefined;
  const out: MatchLeg[] = [];
  for (const r of rows) {
    if (block === undefined || r.blockHash !== blockHash) {
      blockHash = r.blockHash;
      block = blocks.get(blockHash);
      if (!block) blocks.set(blockHash, (block = { rank: new Map(), feeGiven: new Set() }));
    }
    const n = block.rank.get(r.txid) ?? 0;
    block.rank.set(r.txid, n + 1);
    if (r.direction === "fee") continue;
    if (r.direction === "in" && r.counterpartyWalletId !== null) continue;
    let fee: bigint | null = null;
    let feeAsset: string | null = null;
    if (r.direction === "out" && r.txid !== null && !block.feeGiven.has(r.txid)) {
      block.feeGiven.add(r.txid);
      const f = fees.size ? fees.get(`${r.blockHash}\u0000${r.txid}`) : undefined;
      if (f) {
        fee = f.amount;
        feeAsset = f.asset;
      }
    }
    out.push({
      subject: r.txid === null ? `leg:${r.chain}:${r.blockHash}:${r.position}` : `leg:${r.chain}:${r.txid}:${n}`,
      chain: r.chain, height: r.height, blockHash: r.blockHash, blockTimeMs: r.blockTime * 1000, txid: r.txid, position: r.position,
      walletId: r.walletId, asset: r.asset, direction: r.direction, amount: r.amount, counterparty: r.counterparty,
      counterpartyWalletId: r.counterpartyWalletId, fee, feeAsset, seenAtMs: p.nowMs,
      final: p.finalizedHeight !== null && r.height <= p.finalizedHeight,
    });
  }
  return out;
}

/** The known counterparty of a chain's records an address imitates (see computeLookAlike), or null. */
async function findLookAlikeIn(store: Store, db: Db, p: { chain: string; address: string; chars: number }): Promise<string | null> {
  const a = computeAddressAffixes(p.address, p.chars);
  if (!a) return null;
  const known = await loadRecordCounterpartiesLikeIn(store, db, { chain: p.chain, address: p.address, head: a.prefix + a.head, tail: a.tail });
  return computeLookAlike(p.address, known, p.chars);
}

/**
 * Records whose transaction failed on chain (J8), with the gas leg that stands for it. The EVM indexer reads no
 * receipts: a failed transaction from a custody wallet shows as an unexplained native outflow of its block that
 * names that transaction as its only candidate and is gas-sized (at most the fee ceiling of its asset when one is
 * configured; for a native withdrawal, less than the amount, which a success would have moved), with no value leg
 * (the record did not match it). Only records no leg explains and of an outgoing kind are considered. Pure.
 */
export function computeFailedTransactions(
  records: ReadonlyArray<{ record: { id: string; kind: string; chain: string; asset: string; amount: bigint; txid: string | null }; outcome: MovementOutcomeName }>,
  gasOnly: readonly UnattributedOutflow[],
  feeCeilings: Readonly<Record<string, bigint>>,
): Map<string, MatchLeg> {
  const out = new Map<string, MatchLeg>();
  if (!gasOnly.length) return out;
  const byTx = new Map<string, UnattributedOutflow>();
  for (const u of gasOnly) if (u.candidates.length === 1) byTx.set(`${u.chain}\u0000${u.candidates[0]}`, u);
  for (const r of records) {
    if (r.record.txid === null || r.record.kind === "deposit" || CLOSING.has(r.outcome)) continue;
    const u = byTx.get(`${r.record.chain}\u0000${r.record.txid}`);
    if (!u) continue;
    const gas = -u.delta;
    const ceiling = feeCeilings[u.asset];
    if (ceiling !== undefined ? gas > ceiling : r.record.asset === u.asset && gas >= r.record.amount) continue;
    out.set(r.record.id, {
      subject: `leg:${u.chain}:${r.record.txid}:gas`, chain: u.chain, height: u.height, blockHash: u.blockHash, blockTimeMs: u.blockTime * 1000,
      txid: r.record.txid, position: -1, walletId: u.walletId, asset: u.asset, direction: "out", amount: gas, counterparty: null,
      counterpartyWalletId: null, fee: gas, feeAsset: u.asset, seenAtMs: 0, final: false,
    });
  }
  return out;
}

/**
 * Takes in the legs at heights [fromHeight, the chain's movement cursor] that no current outcome row names
 * (by block hash, wallet and position): a late-added wallet's backfilled history. Subjects are computed from
 * every leg of those blocks, as the follow path does; one already held by another leg gets a `:w<wallet>:<position>` suffix.
 */
async function rescanLegsIn(store: Store, db: Db, p: {
  chain: string; fromHeight: number; nowMs: number; finalizedHeight: number | null; legs: Map<string, PoolLeg>;
}): Promise<number> {
  const to = await loadMovementCursorIn(store, db, p.chain);
  if (to === null || to < p.fromHeight) return 0;
  const known = new Set((await loadCurrentOutcomesInRangeIn(store, db, { chain: p.chain, fromHeight: p.fromHeight, toHeight: to }))
    .map((r) => `${r.blockHash}\u0000${r.walletId}\u0000${r.position}`));
  const rows = await loadLegsIn(store, db, { chain: p.chain, afterHeight: p.fromHeight - 1, toHeight: to });
  const fresh = buildMatchLegs(rows, { nowMs: p.nowMs, finalizedHeight: p.finalizedHeight })
    .filter((l) => !known.has(`${l.blockHash}\u0000${l.walletId}\u0000${l.position}`));
  const taken = await loadCurrentOutcomesIn(store, db, fresh.map((l) => l.subject));
  for (const leg of fresh) {
    const subject = taken.has(leg.subject) ? `${leg.subject}:w${leg.walletId}:${leg.position}` : leg.subject;
    p.legs.set(subject, { leg: { ...leg, subject }, current: null });
  }
  return fresh.length;
}
