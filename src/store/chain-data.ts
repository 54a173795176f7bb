import { and, asc, desc, eq, gt, gte, inArray, isNull, lte, sql } from "drizzle-orm";
import type { StoredChange } from "./block-events.js";
import { StoreInvariantError } from "./errors.js";
import { deleteEvmReadsAboveIn } from "./evm-reads.js";
import type { Db, Store } from "./open-store.js";

/** A block (Solana: a slot) as the store records it. `time` is unix seconds. */
export type BlockRef = { chain: string; height: number; hash: string; parentHash: string; time: number };

/**
 * One balance change of a (wallet, asset) in a block. Give `delta` (UTXO and
 * transfer-derived chains) or `balance` (absolute reads: EVM, Solana); the store
 * derives the other from the wallet's previous balance.
 */
export type BalanceChangeInput = { walletId: number; asset: string; txid: string | null; delta?: bigint; balance?: bigint };

/** A custody output created in the block. `value` in sat. */
export type UtxoInput = { txid: string; vout: number; walletId: number; addressId: number; script: string; value: bigint };
/** A custody output spent in the block. */
export type OutpointSpend = { txid: string; vout: number; spentTxid: string };

/**
 * One transfer leg of a block (migration 4, `transfers`): value in from, out to, or a fee paid by a custody
 * wallet. `amount` > 0 in base units; `counterparty` is the chain's name for the other side, null when the
 * chain does not show it; `counterpartyWalletId` when the other side is a custody wallet (internal).
 * `position` orders legs within the block and identifies a leg with (chain, block hash).
 */
export type TransferInput = {
  walletId: number;
  asset: string;
  txid: string | null;
  position: number;
  direction: "in" | "out" | "fee";
  amount: bigint;
  counterparty: string | null;
  counterpartyWalletId?: number | null;
};

export type SaveBlockParameters = {
  block: BlockRef;
  changes: readonly BalanceChangeInput[];
  utxos?: { created: readonly UtxoInput[]; spent: readonly OutpointSpend[] };
  /** Highest final height of the chain as known now (never moves backwards). */
  finalizedHeight?: number;
  /** Height of the parent block: default height - 1; Solana gives the parent slot (skipped slots have no block). */
  parentHeight?: number;
  /** Transfer legs of the block's custody movements (who paid whom), stored with the block. */
  transfers?: readonly TransferInput[];
};

const CHUNK = 400;

/**
 * Applies one block in ONE transaction together with its cursor: header,
 * balance changes (balance_after computed exactly), UTXOs created and spent,
 * cursor. The block must extend the cursor (height + 1 and parent hash), so
 * a crash leaves the block either fully applied or not at all.
 * @throws StoreInvariantError
 */
export async function saveBlock(store: Store, p: SaveBlockParameters): Promise<void> {
  await store.tx((db) => saveBlockIn(store, db, p));
}

