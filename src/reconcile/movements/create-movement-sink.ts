import type { ResolvedMovements } from "../../lib/config.js";
import type { Logger } from "../../lib/logger.js";
import {
  loadCurrentOutcomesAboveIn, loadCurrentOutcomesInRangeIn, loadMovementCursorIn, loadTransfersIn, saveMovementCursorIn, saveMovementOutcomesIn, saveMovementRecordsOpenIn,
  type BlockEventSink, type Db, type MovementOutcomeInput, type Store,
} from "../../store/index.js";
import { matchMovementsIn } from "./match-movements.js";
import { MOVEMENT_FLAGS, OUTCOME_SEVERITY } from "./movement-types.js";

export type CreateMovementSinkParameters = {
  settings: ResolvedMovements;
  /** The chains reconciled against records (resolveReconciledChains): blocks of other chains run no pass. */
  chains: readonly string[];
  logger?: Logger;
  /** Clock (unix ms); default Date.now. */
  now?: () => number;
};

/**
 * The movement matcher as a block-event sink (src/store/block-events.ts): every block the follower
 * stores runs a matching pass in the block's own transaction (a movement's outcome commits with its
 * block; measured latency is the transaction's), and a rollback marks every matched movement of the
 * removed blocks `reorged` (its record back in the pool until the movement reappears) in the rollback's
 * transaction; a wallet backfill (a wallet added late) runs a pass that also takes in its legs below the
 * matcher's cursor. Register with addBlockEventSink.
 */
export function createMovementSink(p: CreateMovementSinkParameters): BlockEventSink {
  const now = p.now ?? Date.now;
  return {
    name: "movements",
    async onBlockApplied(db, store, e) {
      if (!p.chains.includes(e.chain)) return;
      await matchMovementsIn(store, db, { settings: p.settings, chains: [e.chain], nowMs: now(), logger: p.logger });
    },
    async onWalletBackfilled(db, store, e) {
      if (!p.chains.includes(e.chain)) return;
      await matchMovementsIn(store, db, { settings: p.settings, chains: [e.chain], nowMs: now(), logger: p.logger, rescan: { chain: e.chain, fromHeight: e.fromHeight } });
      await markTransfersWithBackfilledIn(store, db, { chain: e.chain, walletId: e.walletId, fromHeight: e.fromHeight, toHeight: e.toHeight, nowMs: now(), logger: p.logger });
    },
    async onBlocksRolledBack(db, store, e) {
      await markReorgedIn(store, db, { chain: e.chain, toHeight: e.toHeight, nowMs: now(), logger: p.logger });
    },
  };
}

/** Outcomes a leg between custody and a wallet not yet configured can have: a movement across custody's edge. */
const ACROSS_EDGE: Record<"in" | "out", ReadonlySet<string>> = {
  out: new Set(["pending", "unexplained_outflow", "unknown_counterparty"]),
  in: new Set(["pending", "unexplained_inflow"]),
};

/**
 * Inside a wallet backfill's transaction, after its matching pass: a transfer between another custody wallet
 * and the wallet backfilled was, when the other wallet's leg was stored, a movement across custody's edge (the
 * new wallet was not configured): an outflow or an inflow, pending, or unexplained once past the grace
 * period. The backfill names the other wallet on the new wallet's leg (counterparty_wallet_id); the other
 * wallet's leg of the same transaction (opposite direction, same block and amount) becomes `internal`,
 * naming the new wallet, which resolves an alert it raised. Each stored leg answers one backfilled leg.
 */
export async function markTransfersWithBackfilledIn(store: Store, db: Db, p: { chain: string; walletId: number; fromHeight: number; toHeight: number; nowMs: number; logger?: Logger }): Promise<number> {
  const legs = (await loadTransfersIn(store, db, { chain: p.chain, walletId: p.walletId, fromHeight: p.fromHeight, toHeight: p.toHeight }))
    .filter((x) => x.direction !== "fee" && x.txid !== null && (x.counterpartyWalletId ?? null) !== null && x.counterpartyWalletId !== p.walletId);
  if (!legs.length) return 0;
  const rows = (await loadCurrentOutcomesInRangeIn(store, db, { chain: p.chain, fromHeight: p.fromHeight, toHeight: p.toHeight }))
    .filter((r) => r.subject.startsWith("leg:") && r.counterpartyWalletId === null && (r.direction === "in" || r.direction === "out") && ACROSS_EDGE[r.direction].has(r.outcome));
  const taken = new Set<string>();
  const out: MovementOutcomeInput[] = [];
  for (const x of legs) {
    const other = x.direction === "in" ? "out" : "in";
    const r = rows.find((r) => !taken.has(r.subject) && r.direction === other && r.txid === x.txid && r.walletId === x.counterpartyWalletId && r.blockHash === x.blockHash && r.asset === x.asset && r.chainAmount === x.amount);
    if (!r) continue;
    taken.add(r.subject);
    const { id: _id, current: _c, ...row } = r;
    out.push({ ...row, outcome: "internal", severity: OUTCOME_SEVERITY.internal, counterpartyWalletId: p.walletId, atMs: p.nowMs });
    p.logger?.info({ msg: "movement with a wallet configured later: internal", chain: r.chain, block: r.height, txid: r.txid, wallet_id: r.walletId, direction: r.direction, counterparty_wallet_id: p.walletId, was: r.outcome });
  }
  if (out.length) await saveMovementOutcomesIn(store, db, out);
  return out.length;
}

/**
 * Inside a rollback's transaction: every current outcome naming a movement above `toHeight` gets a
 * `reorged` successor (records: reopened; legs: gone until their transaction is mined again, under the
 * same subject), and the chain's movement cursor moves back.
 */
export async function markReorgedIn(store: Store, db: Db, p: { chain: string; toHeight: number; nowMs: number; logger?: Logger }): Promise<number> {
  const rows = await loadCurrentOutcomesAboveIn(store, db, { chain: p.chain, height: p.toHeight });
  // `failed_on_chain` goes with the block that showed the failure: the transaction may be mined again
  // elsewhere (failed or not), and a record still flagged would never be looked at again.
  const out = rows.map(({ id: _id, current: _c, ...r }) => ({
    ...r, flags: r.flags.filter((f) => f !== MOVEMENT_FLAGS.failedOnChain), outcome: "reorged", severity: OUTCOME_SEVERITY.reorged, atMs: p.nowMs,
  }));
  if (out.length) await saveMovementOutcomesIn(store, db, out);
  const reopen = rows.filter((r) => r.recordId !== null && r.subject === `record:${r.recordId}`).map((r) => r.recordId!);
  if (reopen.length) await saveMovementRecordsOpenIn(store, db, { ids: reopen, open: true });
  const cursor = await loadMovementCursorIn(store, db, p.chain);
  if (cursor !== null && cursor > p.toHeight) await saveMovementCursorIn(store, db, { chain: p.chain, height: p.toHeight });
  for (const r of rows) if (r.recordId !== null) p.logger?.warn({ msg: "matched movement reorged away", chain: r.chain, block: r.height, block_hash: r.blockHash, txid: r.txid, record_id: r.recordId });
  return out.length;
}
