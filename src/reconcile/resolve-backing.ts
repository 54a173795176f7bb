import type { ResolvedConfig } from "../lib/config.js";

/**
 * How each chain asset maps to a liability asset: its `backs` when the config has `liabilityAssets`
 * (none: it backs nothing), else the chain asset id itself (snapshots stated in chain asset ids). Pure.
 */
export function resolveBacking(config: Pick<ResolvedConfig, "assets" | "liabilityAssets">): Array<{ id: string; chain: string; decimals: number; backs: string | null }> {
  const explicit = Object.keys(config.liabilityAssets).length > 0;
  return Object.values(config.assets).map((a) => ({ id: a.id, chain: a.chain, decimals: a.decimals, backs: explicit ? (a.backs ?? null) : a.id }));
}
