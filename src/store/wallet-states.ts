import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { sqlNowMs } from "./db-clock.js";
import { StoreInvariantError } from "./errors.js";
import type { TransferInput } from "./chain-data.js";
import type { Db, Store } from "./open-store.js";

/** A wallet's lifecycle: `pending` (not yet backfilled: never counted), `active`, `removed` (no longer configured). */
export type WalletStateName = "pending" | "active" | "removed";
/** How an active wallet's history was obtained: followed block by block, blocks re-read from its birthday, or balances read at `exactFrom`. */
export type WalletSource = "indexed" | "rescan" | "baseline";

/** One wallet's state, as `balances`, `status`, checkpoints and the API read it. */
export type WalletStatus = {
  walletId: number;
  chain: string;
  label: string;
  kind: string;
  address: string | null;
  descriptor: string | null;
  state: WalletStateName;
  /** Why a pending or removed wallet does not count (null when active). */
  reason: string | null;
  /** The configured birthday (height or slot before which it held nothing), null when none was given. */
  birthday: number | null;
  /** Stored balances are exact at every height >= exactFrom; null: since the chain's first indexed block. */
  exactFrom: number | null;
  source: WalletSource | null;
  /** The indexed height when the wallet became active (null: from the chain's first block, or never). */
  activeHeight: number | null;
  /** The indexed height when the wallet was found removed from the config. */
  removedHeight: number | null;
  /** With `atHeight`: whether the wallet counts in reserves at that height, and why not. */
  counted?: boolean;
  countedReason?: string | null;
};

/**
 * Whether a wallet counts in reserves at `height`: an active wallet from `exactFrom` on; a removed one
 * over its tracked history (up to the height it was removed at); a pending one never. Pure.
 */
export function computeWalletCounted(w: Pick<WalletStatus, "state" | "reason" | "exactFrom" | "removedHeight" | "source">, height: number): { counted: boolean; reason: string | null } {
  if (w.state === "pending") return { counted: false, reason: w.reason ?? "pending" };
  if (w.exactFrom !== null && height < w.exactFrom) {
    const how = w.source === "baseline" ? `its balances were read at ${w.exactFrom} (a baseline)` : `its history starts at its birthday ${w.exactFrom}`;
    return { counted: false, reason: `height ${height} is before the wallet's exact history: ${how}` };
  }
  if (w.state === "removed" && w.removedHeight !== null && height > w.removedHeight) {
    return { counted: false, reason: w.reason ?? `removed from the config at height ${w.removedHeight}` };
  }
  return { counted: true, reason: null };
}

/**
 * The one read model of wallet lifecycle: every stored wallet of a chain with its state, ordered by label.
 * With `atHeight`, each carries `counted` / `countedReason` for that height (computeWalletCounted). A wallet
 * the chain's follower has not seen yet (no state row) is `pending`.
 */
export async function loadWalletStates(store: Store, p: { chain: string; atHeight?: number; walletIds?: readonly number[] }): Promise<WalletStatus[]> {
  const { t } = store;
  const conds = [eq(t.wallets.chain, p.chain)];
  if (p.walletIds) conds.push(inArray(t.wallets.id, p.walletIds as number[]));
  const rows = await store.db
    .select({ w: t.wallets, s: t.walletStates })
    .from(t.wallets)
    .leftJoin(t.walletStates, eq(t.walletStates.walletId, t.wallets.id))
    .where(and(...conds))
    .orderBy(asc(t.wallets.label));
  return rows.map(({ w, s }) => {
    const status: WalletStatus = {
      walletId: Number(w.id),
      chain: w.chain,
      label: w.label,
      kind: w.kind,
      address: w.address,
      descriptor: w.descriptor,
      state: (s?.state as WalletStateName | undefined) ?? "pending",
      reason: s ? s.reason : "not yet seen by the chain's follower",
      birthday: s?.birthday === null || s?.birthday === undefined ? null : Number(s.birthday),
      exactFrom: s?.exactFrom === null || s?.exactFrom === undefined ? null : Number(s.exactFrom),
      source: (s?.source as WalletSource | null | undefined) ?? null,
      activeHeight: s?.activeHeight === null || s?.activeHeight === undefined ? null : Number(s.activeHeight),
      removedHeight: s?.removedHeight === null || s?.removedHeight === undefined ? null : Number(s.removedHeight),
    };
    if (p.atHeight !== undefined) {
      const c = computeWalletCounted(status, p.atHeight);
      status.counted = c.counted;
      status.countedReason = c.reason;
    }
    return status;
  });
}

