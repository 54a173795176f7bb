import type { ReadQuery } from "./open-store.js";
import { loadWalletStates, type WalletStatus } from "./wallet-states.js";

/** Every wallet of a chain at a height, whether it counts there, and the counted ones' exact balances (base units). */
export type ReservesAt = {
  wallets: WalletStatus[];
  /** walletId → asset → balance at the height (absent: 0). Only counted wallets. */
  balances: Map<number, Map<string, bigint>>;
};

/**
 * The exact balance of every counted wallet of a chain at `height` (the balance after each
 * (wallet, asset)'s last change at or below it), in one statement over balance_changes, and every
 * wallet's lifecycle state at that height (computeWalletCounted: pending and removed wallets are not
 * counted, with their reason). Call inside Store.read so the states and balances are one snapshot.
 */
export async function loadReservesAt(q: ReadQuery, p: { chain: string; height: number }): Promise<ReservesAt> {
  const wallets = await loadWalletStates(q, { chain: p.chain, atHeight: p.height });
  const counted = new Set(wallets.filter((w) => w.counted).map((w) => w.walletId));
  const rows = await q.raw(
    `SELECT wallet_id, asset, balance_after FROM (
       SELECT wallet_id, asset, balance_after, ROW_NUMBER() OVER (PARTITION BY wallet_id, asset ORDER BY height DESC, id DESC) AS rn
       FROM balance_changes WHERE chain = ? AND height <= ?) x WHERE rn = 1`,
    [p.chain, p.height],
  );
  const balances = new Map<number, Map<string, bigint>>();
  for (const r of rows) {
    const id = Number(r.wallet_id);
    if (!counted.has(id)) continue;
    let m = balances.get(id);
    if (!m) balances.set(id, (m = new Map()));
    m.set(String(r.asset), BigInt(String(r.balance_after)));
  }
  return { wallets, balances };
}

/** A chain's cursor: indexed and finalized heights (null before any block / final block). */
export async function loadChainCursor(q: ReadQuery, p: { chain: string }): Promise<{ height: number; finalizedHeight: number | null } | undefined> {
  const [r] = await q.raw("SELECT height, finalized_height FROM chain_cursors WHERE chain = ?", [p.chain]);
  return r ? { height: Number(r.height), finalizedHeight: r.finalized_height == null ? null : Number(r.finalized_height) } : undefined;
}

/**
 * The stored headers an anchor at time `asOf` (unix s) can be chosen from: from `lookback` blocks before
 * the first stored header whose time is after asOf, up to `upTo`, ascending. Empty when no header is after asOf.
 */
export async function loadAnchorHeaders(q: ReadQuery, p: { chain: string; asOf: number; upTo: number; lookback: number }): Promise<Array<{ height: number; hash: string; time: number }>> {
  const [first] = await q.raw("SELECT min(height) AS h FROM block_headers WHERE chain = ? AND time > ? AND height <= ?", [p.chain, p.asOf, p.upTo]);
  if (first?.h == null) {
    // Nothing after asOf yet: the caller waits; the finalized tip is enough to say so.
    return [];
  }
  const from = Math.max(0, Number(first.h) - p.lookback);
  const rows = await q.raw("SELECT height, hash, time FROM block_headers WHERE chain = ? AND height >= ? AND height <= ? ORDER BY height", [p.chain, from, p.upTo]);
  return rows.map((r) => ({ height: Number(r.height), hash: String(r.hash), time: Number(r.time) }));
}
