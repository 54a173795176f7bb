import type { ReadQuery } from "./open-store.js";

/** One stored balance change: its signed delta and the balance after it, in base units, with its block and transaction. */
export type BalanceChange = { id: number; height: number; blockHash: string; txid: string | null; delta: bigint; balanceAfter: bigint };

/** A keyset position in a (wallet, asset) history: changes are ordered by (height, id). */
export type HistoryPosition = { height: number; id: number };

export type LoadBalanceHistoryParameters = {
  chain: string;
  walletId: number;
  asset: string;
  /** Inclusive height bounds. */
  fromHeight?: number;
  toHeight?: number;
  /** Page size; the caller bounds it. */
  first: number;
  /** Changes strictly after this position (in `order`). */
  after?: HistoryPosition;
  order?: "asc" | "desc";
};

/**
 * A page of a (wallet, asset)'s balance changes in (height, id) order, keyset-paginated: a page
 * starts strictly after the previous page's last (height, id), so blocks written between two pages
 * never make a page skip or repeat a row (new blocks only add rows at higher heights, each with a
 * higher id). Reads `first + 1` rows to tell whether more follow. One index range scan on
 * balance_changes_wallet.
 */
export async function loadBalanceHistory(q: ReadQuery, p: LoadBalanceHistoryParameters): Promise<{ changes: BalanceChange[]; hasMore: boolean }> {
  const desc = p.order === "desc";
  const conds = ["chain = ?", "wallet_id = ?", "asset = ?"];
  const params: unknown[] = [p.chain, p.walletId, p.asset];
  if (p.fromHeight !== undefined) (conds.push("height >= ?"), params.push(p.fromHeight));
  if (p.toHeight !== undefined) (conds.push("height <= ?"), params.push(p.toHeight));
  if (p.after) {
    conds.push(desc ? "(height < ? OR (height = ? AND id < ?))" : "(height > ? OR (height = ? AND id > ?))");
    params.push(p.after.height, p.after.height, p.after.id);
  }
  const dir = desc ? "DESC" : "ASC";
  const rows = await q.raw(
    `SELECT id, height, block_hash, txid, delta, balance_after FROM balance_changes WHERE ${conds.join(" AND ")}
     ORDER BY height ${dir}, id ${dir} LIMIT ?`,
    [...params, p.first + 1],
  );
  const changes = rows.slice(0, p.first).map((r) => ({
    id: Number(r.id), height: Number(r.height), blockHash: String(r.block_hash), txid: r.txid === null ? null : String(r.txid),
    delta: BigInt(String(r.delta)), balanceAfter: BigInt(String(r.balance_after)),
  }));
  return { changes, hasMore: rows.length > p.first };
}

/** Stored header times (unix s) of the given heights of a chain; heights without a stored header are absent. */
export async function loadHeaderTimes(q: ReadQuery, p: { chain: string; heights: readonly number[] }): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const unique = [...new Set(p.heights)];
  for (let i = 0; i < unique.length; i += 400) {
    const chunk = unique.slice(i, i + 400);
    const rows = await q.raw(`SELECT height, time FROM block_headers WHERE chain = ? AND height IN (${chunk.map(() => "?").join(", ")})`, [p.chain, ...chunk]);
    for (const r of rows) out.set(Number(r.height), Number(r.time));
  }
  return out;
}