/** saveBlock's body, for callers that batch several blocks in one transaction. */
export async function saveBlockIn(store: Store, db: Db, p: SaveBlockParameters): Promise<void> {
  const { t } = store;
  const { block } = p;
  const [cursor] = await db.select().from(t.chainCursors).where(eq(t.chainCursors.chain, block.chain)).limit(1);
  const parentHeight = p.parentHeight ?? block.height - 1;
  if (cursor && (cursor.height !== parentHeight || parentHeight >= block.height || cursor.hash !== block.parentHash)) {
    throw new StoreInvariantError({
      message: `Block ${block.height} (${block.hash}) does not extend ${block.chain}'s cursor at ${cursor.height} (${cursor.hash}).`,
      meta: [`  parent hash: ${block.parentHash}`],
    });
  }
  await db.insert(t.blockHeaders).values({ ...block });
  // The chain's first block stays readable when older headers are pruned: `balances --at` knows where history starts.
  if (!cursor) await db.insert(t.headerPins).values({ chain: block.chain, height: block.height, reason: "first" }).onConflictDoNothing();

  // Balance changes: running balance per (wallet, asset), seeded from the last stored row
  // of every (wallet, asset) the block touches, all read in one statement.
  const last = await loadLastBalances(store, db, { chain: block.chain, keys: p.changes });
  const rows: (typeof t.balanceChanges.$inferInsert)[] = [];
  const stored: StoredChange[] = [];
  for (const c of p.changes) {
    const key = `${c.walletId}\u0000${c.asset}`;
    const prev = last.get(key) ?? 0n;
    let delta: bigint;
    let after: bigint;
    if (c.balance !== undefined) {
      after = c.balance;
      delta = after - prev;
      if (c.delta !== undefined && c.delta !== delta) {
        throw new StoreInvariantError({ message: `Balance change of wallet ${c.walletId} ${c.asset} at ${block.height}: delta ${c.delta} does not match balance ${c.balance} (previous ${prev}).` });
      }
    } else if (c.delta !== undefined) {
      delta = c.delta;
      after = prev + delta;
    } else {
      throw new StoreInvariantError({ message: `Balance change of wallet ${c.walletId} ${c.asset} at ${block.height} has neither delta nor balance.` });
    }
    last.set(key, after);
    rows.push({ chain: block.chain, walletId: c.walletId, asset: c.asset, height: block.height, blockHash: block.hash, txid: c.txid, delta, balanceAfter: after });
    stored.push({ walletId: c.walletId, asset: c.asset, txid: c.txid, delta, balanceAfter: after });
  }
  for (let i = 0; i < rows.length; i += CHUNK) await db.insert(t.balanceChanges).values(rows.slice(i, i + CHUNK));

  const transfers = p.transfers ?? [];
  for (const x of transfers) {
    if (x.amount <= 0n) throw new StoreInvariantError({ message: `Transfer of wallet ${x.walletId} ${x.asset} at ${block.height} (position ${x.position}) has a non-positive amount ${x.amount}.` });
  }
  const transferRows = transfers.map((x) => ({
    chain: block.chain, height: block.height, blockHash: block.hash, txid: x.txid, position: x.position, walletId: x.walletId,
    asset: x.asset, direction: x.direction, amount: x.amount, counterparty: x.counterparty, counterpartyWalletId: x.counterpartyWalletId ?? null,
  }));
  for (let i = 0; i < transferRows.length; i += CHUNK) await db.insert(t.transfers).values(transferRows.slice(i, i + CHUNK));

  if (p.utxos) {
    const created = p.utxos.created.map((u) => ({ chain: block.chain, ...u, height: block.height, blockHash: block.hash }));
    for (let i = 0; i < created.length; i += CHUNK) await db.insert(t.utxos).values(created.slice(i, i + CHUNK));
    await markSpent(store, db, { chain: block.chain, height: block.height, spent: p.utxos.spent });
  }

  const finalized = Math.max(cursor?.finalizedHeight ?? -1, p.finalizedHeight ?? -1);
  const values = {
    chain: block.chain,
    height: block.height,
    hash: block.hash,
    finalizedHeight: finalized >= 0 ? Math.min(finalized, block.height) : null,
    updatedAt: new Date().toISOString(),
  };
  await db.insert(t.chainCursors).values(values).onConflictDoUpdate({ target: t.chainCursors.chain, set: values });

  for (const sink of store.blockEventSinks) {
    await sink.onBlockApplied?.(db, store, {
      chain: block.chain,
      block,
      first: !cursor,
      changes: stored,
      transfers,
      finalizedBefore: cursor?.finalizedHeight ?? null,
      finalizedAfter: values.finalizedHeight,
    });
  }
}

/**
 * The last stored balance_after of each (wallet, asset) in `keys`, keyed
 * `${walletId}\u0000${asset}`; absent when the pair has no history. One statement per
 * LAST_BALANCES_CHUNK pairs: a UNION ALL of per-pair `ORDER BY height DESC, id DESC
 * LIMIT 1` subqueries, each an index seek on balance_changes_wallet (one query per
 * pair cost ~80 µs of query building and statement preparation each, the largest part
 * of saveBlock on a busy block).
 */
