import { sql, type SQL } from "drizzle-orm";
import type { Db, Store } from "./open-store.js";

/** A token balance the node reported that differs from the one the store carried forward (migration 6). */
export type SilentChange = {
  /** Row id: increasing; the alerts issue reads `sinceId` onwards. */
  id: number;
  chain: string;
  /** The read that revealed it (its balance change is stored at this height, without a txid). */
  height: number;
  blockHash: string;
  walletId: number;
  asset: string;
  /** The balance the store carried forward, base units. */
  carried: bigint;
  /** The balance the node reported at `height`, base units. */
  observed: bigint;
  /** First height at which it may have happened (the pair's previous read + 1); it happened in [fromHeight, height]. */
  fromHeight: number;
};

/** The part of a native change the block's visible transactions do not explain (migration 6). */
export type UnattributedChangeInput = { walletId: number; asset: string; delta: bigint; candidates: readonly string[] };

async function all(store: Store, db: Db, q: SQL): Promise<Array<Record<string, unknown>>> {
  if (store.dialect === "sqlite") return (db as unknown as { all: (q: SQL) => Array<Record<string, unknown>> }).all(q);
  return (await (db as unknown as { execute: (q: SQL) => Promise<{ rows: Array<Record<string, unknown>> }> }).execute(q)).rows;
}

async function run(store: Store, db: Db, q: SQL): Promise<void> {
  if (store.dialect === "sqlite") (db as unknown as { run: (q: SQL) => unknown }).run(q);
  else await (db as unknown as { execute: (q: SQL) => Promise<unknown> }).execute(q);
}

/**
 * Writes a block's EVM read records inside its transaction: the full-read mark, silent changes and
 * unattributed native changes. Amounts are stored exactly (TEXT on SQLite, numeric(78,0) on Postgres).
 */
export async function saveEvmReadsIn(
  store: Store,
  db: Db,
  p: {
    chain: string;
    height: number;
    blockHash: string;
    fullRead: boolean;
    silent: ReadonlyArray<Omit<SilentChange, "id" | "chain" | "height" | "blockHash">>;
    unattributed: readonly UnattributedChangeInput[];
  },
): Promise<void> {
  if (p.fullRead) await run(store, db, sql`INSERT INTO full_reads (chain, height, block_hash) VALUES (${p.chain}, ${p.height}, ${p.blockHash})`);
  for (const s of p.silent) {
    await run(store, db, sql`INSERT INTO silent_changes (chain, height, block_hash, wallet_id, asset, carried, observed, from_height)
      VALUES (${p.chain}, ${p.height}, ${p.blockHash}, ${s.walletId}, ${s.asset}, ${s.carried.toString()}, ${s.observed.toString()}, ${s.fromHeight})`);
  }
  for (const u of p.unattributed) {
    await run(store, db, sql`INSERT INTO unattributed_changes (chain, height, block_hash, wallet_id, asset, delta, candidates)
      VALUES (${p.chain}, ${p.height}, ${p.blockHash}, ${u.walletId}, ${u.asset}, ${u.delta.toString()}, ${JSON.stringify(u.candidates)})`);
  }
}

/** Deletes one wallet's silent and unattributed changes on a chain (its backfill replaces them, inside saveWalletBackfill's transaction). */
export async function deleteWalletEvmReadsIn(store: Store, db: Db, p: { chain: string; walletId: number }): Promise<void> {
  for (const table of ["silent_changes", "unattributed_changes"]) {
    await run(store, db, sql`DELETE FROM ${sql.identifier(table)} WHERE chain = ${p.chain} AND wallet_id = ${p.walletId}`);
  }
}

/** Deletes a chain's EVM read records above `height` (inside rollbackTo's transaction). */
export async function deleteEvmReadsAboveIn(store: Store, db: Db, p: { chain: string; height: number }): Promise<void> {
  for (const table of ["full_reads", "silent_changes", "unattributed_changes"]) {
    await run(store, db, sql`DELETE FROM ${sql.identifier(table)} WHERE chain = ${p.chain} AND height > ${p.height}`);
  }
}