export type SyncWalletStatesParameters = {
  chain: string;
  /** The chain's cursor height; null on a store that has not indexed the chain yet. */
  cursorHeight: number | null;
  /** The configured wallets (already saved with saveWallets), with their configured birthdays. */
  configured: ReadonlyArray<{ walletId: number; birthday: number | null }>;
  /** Why a wallet added to an indexed chain is pending (e.g. "backfill of [40, 200] not done yet"). */
  pendingReason(w: { walletId: number; birthday: number | null; readded: boolean }): string;
};

/**
 * Brings the chain's wallet states in line with the config, in one transaction:
 * - a configured wallet with no state: `active` (from the chain's first block) when the chain is not
 *   indexed yet, else `pending` (it needs a backfill before it counts); with no cursor, every configured
 *   wallet is `active`;
 * - a removed wallet configured again: `pending` (its history since removal is rebuilt by a backfill);
 * - an active or pending wallet no longer configured: `removed` at the cursor (its history stays);
 * - a pending wallet: its reason refreshed;
 * - a stored wallet with no state that the config does not list: `removed` before any height.
 * Returns the chain's wallet states (loadWalletStates).
 */
export async function syncWalletStates(store: Store, p: SyncWalletStatesParameters): Promise<WalletStatus[]> {
  const { t } = store;
  const now = sql.raw(sqlNowMs(store.dialect));
  await store.tx(async (db) => {
    const existing = new Map(
      (await db.select().from(t.walletStates).where(eq(t.walletStates.chain, p.chain))).map((r) => [Number(r.walletId), r]),
    );
    const configured = new Set<number>();
    for (const w of p.configured) {
      configured.add(w.walletId);
      const s = existing.get(w.walletId);
      if (!s) {
        const indexed = p.cursorHeight === null;
        await db.insert(t.walletStates).values({
          walletId: w.walletId,
          chain: p.chain,
          state: indexed ? "active" : "pending",
          reason: indexed ? null : p.pendingReason({ ...w, readded: false }),
          birthday: w.birthday,
          exactFrom: null,
          source: indexed ? "indexed" : null,
          activeHeight: null,
          removedHeight: null,
          updatedAtMs: now as unknown as number,
        });
      } else if (p.cursorHeight === null && s.state !== "active") {
        // Nothing of the chain is stored (never indexed, or rolled back below its first block): every
        // configured wallet is followed from the chain's first block, like on a new store.
        await db.update(t.walletStates).set({ state: "active", reason: null, exactFrom: null, source: "indexed", removedHeight: null, birthday: w.birthday, updatedAtMs: now as unknown as number }).where(eq(t.walletStates.walletId, w.walletId));
      } else if (s.state === "removed" || s.state === "pending") {
        const reason = p.pendingReason({ ...w, readded: s.state === "removed" || s.removedHeight !== null });
        if (s.state !== "pending" || s.reason !== reason || (s.birthday ?? null) !== w.birthday) {
          await db.update(t.walletStates).set({ state: "pending", reason, birthday: w.birthday, updatedAtMs: now as unknown as number }).where(eq(t.walletStates.walletId, w.walletId));
        }
      }
    }
    // A stored wallet of the chain the follower never saw and the config no longer lists: removed before any
    // height (it has no history), so every read model says `removed`, not `pending`.
    const stored = await db.select({ id: t.wallets.id }).from(t.wallets).where(eq(t.wallets.chain, p.chain));
    for (const { id } of stored) {
      const walletId = Number(id);
      if (configured.has(walletId) || existing.has(walletId)) continue;
      await db.insert(t.walletStates).values({
        walletId, chain: p.chain, state: "removed", reason: "removed from the config before the chain's follower saw it",
        birthday: null, exactFrom: null, source: null, activeHeight: null, removedHeight: -1, updatedAtMs: now as unknown as number,
      });
    }
    for (const [walletId, s] of existing) {
      if (configured.has(walletId) || s.state === "removed") continue;
      await db
        .update(t.walletStates)
        .set({ state: "removed", reason: `removed from the config at height ${p.cursorHeight ?? "-"}`, removedHeight: p.cursorHeight, updatedAtMs: now as unknown as number })
        .where(eq(t.walletStates.walletId, walletId));
    }
  });
  return loadWalletStates(store, { chain: p.chain });
}