async function loadLastBalances(
  store: Store,
  db: Db,
  p: { chain: string; keys: readonly { walletId: number; asset: string }[] },
): Promise<Map<string, bigint>> {
  const { t } = store;
  const unique = new Map<string, { walletId: number; asset: string }>();
  for (const k of p.keys) unique.set(`${k.walletId}\u0000${k.asset}`, k);
  const out = new Map<string, bigint>();
  const all = [...unique.values()];
  for (let i = 0; i < all.length; i += LAST_BALANCES_CHUNK) {
    const parts = all.slice(i, i + LAST_BALANCES_CHUNK).map(
      (k, j) => sql`SELECT * FROM (SELECT wallet_id AS w, asset AS a, balance_after AS b FROM ${t.balanceChanges}
        WHERE chain = ${p.chain} AND wallet_id = ${k.walletId} AND asset = ${k.asset}
        ORDER BY height DESC, id DESC LIMIT 1) AS ${sql.raw(`p${j}`)}`,
    );
    const q = sql.join(parts, sql` UNION ALL `);
    const rows: Array<{ w: unknown; a: unknown; b: unknown }> =
      store.dialect === "sqlite"
        ? (db as unknown as { all: (q: unknown) => Array<{ w: unknown; a: unknown; b: unknown }> }).all(q)
        : ((await (db as unknown as { execute: (q: unknown) => Promise<{ rows: Array<{ w: unknown; a: unknown; b: unknown }> }> }).execute(q)).rows);
    // Amounts come back as decimal strings (SQLite TEXT, Postgres numeric): exact.
    for (const r of rows) out.set(`${Number(r.w)}\u0000${String(r.a)}`, BigInt(String(r.b)));
  }
  return out;
}

/**
 * Marks custody outputs spent, CHUNK per statement (one UPDATE per outpoint cost ~100 µs
 * each, and a consolidation spends dozens). Every outpoint must be unspent and listed
 * once, else nothing of the block is written.
 * @throws StoreInvariantError
 */
async function markSpent(store: Store, db: Db, p: { chain: string; height: number; spent: readonly OutpointSpend[] }): Promise<void> {
  const { t } = store;
  for (let i = 0; i < p.spent.length; i += CHUNK) {
    const chunk = p.spent.slice(i, i + CHUNK);
    // CASTs: Postgres cannot type bare parameters inside VALUES; SQLite accepts them too.
    // `+spent_height`: keeps SQLite's planner on the primary key (chain, txid, vout);
    // without it, it picks utxos_spent_height and scans every unspent output of the chain.
    const cases = sql.join(chunk.map((s) => sql`WHEN txid = ${s.txid} AND vout = ${s.vout} THEN ${s.spentTxid}`), sql` `);
    const keys = sql.join(chunk.map((s) => sql`(CAST(${s.txid} AS TEXT), CAST(${s.vout} AS INTEGER))`), sql`, `);
    const q = sql`UPDATE ${t.utxos} SET spent_txid = CASE ${cases} END, spent_height = ${p.height}
      WHERE chain = ${p.chain} AND +spent_height IS NULL AND (txid, vout) IN (VALUES ${keys})
      RETURNING txid, vout`;
    const rows: Array<{ txid: unknown; vout: unknown }> =
      store.dialect === "sqlite"
        ? (db as unknown as { all: (q: unknown) => Array<{ txid: unknown; vout: unknown }> }).all(q)
        : ((await (db as unknown as { execute: (q: unknown) => Promise<{ rows: Array<{ txid: unknown; vout: unknown }> }> }).execute(q)).rows);
    if (rows.length !== chunk.length) {
      const done = new Set(rows.map((r) => `${String(r.txid)}:${Number(r.vout)}`));
      const seen = new Set<string>();
      const bad = chunk.find((s) => {
        const k = `${s.txid}:${s.vout}`;
        const dup = seen.has(k);
        seen.add(k);
        return dup || !done.has(k);
      })!;
      throw new StoreInvariantError({ message: `Block ${p.height} spends ${bad.txid}:${bad.vout}, which is not an unspent custody output.` });
    }
  }
}

/** SQLite's default limit on compound SELECTs is 500; stay well below it. */
const LAST_BALANCES_CHUNK = 200;

/**
 * Rolls a chain back to `height` in ONE transaction: deletes headers, balance
 * changes, transfers, EVM read records (migration 6) and UTXOs above it, un-spends outputs spent above it, and moves the
 * cursor to the header kept at `height` (or removes it when height < first).
 * Block-event sinks run first, inside the same transaction.
 */
