/** One counted wallet's balance change inside a reserve window, as the window reports it. `amount` is |delta| in base units. */
export type WindowMove = { walletId: number; height: number; txid: string | null; amount: bigint };

/** One chain asset's reserves over [fromHeight, toHeight] around an anchor. Amounts in the chain asset's base units. */
export type ChainAssetWindow = {
  /** The counted wallets' sum at the anchor (the store's value). */
  atAnchor: bigint;
  /** The minimum of the sum over every height of [fromHeight, toHeight]. */
  min: bigint;
  /** The lowest height where `min` holds. */
  minHeight: number;
  /** atAnchor minus the minimum over [fromHeight, anchor - 1] (0 when reserves were never lower before). */
  riseBefore: bigint;
  /** atAnchor minus the minimum over [anchor + 1, toHeight] (0 when reserves never fell below it after). */
  dropAfter: bigint;
  /** Increases in (fromHeight, anchor], in (height, input) order. */
  inflows: WindowMove[];
  /** Decreases in (anchor, toHeight], in (height, input) order. */
  outflows: WindowMove[];
};

export type ComputeReserveWindowParameters = {
  anchorHeight: number;
  /** W: blocks (slots) on each side of the anchor. */
  windowBlocks: number;
  /** The chain assets to compute. */
  assets: readonly string[];
  /** Per counted wallet: per asset its balance at the anchor (absent: 0). Wallets not in this map are not counted. */
  anchorBalances: ReadonlyMap<number, ReadonlyMap<string, bigint>>;
  /** Stored changes with anchor - W < height <= anchor + W, ordered by height (loadReserveWindow). */
  changes: ReadonlyArray<{ walletId: number; asset: string; height: number; txid: string | null; delta: bigint }>;
};

/**
 * Per chain asset, the counted wallets' reserves at every height of [anchor - W, anchor + W]: the minimum
 * and where it holds, how far the anchored sum rose over the window before the anchor and fell over the
 * window after it, and the increases before / decreases after the anchor that did it. The sum at a height
 * is the anchored sum minus the deltas between that height and the anchor (each stored delta is exactly
 * balance_after minus the previous balance_after), so one range read of changes is enough. Pure.
 */
export function computeReserveWindow(p: ComputeReserveWindowParameters): Record<string, ChainAssetWindow> {
  const from = p.anchorHeight - p.windowBlocks;
  const out: Record<string, ChainAssetWindow> = {};
  for (const asset of p.assets) {
    let atAnchor = 0n;
    for (const m of p.anchorBalances.values()) atAnchor += m.get(asset) ?? 0n;
    const changes = p.changes.filter((c) => c.asset === asset && p.anchorBalances.has(c.walletId) && c.height > from && c.height <= p.anchorHeight + p.windowBlocks);
    // The sum at anchor - W: undo every change in (anchor - W, anchor].
    let total = atAnchor;
    for (const c of changes) if (c.height <= p.anchorHeight) total -= c.delta;
    let min = total;
    let minHeight = from;
    let minBefore = p.windowBlocks > 0 ? total : atAnchor;
    let minAfter = atAnchor;
    const inflows: WindowMove[] = [];
    const outflows: WindowMove[] = [];
    for (let i = 0; i < changes.length; ) {
      const h = changes[i]!.height;
      for (; i < changes.length && changes[i]!.height === h; i++) {
        const c = changes[i]!;
        total += c.delta;
        if (h <= p.anchorHeight && c.delta > 0n) inflows.push({ walletId: c.walletId, height: h, txid: c.txid, amount: c.delta });
        if (h > p.anchorHeight && c.delta < 0n) outflows.push({ walletId: c.walletId, height: h, txid: c.txid, amount: -c.delta });
      }
      // The sum after every change of height h holds at h (and until the next change).
      if (total < min) (min = total), (minHeight = h);
      if (h < p.anchorHeight && total < minBefore) minBefore = total;
      if (h > p.anchorHeight && total < minAfter) minAfter = total;
    }
    out[asset] = {
      atAnchor, min, minHeight,
      riseBefore: atAnchor > minBefore ? atAnchor - minBefore : 0n,
      dropAfter: atAnchor > minAfter ? atAnchor - minAfter : 0n,
      inflows, outflows,
    };
  }
  return out;
}