/**
 * Silent token changes, oldest first: every one with id > `sinceId` (default all), of one chain or all.
 * For the alerts issue: each names chain, wallet, token, both amounts and the block range.
 */
export async function loadSilentChanges(store: Store, p: { chain?: string; sinceId?: number } = {}): Promise<SilentChange[]> {
  const where = [sql`id > ${p.sinceId ?? 0}`];
  if (p.chain !== undefined) where.push(sql`chain = ${p.chain}`);
  const rows = await all(store, store.db, sql`SELECT id, chain, height, block_hash, wallet_id, asset, carried, observed, from_height
    FROM silent_changes WHERE ${sql.join(where, sql` AND `)} ORDER BY id`);
  return rows.map((r) => ({
    id: Number(r.id),
    chain: String(r.chain),
    height: Number(r.height),
    blockHash: String(r.block_hash),
    walletId: Number(r.wallet_id),
    asset: String(r.asset),
    carried: BigInt(String(r.carried)),
    observed: BigInt(String(r.observed)),
    fromHeight: Number(r.from_height),
  }));
}

/** One unattributed native change, with its candidate transaction hashes. */
export type UnattributedChange = UnattributedChangeInput & { id: number; chain: string; height: number; blockHash: string };

/** Unattributed native changes of a chain, oldest first. */
export async function loadUnattributedChanges(store: Store, p: { chain: string }): Promise<UnattributedChange[]> {
  const rows = await all(store, store.db, sql`SELECT id, chain, height, block_hash, wallet_id, asset, delta, candidates
    FROM unattributed_changes WHERE chain = ${p.chain} ORDER BY id`);
  return rows.map((r) => ({
    id: Number(r.id),
    chain: String(r.chain),
    height: Number(r.height),
    blockHash: String(r.block_hash),
    walletId: Number(r.wallet_id),
    asset: String(r.asset),
    delta: BigInt(String(r.delta)),
    candidates: JSON.parse(String(r.candidates)) as string[],
  }));
}

/** The last full-read height of a chain at or below `atHeight` (default: any); null when none. */
export async function loadLastFullRead(store: Store, p: { chain: string; atHeight?: number }, db: Db = store.db): Promise<number | null> {
  const rows = await all(store, db, p.atHeight === undefined
    ? sql`SELECT MAX(height) AS h FROM full_reads WHERE chain = ${p.chain}`
    : sql`SELECT MAX(height) AS h FROM full_reads WHERE chain = ${p.chain} AND height <= ${p.atHeight}`);
  const h = rows[0]?.h;
  return h === null || h === undefined ? null : Number(h);
}

/** Full-read heights of a chain in [fromHeight, toHeight], ascending. */
export async function loadFullReadHeights(store: Store, p: { chain: string; fromHeight?: number; toHeight?: number }): Promise<number[]> {
  const rows = await all(store, store.db, sql`SELECT height FROM full_reads WHERE chain = ${p.chain}
    AND height >= ${p.fromHeight ?? 0} AND height <= ${p.toHeight ?? Number.MAX_SAFE_INTEGER} ORDER BY height`);
  return rows.map((r) => Number(r.height));
}

/** The last height at which each (wallet, token) of a chain had a transfer leg, keyed `${walletId}|${asset}`. */
export async function loadLastTransferHeights(store: Store, p: { chain: string }): Promise<Map<string, number>> {
  const rows = await all(store, store.db, sql`SELECT wallet_id, asset, MAX(height) AS h FROM transfers WHERE chain = ${p.chain} GROUP BY wallet_id, asset`);
  return new Map(rows.map((r) => [`${Number(r.wallet_id)}|${String(r.asset)}`, Number(r.h)]));
}