export async function rollbackTo(store: Store, p: { chain: string; height: number }): Promise<void> {
  await store.tx(async (db) => {
    const { t } = store;
    const [before] = await db.select().from(t.chainCursors).where(eq(t.chainCursors.chain, p.chain)).limit(1);
    const removed = store.blockEventSinks.length
      ? (await db.select().from(t.blockHeaders).where(and(eq(t.blockHeaders.chain, p.chain), gt(t.blockHeaders.height, p.height))).orderBy(desc(t.blockHeaders.height)))
          .map((r) => ({ chain: r.chain, height: Number(r.height), hash: r.hash, parentHash: r.parentHash, time: Number(r.time) }))
      : [];
    // Sinks see the rows of the removed blocks before they go (e.g. to withdraw alerts they raised).
    if (before) for (const sink of store.blockEventSinks) await sink.onBlocksRolledBack?.(db, store, { chain: p.chain, fromHeight: Number(before.height), toHeight: p.height, removed });
    await db.delete(t.transfers).where(and(eq(t.transfers.chain, p.chain), gt(t.transfers.height, p.height)));
    await deleteEvmReadsAboveIn(store, db, p);
    await db.delete(t.headerPins).where(and(eq(t.headerPins.chain, p.chain), eq(t.headerPins.reason, "first"), gt(t.headerPins.height, p.height)));
    // A removed wallet's tracked history now ends at the rollback height.
    await db.update(t.walletStates).set({ removedHeight: p.height }).where(and(eq(t.walletStates.chain, p.chain), gt(t.walletStates.removedHeight, p.height)));
    await db.delete(t.blockHeaders).where(and(eq(t.blockHeaders.chain, p.chain), gt(t.blockHeaders.height, p.height)));
    await db.delete(t.balanceChanges).where(and(eq(t.balanceChanges.chain, p.chain), gt(t.balanceChanges.height, p.height)));
    await db.delete(t.utxos).where(and(eq(t.utxos.chain, p.chain), gt(t.utxos.height, p.height)));
    await db
      .update(t.utxos)
      .set({ spentTxid: null, spentHeight: null })
      .where(and(eq(t.utxos.chain, p.chain), gt(t.utxos.spentHeight, p.height)));
    await db
      .update(t.walletAddresses)
      .set({ firstSeenHeight: null })
      .where(and(eq(t.walletAddresses.chain, p.chain), gt(t.walletAddresses.firstSeenHeight, p.height)));
    const [header] = await db
      .select()
      .from(t.blockHeaders)
      .where(and(eq(t.blockHeaders.chain, p.chain), eq(t.blockHeaders.height, p.height)))
      .limit(1);
    if (!header) {
      await db.delete(t.chainCursors).where(eq(t.chainCursors.chain, p.chain));
      return;
    }
    await db
      .update(t.chainCursors)
      .set({ height: header.height, hash: header.hash, updatedAt: new Date().toISOString() })
      .where(eq(t.chainCursors.chain, p.chain));
  });
}

/** The chain's cursor: the last fully applied block, and the highest final height recorded. */
export async function loadCursor(
  store: Store,
  chain: string,
): Promise<{ height: number; hash: string; finalizedHeight: number | null } | undefined> {
  const [row] = await store.db.select().from(store.t.chainCursors).where(eq(store.t.chainCursors.chain, chain)).limit(1);
  return row ? { height: row.height, hash: row.hash, finalizedHeight: row.finalizedHeight } : undefined;
}

/** Records a higher finalized height on the cursor (never lowers it). */
export async function saveFinalizedHeight(store: Store, p: { chain: string; finalizedHeight: number }): Promise<void> {
  const { t } = store;
  await store.tx(async (db) => {
    await db
      .update(t.chainCursors)
      .set({ finalizedHeight: sql`CASE WHEN ${t.chainCursors.finalizedHeight} IS NULL OR ${t.chainCursors.finalizedHeight} < ${p.finalizedHeight} THEN ${p.finalizedHeight} ELSE ${t.chainCursors.finalizedHeight} END` })
      .where(eq(t.chainCursors.chain, p.chain));
  });
}

/** Stored headers of a chain, newest first: `limit` of them at or below `toHeight` (default the cursor). */
export async function loadHeaders(store: Store, p: { chain: string; toHeight?: number; limit?: number }): Promise<BlockRef[]> {
  const { t } = store;
  const where = p.toHeight === undefined
    ? eq(t.blockHeaders.chain, p.chain)
    : and(eq(t.blockHeaders.chain, p.chain), lte(t.blockHeaders.height, p.toHeight));
  const rows = await store.db.select().from(t.blockHeaders).where(where).orderBy(desc(t.blockHeaders.height)).limit(p.limit ?? 1000);
  return rows.map((r) => ({ chain: r.chain, height: r.height, hash: r.hash, parentHash: r.parentHash, time: r.time }));
}

/** One (wallet, asset) balance as of a height: amount in base units, with the block of its last change. */
export type StoredBalance = { walletId: number; label: string; asset: string; amount: bigint; height: number; blockHash: string };

