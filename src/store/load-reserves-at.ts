import type { ReadQuery } from "./open-store.js";
import { computeWalletCounted, type WalletSource, type WalletStateName, type WalletStatus } from "./wallet-states.js";

/** Every wallet of a chain at a height, whether it counts there, and the counted ones' exact balances (base units). */
export type ReservesAt = {
  wallets: WalletStatus[];
  /** walletId → asset → balance at the height (absent: 0). Only counted wallets. (`wallets` is in no particular order.) */
  balances: Map<number, Map<string, bigint>>;
};

/**
 * The exact balance of every counted wallet of a chain at `height` (the balance after each
 * (wallet, asset)'s last change at or below it), from latest_balances and balance_changes, and every
 * wallet's lifecycle state at that height (computeWalletCounted: pending and removed wallets are not
 * counted, with their reason). Call inside Store.read so the states and balances are one snapshot.
 */
export async function loadReservesAt(q: ReadQuery, p: { chain: string; height: number; assets: readonly string[] }): Promise<ReservesAt> {
  // loadWalletStates' rules (computeWalletCounted; no state row: pending), in one raw statement: at 100,000
  // wallets the query builder's row mapping cost more than the balance seeks. Unordered: sorting 100,000 labels
  // under Postgres' collation spilled to disk, and every consumer sorts what it publishes.
  // Rows as arrays (rawArrays): at 100,000 wallets an object per row was most of the read.
  const stateRows = await q.rawArrays(
    `SELECT w.id, w.label, w.kind, w.address, w.descriptor, s.state, s.reason, s.birthday, s.exact_from, s.source, s.active_height, s.removed_height,
       CASE WHEN s.wallet_id IS NULL THEN 0 ELSE 1 END AS has_state
     FROM wallets w LEFT JOIN wallet_states s ON s.wallet_id = w.id AND s.chain = ? WHERE w.chain = ?`,
    // s.chain: the state row carries its wallet's chain; naming it lets Postgres read one chain's states
    // (wallet_states_chain) instead of hashing every chain's.
    [p.chain, p.chain],
  );
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const str = (v: unknown) => (v == null ? null : String(v));
  const wallets: WalletStatus[] = stateRows.map(([id, label, kind, address, descriptor, state, reason, birthday, exactFrom, source, activeHeight, removedHeight, hasState]) => {
    const has = Number(hasState) === 1;
    const w: WalletStatus = {
      walletId: Number(id), chain: p.chain, label: String(label), kind: String(kind), address: str(address), descriptor: str(descriptor),
      state: has ? (String(state) as WalletStateName) : "pending", reason: has ? str(reason) : "not yet seen by the chain's follower",
      birthday: n(birthday), exactFrom: n(exactFrom), source: str(source) as WalletSource | null,
      activeHeight: n(activeHeight), removedHeight: n(removedHeight),
    };
    const c = computeWalletCounted(w, p.height);
    w.counted = c.counted;
    w.countedReason = c.reason;
    return w;
  });
  const counted = new Set(wallets.filter((w) => w.counted).map((w) => w.walletId));
  const balances = new Map<number, Map<string, bigint>>();
  // One scan of latest_balances (migration 12) for the chain; a pair whose latest change is above the height
  // is read with one index seek on balance_changes_wallet (chain, wallet_id, asset, height). Near the
  // finalized tip, where `start` anchors a new snapshot's checkpoint, that is a handful of seeks.
  const assets = new Set(p.assets);
  const rows = await q.rawArrays(
    `SELECT l.wallet_id, l.asset, CASE WHEN l.height <= ? THEN l.balance_after ELSE (SELECT b.balance_after FROM balance_changes b
       WHERE b.chain = l.chain AND b.wallet_id = l.wallet_id AND b.asset = l.asset AND b.height <= ? ORDER BY b.height DESC, b.id DESC LIMIT 1) END AS balance_after
     FROM latest_balances l WHERE l.chain = ?`,
    [p.height, p.height, p.chain],
  );
  for (const [walletId, asset, after] of rows) {
    const id = Number(walletId);
    if (!counted.has(id) || after == null || !assets.has(String(asset))) continue;
    let m = balances.get(id);
    if (!m) balances.set(id, (m = new Map()));
    m.set(String(asset), BigInt(String(after)));
  }
  return { wallets, balances };
}

/** A chain's cursor: indexed and finalized heights (null before any block / final block). */
export async function loadChainCursor(q: ReadQuery, p: { chain: string }): Promise<{ height: number; finalizedHeight: number | null } | undefined> {
  const [r] = await q.raw("SELECT height, finalized_height FROM chain_cursors WHERE chain = ?", [p.chain]);
  return r ? { height: Number(r.height), finalizedHeight: r.finalized_height == null ? null : Number(r.finalized_height) } : undefined;
}

/**
 * The stored headers an anchor at time `asOf` (unix s) can be chosen from: from the `lookback` stored headers
 * before the first stored header whose time is after asOf (by stored order, not height: Solana's skipped
 * slots have no header), up to `upTo`, ascending. Empty when no header is after asOf.
 */
export async function loadAnchorHeaders(q: ReadQuery, p: { chain: string; asOf: number; upTo: number; lookback: number }): Promise<Array<{ height: number; hash: string; parentHash: string; time: number }>> {
  const [first] = await q.raw("SELECT min(height) AS h FROM block_headers WHERE chain = ? AND time > ? AND height <= ?", [p.chain, p.asOf, p.upTo]);
  if (first?.h == null) {
    // Nothing after asOf yet: the caller waits; the finalized tip is enough to say so.
    return [];
  }
  const [below] = p.lookback > 0
    ? await q.raw("SELECT min(height) AS h FROM (SELECT height FROM block_headers WHERE chain = ? AND height < ? ORDER BY height DESC LIMIT ?) AS b", [p.chain, Number(first.h), p.lookback])
    : [];
  const from = below?.h == null ? Number(first.h) : Number(below.h);
  const rows = await q.raw("SELECT height, hash, parent_hash, time FROM block_headers WHERE chain = ? AND height >= ? AND height <= ? ORDER BY height", [p.chain, from, p.upTo]);
  return rows.map((r) => ({ height: Number(r.height), hash: String(r.hash), parentHash: String(r.parent_hash), time: Number(r.time) }));
}
