import type { ResolvedMovements } from "../../lib/config.js";
import type { Logger } from "../../lib/logger.js";
import {
  loadCurrentOutcomesAboveIn, loadMovementCursorIn, saveMovementCursorIn, saveMovementOutcomesIn, saveMovementRecordsOpenIn,
  type BlockEventSink, type Db, type Store,
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
    },
    async onBlocksRolledBack(db, store, e) {
      await markReorgedIn(store, db, { chain: e.chain, toHeight: e.toHeight, nowMs: now(), logger: p.logger });
    },
  };
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