/**
 * Balances of a chain's wallets at `atHeight` (default: the cursor): for each
 * (wallet, asset) with history, the balance after its last change at or below
 * that height. Wallets without history are not listed (their balance is 0).
 */
export async function loadBalances(store: Store, p: { chain: string; atHeight?: number; walletId?: number }): Promise<StoredBalance[]> {
  const { t } = store;
  if (p.atHeight === undefined) {
    // At the cursor: latest_balances (migration 12) holds each pair's last row; no scan of the history.
    const rows = await store.raw(
      `SELECT l.wallet_id, w.label, l.asset, l.balance_after, l.height, b.block_hash FROM latest_balances l
         JOIN wallets w ON w.id = l.wallet_id JOIN balance_changes b ON b.id = l.change_id
       WHERE l.chain = ?${p.walletId !== undefined ? " AND l.wallet_id = ?" : ""} ORDER BY w.label, l.asset`,
      p.walletId !== undefined ? [p.chain, p.walletId] : [p.chain],
    );
    return rows.map((r) => ({ walletId: Number(r.wallet_id), label: String(r.label), asset: String(r.asset), amount: BigInt(String(r.balance_after)), height: Number(r.height), blockHash: String(r.block_hash) }));
  }
  const conds = [eq(t.balanceChanges.chain, p.chain)];
  if (p.atHeight !== undefined) conds.push(lte(t.balanceChanges.height, p.atHeight));
  if (p.walletId !== undefined) conds.push(eq(t.balanceChanges.walletId, p.walletId));
  const latest = store.db
    .select({ id: sql<number>`max(${t.balanceChanges.id})`.as("id") })
    .from(t.balanceChanges)
    .where(and(...conds))
    .groupBy(t.balanceChanges.walletId, t.balanceChanges.asset);
  const rows = await store.db
    .select({
      walletId: t.balanceChanges.walletId,
      label: t.wallets.label,
      asset: t.balanceChanges.asset,
      amount: t.balanceChanges.balanceAfter,
      height: t.balanceChanges.height,
      blockHash: t.balanceChanges.blockHash,
    })
    .from(t.balanceChanges)
    .innerJoin(t.wallets, eq(t.wallets.id, t.balanceChanges.walletId))
    .where(inArray(t.balanceChanges.id, latest))
    .orderBy(asc(t.wallets.label), asc(t.balanceChanges.asset));
  return rows.map((r) => ({ ...r, walletId: Number(r.walletId), height: Number(r.height) }));
}

export type WalletInput = { chain: string; label: string; kind: "address" | "descriptor"; address?: string | null; descriptor?: string | null; gapLimit?: number | null };
export type WalletRow = { id: number; chain: string; label: string; kind: string; address: string | null; descriptor: string | null; gapLimit: number | null };

/**
 * Upserts configured wallets by (chain, label) and returns their rows. A label
 * whose address or descriptor changed is refused: history must not be
 * re-attributed silently.
 * @throws StoreInvariantError
 */
export async function saveWallets(store: Store, wallets: readonly WalletInput[]): Promise<WalletRow[]> {
  const { t } = store;
  return store.tx(async (db) => {
    const out: WalletRow[] = [];
    for (const w of wallets) {
      const [existing] = await db.select().from(t.wallets).where(and(eq(t.wallets.chain, w.chain), eq(t.wallets.label, w.label))).limit(1);
      if (existing) {
        if ((existing.address ?? null) !== (w.address ?? null) || (existing.descriptor ?? null) !== (w.descriptor ?? null)) {
          throw new StoreInvariantError({
            message: `Wallet "${w.label}" on ${w.chain} is stored with a different address or descriptor.`,
            meta: ["  Give a changed wallet a new label; the store keeps the old one's history."],
          });
        }
        if ((existing.gapLimit ?? null) !== (w.gapLimit ?? null)) {
          await db.update(t.wallets).set({ gapLimit: w.gapLimit ?? null }).where(eq(t.wallets.id, existing.id));
        }
        out.push({ ...existing, id: Number(existing.id), gapLimit: w.gapLimit ?? null });
        continue;
      }
      const [row] = await db
        .insert(t.wallets)
        .values({ chain: w.chain, label: w.label, kind: w.kind, address: w.address ?? null, descriptor: w.descriptor ?? null, gapLimit: w.gapLimit ?? null })
        .returning();
      out.push({ ...row!, id: Number(row!.id) });
    }
    return out;
  });
}

