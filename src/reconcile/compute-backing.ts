import type { BackingLine } from "./checkpoint-document.js";
import { scaleAmount } from "./scale-amount.js";

/**
 * One liability asset's backing lines: every chain asset that backs it on a chain with reserves, its
 * counted wallets' sum scaled exactly to the liability asset's decimals (floored, with the remainder in the
 * chain asset's base units), sorted by chain then chain asset. What checkpoints, live coverage and the
 * API's `reserves` all use. Pure.
 */
export function computeBackingLines(p: {
  liability: { asset: string; decimals: number };
  chainAssets: ReadonlyArray<{ id: string; chain: string; decimals: number; backs: string | null }>;
  /** Per chain key: per chain asset id the counted wallets' sum, and how many wallets were counted. */
  chains: ReadonlyMap<string, { totals: Readonly<Record<string, bigint>>; countedWallets: number }>;
}): BackingLine[] {
  return [...p.chainAssets]
    .sort((a, b) => cmp(a.chain, b.chain) || cmp(a.id, b.id))
    .filter((a) => a.backs === p.liability.asset && p.chains.has(a.chain))
    .map((a) => {
      const c = p.chains.get(a.chain)!;
      const amount = c.totals[a.id] ?? 0n;
      const { scaled, remainder } = scaleAmount(amount, a.decimals, p.liability.decimals);
      return { chain: a.chain, chainAsset: a.id, decimals: a.decimals, amount: amount.toString(), scaled: scaled.toString(), remainder: remainder.toString(), wallets: c.countedWallets };
    });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