/** One balance row of a backfill, at its true height. Give `delta`, or `balance` (a baseline read). Base units. */
export type BackfillChange = { height: number; blockHash: string; txid: string | null; asset: string; delta?: bigint; balance?: bigint };

export type SaveWalletBackfillParameters = {
  chain: string;
  walletId: number;
  /** The cursor the backfill was computed against: the write is refused if the chain moved since. */
  expectCursor: { height: number; hash: string };
  /** The stored history is exact from this height on. */
  exactFrom: number;
  source: Exclude<WalletSource, "indexed">;
  /** In height order (rows of one height in transaction order). */
  changes: readonly BackfillChange[];
  /** Bitcoin: the wallet's custody outputs created in the range, and those of them spent in it. */
  utxos?: {
    created: ReadonlyArray<{ txid: string; vout: number; addressId: number; script: string; value: bigint; height: number; blockHash: string }>;
    spent: ReadonlyArray<{ txid: string; vout: number; spentTxid: string; spentHeight: number }>;
  };
  /** Bitcoin: the wallet's addresses first used in the range, with that height. */
  addressesUsed?: ReadonlyArray<{ id: number; height: number }>;
  /** EVM: the wallet's transfer legs at their true heights (given: its old legs on the chain are replaced). */
  transfers?: ReadonlyArray<TransferInput & { height: number; blockHash: string }>;
  /** Extra writes inside the same transaction (EVM: silent and unattributed changes of the range). */
  within?: (db: Db) => Promise<void>;
};

const CHUNK = 400;

/**
 * Writes a wallet's backfill and marks it active, in ONE transaction: its old rows (a wallet configured
 * again after removal) are replaced by the backfilled ones, inserted at their true heights with exact
 * running balances, so loadBalances is exact for it at every height >= exactFrom.
 * @throws StoreInvariantError when the cursor moved since the backfill was computed, or a row is above it
 */