export type WalletAddressInput = { walletId: number; chain: string; kind: string; address: string; script?: string | null; branch?: number | null; index?: number | null };
export type WalletAddressRow = WalletAddressInput & { id: number; firstSeenHeight: number | null };

/** Inserts addresses not yet stored (by chain + address) and returns all of the chain's addresses. */
export async function saveWalletAddresses(store: Store, p: { chain: string; addresses: readonly WalletAddressInput[] }): Promise<WalletAddressRow[]> {
  const { t } = store;
  await store.tx(async (db) => {
    for (let i = 0; i < p.addresses.length; i += CHUNK) {
      const chunk = p.addresses.slice(i, i + CHUNK).map((a) => ({ ...a, script: a.script ?? null, branch: a.branch ?? null, index: a.index ?? null }));
      await db.insert(t.walletAddresses).values(chunk).onConflictDoNothing();
    }
  });
  return loadWalletAddresses(store, { chain: p.chain });
}

/** All addresses of a chain's wallets. */
export async function loadWalletAddresses(store: Store, p: { chain: string }): Promise<WalletAddressRow[]> {
  const rows = await store.db.select().from(store.t.walletAddresses).where(eq(store.t.walletAddresses.chain, p.chain)).orderBy(asc(store.t.walletAddresses.id));
  return rows.map((r) => ({ ...r, id: Number(r.id), walletId: Number(r.walletId), firstSeenHeight: r.firstSeenHeight === null ? null : Number(r.firstSeenHeight) }));
}

/** Marks addresses as used at a height (first time only); used inside a block's transaction. */
export async function markAddressesUsedIn(store: Store, db: Db, p: { ids: readonly number[]; height: number }): Promise<void> {
  const { t } = store;
  for (let i = 0; i < p.ids.length; i += CHUNK) {
    await db
      .update(t.walletAddresses)
      .set({ firstSeenHeight: p.height })
      .where(and(inArray(t.walletAddresses.id, p.ids.slice(i, i + CHUNK) as number[]), isNull(t.walletAddresses.firstSeenHeight)));
  }
}

/** The chain's unspent custody outputs (as of the cursor). */
export async function loadUnspent(store: Store, p: { chain: string }) {
  const { t } = store;
  const rows = await store.db.select().from(t.utxos).where(and(eq(t.utxos.chain, p.chain), isNull(t.utxos.spentHeight)));
  return rows.map((r) => ({ ...r, walletId: Number(r.walletId), addressId: Number(r.addressId), height: Number(r.height) }));
}

/** A stored transfer leg (see TransferInput), with its block. */
export type StoredTransfer = TransferInput & { id: number; chain: string; height: number; blockHash: string };

/** Transfer legs of a chain in [fromHeight, toHeight] (default: all), ordered by height and position. */
export async function loadTransfers(store: Store, p: LoadTransfersParameters): Promise<StoredTransfer[]> {
  return loadTransfersIn(store, store.db, p);
}

export type LoadTransfersParameters = { chain: string; fromHeight?: number; toHeight?: number; txid?: string; walletId?: number };

/** loadTransfers inside the caller's transaction `db` (what it wrote so far is visible). */
export async function loadTransfersIn(store: Store, db: Db, p: LoadTransfersParameters): Promise<StoredTransfer[]> {
  const { t } = store;
  const conds = [eq(t.transfers.chain, p.chain)];
  if (p.walletId !== undefined) conds.push(eq(t.transfers.walletId, p.walletId));
  if (p.fromHeight !== undefined) conds.push(gte(t.transfers.height, p.fromHeight));
  if (p.toHeight !== undefined) conds.push(lte(t.transfers.height, p.toHeight));
  if (p.txid !== undefined) conds.push(eq(t.transfers.txid, p.txid));
  const rows = await db.select().from(t.transfers).where(and(...conds)).orderBy(asc(t.transfers.height), asc(t.transfers.position), asc(t.transfers.id));
  return rows.map((r) => ({
    id: Number(r.id), chain: r.chain, height: Number(r.height), blockHash: r.blockHash, txid: r.txid, position: Number(r.position),
    walletId: Number(r.walletId), asset: r.asset, direction: r.direction as TransferInput["direction"], amount: r.amount,
    counterparty: r.counterparty, counterpartyWalletId: r.counterpartyWalletId === null ? null : Number(r.counterpartyWalletId),
  }));
}
