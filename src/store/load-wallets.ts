import { toStoredWallet, type StoredWallet } from "./load-balance-lines.js";
import type { ReadQuery } from "./open-store.js";

/** A derived (or the own) address of a wallet. `index`/`branch` for descriptor-derived ones; `firstSeenHeight` once used. */
export type StoredWalletAddress = { id: number; address: string; branch: number | null; index: number | null; firstSeenHeight: number | null };

/**
 * A page of a chain's stored wallets in label order (keyset on the label), optionally one label.
 * `afterLabel` is exclusive, `fromLabel` inclusive. Stored wallets include those no longer configured;
 * the caller tells their lifecycle state.
 */
export async function loadWalletsPage(
  q: ReadQuery,
  p: { chain: string; label?: string; first: number; afterLabel?: string; fromLabel?: string },
): Promise<{ wallets: StoredWallet[]; hasMore: boolean }> {
  // Byte order on both dialects (Postgres's default collation may be a locale's): pages and cursors agree.
  const label = q.dialect === "postgres" ? `label COLLATE "C"` : "label";
  const conds = ["chain = ?"];
  const params: unknown[] = [p.chain];
  if (p.label !== undefined) (conds.push("label = ?"), params.push(p.label));
  if (p.afterLabel !== undefined) (conds.push(`${label} > ?`), params.push(p.afterLabel));
  if (p.fromLabel !== undefined) (conds.push(`${label} >= ?`), params.push(p.fromLabel));
  const rows = await q.raw(
    `SELECT id, chain, label, kind, address, descriptor FROM wallets WHERE ${conds.join(" AND ")} ORDER BY ${label} LIMIT ?`,
    [...params, p.first + 1],
  );
  return { wallets: rows.slice(0, p.first).map(toStoredWallet), hasMore: rows.length > p.first };
}

/** A page of one wallet's addresses in derivation (id) order, keyset on the row id. */
export async function loadWalletAddressesPage(q: ReadQuery, p: { walletId: number; first: number; afterId?: number }): Promise<{ addresses: StoredWalletAddress[]; hasMore: boolean }> {
  const rows = await q.raw(
    `SELECT id, address, branch, idx, first_seen_height FROM wallet_addresses WHERE wallet_id = ? AND id > ? ORDER BY id LIMIT ?`,
    [p.walletId, p.afterId ?? 0, p.first + 1],
  );
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    addresses: rows.slice(0, p.first).map((r) => ({ id: Number(r.id), address: String(r.address), branch: num(r.branch), index: num(r.idx), firstSeenHeight: num(r.first_seen_height) })),
    hasMore: rows.length > p.first,
  };
}
