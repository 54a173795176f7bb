import type { ResolvedConfig } from "../lib/config.js";
import { loadChainCursor, loadReservesAt } from "../store/load-reserves-at.js";
import type { ReadQuery } from "../store/open-store.js";

/** One chain's reserves at its latest finalized height: per chain asset the counted wallets' sum (base units). */
export type FinalizedChainReserves = { chain: string; height: number; totals: Record<string, bigint>; countedWallets: number };

/**
 * Every configured chain's reserves at its latest finalized height (loadReservesAt: the lifecycle rules
 * of checkpoints), sorted by chain key; `unfinalized` lists the chains with no final block yet (no figure).
 * What live coverage and the API's `reserves` read. Call inside Store.read (one snapshot).
 */
export async function loadFinalizedReserves(q: ReadQuery, config: Pick<ResolvedConfig, "chains" | "assets">): Promise<{ chains: FinalizedChainReserves[]; unfinalized: string[] }> {
  const chains: FinalizedChainReserves[] = [];
  const unfinalized: string[] = [];
  for (const key of Object.keys(config.chains).sort()) {
    const cursor = await loadChainCursor(q, { chain: key });
    if (cursor?.finalizedHeight == null) {
      unfinalized.push(key);
      continue;
    }
    const assets = Object.values(config.assets).filter((a) => a.chain === key).map((a) => a.id);
    const r = await loadReservesAt(q, { chain: key, height: cursor.finalizedHeight, assets });
    const totals: Record<string, bigint> = Object.fromEntries(assets.map((a) => [a, 0n]));
    for (const m of r.balances.values()) for (const [asset, v] of m) totals[asset] = (totals[asset] ?? 0n) + v;
    chains.push({ chain: key, height: cursor.finalizedHeight, totals, countedWallets: r.wallets.filter((w) => w.counted).length });
  }
  return { chains, unfinalized };
}
