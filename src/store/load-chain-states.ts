import { loadChainHealth } from "./chain-health.js";
import { loadInstanceLocks, type InstanceLockInfo } from "./instance-lock.js";
import type { ReadQuery, Store } from "./open-store.js";

/** What the store knows of one chain: cursor, final height, the indexed block's time, the node's health, the indexing process. */
export type ChainState = {
  chain: string;
  /** The last applied block (the cursor), with its header time (unix s; null if its header is not stored). */
  indexed: { height: number; hash: string; time: number | null } | null;
  finalizedHeight: number | null;
  /** The node's head as last recorded by the chain's indexer; null until the store records it. */
  tip: number | null;
  /** The indexer's last error (message, no secrets); null when none is recorded. */
  lastError: string | null;
  /** The process holding the chain's instance lock (`chain:<key>`), or null. */
  indexer: InstanceLockInfo | null;
};

/** The node's tip and the indexer's last error per chain, as the store records them. */
export type ChainHealthSummary = { tip: number | null; lastError: string | null };

/** The node's head and the follower's last error per chain, from the follower's chain_health table (null until it wrote one). */
export async function loadChainHealthSummary(q: ReadQuery, p: { chains: readonly string[] }): Promise<Map<string, ChainHealthSummary>> {
  const rows = new Map((await loadChainHealth(q)).map((h) => [h.chain, h]));
  return new Map(p.chains.map((c) => {
    const h = rows.get(c);
    return [c, { tip: h?.nodeTip ?? null, lastError: h?.lastError ? `${h.lastError.code}: ${h.lastError.message}` : null }];
  }));
}

/** Every given chain's state as the store records it, cursor and heights from one read snapshot. */
export async function loadChainStates(store: Store, q: ReadQuery, p: { chains: readonly string[] }): Promise<ChainState[]> {
  const locks = new Map((await loadInstanceLocks(store)).map((l) => [l.name, l]));
  const health = await loadChainHealthSummary(q, p);
  const out: ChainState[] = [];
  for (const chain of p.chains) {
    const [c] = await q.raw(
      `SELECT c.height, c.hash, c.finalized_height, h.time FROM chain_cursors c
       LEFT JOIN block_headers h ON h.chain = c.chain AND h.height = c.height WHERE c.chain = ?`,
      [chain],
    );
    const h = health.get(chain);
    out.push({
      chain,
      indexed: c ? { height: Number(c.height), hash: String(c.hash), time: c.time === null || c.time === undefined ? null : Number(c.time) } : null,
      finalizedHeight: c && c.finalized_height !== null ? Number(c.finalized_height) : null,
      tip: h?.tip ?? null,
      lastError: h?.lastError ?? null,
      indexer: locks.get(`chain:${chain}`) ?? null,
    });
  }
  return out;
}
