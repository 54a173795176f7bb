import type { ReadQuery } from "./open-store.js";

/** One stored balance change inside a reserve window. Amounts in the asset's base units. */
export type WindowChange = {
  walletId: number;
  asset: string;
  height: number;
  txid: string | null;
  delta: bigint;
  balanceAfter: bigint;
};

/**
 * Every balance change of a chain's `assets` with `fromHeight < height <= toHeight`, ordered by (height, id),
 * in ONE range read on balance_changes_height (chain, height): the cost follows the window's activity, not
 * the number of wallets. All wallets' changes are returned; the caller keeps the counted ones. Call inside
 * Store.read, in the same snapshot as the anchor's balances (loadReservesAt).
 */
export async function loadReserveWindow(q: ReadQuery, p: { chain: string; fromHeight: number; toHeight: number; assets: readonly string[] }): Promise<WindowChange[]> {
  if (p.assets.length === 0 || p.toHeight <= p.fromHeight) return [];
  const wanted = new Set(p.assets);
  // The asset filter is applied here, not in SQL: the index is (chain, height), and a chain has few assets.
  const rows = await q.raw(
    "SELECT wallet_id, asset, height, txid, delta, balance_after FROM balance_changes WHERE chain = ? AND height > ? AND height <= ? ORDER BY height, id",
    [p.chain, p.fromHeight, p.toHeight],
  );
  const out: WindowChange[] = [];
  for (const r of rows) {
    const asset = String(r.asset);
    if (!wanted.has(asset)) continue;
    out.push({
      walletId: Number(r.wallet_id), asset, height: Number(r.height), txid: r.txid == null ? null : String(r.txid),
      delta: BigInt(String(r.delta)), balanceAfter: BigInt(String(r.balance_after)),
    });
  }
  return out;
}