export async function saveWalletBackfill(store: Store, p: SaveWalletBackfillParameters): Promise<void> {
  const { t } = store;
  const now = sql.raw(sqlNowMs(store.dialect));
  await store.tx(async (db: Db) => {
    const [cursor] = await db.select().from(t.chainCursors).where(eq(t.chainCursors.chain, p.chain)).limit(1);
    if (!cursor || Number(cursor.height) !== p.expectCursor.height || cursor.hash !== p.expectCursor.hash) {
      throw new StoreInvariantError({
        message: `Backfill of wallet ${p.walletId} on ${p.chain} was computed against ${p.expectCursor.height} (${p.expectCursor.hash}), but the cursor is at ${cursor ? `${cursor.height} (${cursor.hash})` : "none"}.`,
      });
    }
    const above = p.changes.find((c) => c.height > p.expectCursor.height) ?? p.utxos?.created.find((u) => u.height > p.expectCursor.height);
    if (above) throw new StoreInvariantError({ message: `Backfill of wallet ${p.walletId} on ${p.chain} has a row at ${above.height}, above the cursor ${p.expectCursor.height}.` });
    await db.delete(t.balanceChanges).where(and(eq(t.balanceChanges.chain, p.chain), eq(t.balanceChanges.walletId, p.walletId)));
    await db.delete(t.utxos).where(and(eq(t.utxos.chain, p.chain), eq(t.utxos.walletId, p.walletId)));
    await db.update(t.walletAddresses).set({ firstSeenHeight: null }).where(eq(t.walletAddresses.walletId, p.walletId));

    const running = new Map<string, bigint>();
    const rows = p.changes.map((c) => {
      const prev = running.get(c.asset) ?? 0n;
      const after = c.balance ?? prev + (c.delta ?? 0n);
      if (c.balance === undefined && c.delta === undefined) throw new StoreInvariantError({ message: `Backfill row of wallet ${p.walletId} at ${c.height} has neither delta nor balance.` });
      running.set(c.asset, after);
      return { chain: p.chain, walletId: p.walletId, asset: c.asset, height: c.height, blockHash: c.blockHash, txid: c.txid, delta: after - prev, balanceAfter: after };
    });
    for (let i = 0; i < rows.length; i += CHUNK) await db.insert(t.balanceChanges).values(rows.slice(i, i + CHUNK));

    if (p.utxos) {
      const created = p.utxos.created.map((u) => ({ chain: p.chain, walletId: p.walletId, txid: u.txid, vout: u.vout, addressId: u.addressId, script: u.script, value: u.value, height: u.height, blockHash: u.blockHash }));
      for (let i = 0; i < created.length; i += CHUNK) await db.insert(t.utxos).values(created.slice(i, i + CHUNK));
      for (const s of p.utxos.spent) {
        await db
          .update(t.utxos)
          .set({ spentTxid: s.spentTxid, spentHeight: s.spentHeight })
          .where(and(eq(t.utxos.chain, p.chain), eq(t.utxos.txid, s.txid), eq(t.utxos.vout, s.vout)));
      }
    }
    if (p.transfers) {
      await db.delete(t.transfers).where(and(eq(t.transfers.chain, p.chain), eq(t.transfers.walletId, p.walletId)));
      const legs = p.transfers.map((x) => ({
        chain: p.chain, height: x.height, blockHash: x.blockHash, txid: x.txid, position: x.position, walletId: p.walletId,
        asset: x.asset, direction: x.direction, amount: x.amount, counterparty: x.counterparty, counterpartyWalletId: x.counterpartyWalletId ?? null,
      }));
      for (let i = 0; i < legs.length; i += CHUNK) await db.insert(t.transfers).values(legs.slice(i, i + CHUNK));
    }
    if (p.within) await p.within(db);
    for (const a of p.addressesUsed ?? []) {
      await db.update(t.walletAddresses).set({ firstSeenHeight: a.height }).where(eq(t.walletAddresses.id, a.id));
    }
    await db
      .update(t.walletStates)
      .set({ state: "active", reason: null, exactFrom: p.exactFrom, source: p.source, activeHeight: p.expectCursor.height, removedHeight: null, updatedAtMs: now as unknown as number })
      .where(eq(t.walletStates.walletId, p.walletId));
  });
}

/** Sets how the chain's first-block wallets got their history (e.g. a Solana baseline), inside the first block's transaction. */
export async function saveFirstBlockWalletsIn(store: Store, db: Db, p: { chain: string; exactFrom: number; source: WalletSource }): Promise<void> {
  const { t } = store;
  await db
    .update(t.walletStates)
    .set({ exactFrom: p.exactFrom, source: p.source })
    .where(and(eq(t.walletStates.chain, p.chain), eq(t.walletStates.state, "active"), sql`${t.walletStates.exactFrom} IS NULL`));
}
