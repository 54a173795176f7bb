import type { BlockRef, TransferInput } from "./chain-data.js";
import type { Db, Store } from "./open-store.js";

/** One stored balance change of a block, as written: base units, the exact balance after it. */
export type StoredChange = { walletId: number; asset: string; txid: string | null; delta: bigint; balanceAfter: bigint };

/** A block the store has just applied (inside its transaction, not yet committed). */
export type BlockAppliedEvent = {
  chain: string;
  block: BlockRef;
  /** True when the chain had no cursor before this block: its changes are opening balances, not movements. */
  first: boolean;
  changes: readonly StoredChange[];
  transfers: readonly TransferInput[];
  /** The chain's recorded finalized height before and after this block (never decreases). */
  finalizedBefore: number | null;
  finalizedAfter: number | null;
};

/** A rollback the store is applying (inside its transaction): every block above `toHeight` is removed. */
export type BlocksRolledBackEvent = {
  chain: string;
  /** The cursor's height before the rollback. */
  fromHeight: number;
  toHeight: number;
  /** Headers removed, newest first. */
  removed: readonly BlockRef[];
};

/** A wallet's backfill the store is writing (inside its transaction): its history at heights up to the cursor, below blocks already applied. */
export type WalletBackfilledEvent = {
  chain: string;
  walletId: number;
  /** Lowest height of a backfilled row (balance change or transfer leg). */
  fromHeight: number;
  /** The chain's cursor the backfill was computed against. */
  toHeight: number;
};

/**
 * A consumer of block writes (alerts, movement matching, metrics). Its handlers run INSIDE the
 * block's (or rollback's) database transaction and write through `db`: what they write commits with
 * the block or rolls back with it, so nothing is ever raised for a block the store does not hold.
 * They must do no network I/O (a transaction must stay short) and throw only to abort the block.
 */
export type BlockEventSink = {
  /** For messages. */
  name: string;
  onBlockApplied?(db: Db, store: Store, e: BlockAppliedEvent): Promise<void>;
  onBlocksRolledBack?(db: Db, store: Store, e: BlocksRolledBackEvent): Promise<void>;
  onWalletBackfilled?(db: Db, store: Store, e: WalletBackfilledEvent): Promise<void>;
};

/** Registers a sink on a store; every later block write and rollback calls it. Returns its removal. */
export function addBlockEventSink(store: Store, sink: BlockEventSink): () => void {
  store.blockEventSinks.push(sink);
  return () => {
    const i = store.blockEventSinks.indexOf(sink);
    if (i >= 0) store.blockEventSinks.splice(i, 1);
  };
}
