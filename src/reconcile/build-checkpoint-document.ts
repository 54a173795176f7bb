import { computeAssetStatus, computeCoverageBps } from "./compute-coverage.js";
import { computeDigest } from "./compute-digest.js";
import { ASSURANCE, CHECKPOINT_TYPE, WINDOW_DRESSING, type AnchorEntry, type AssetEntry, type AssetWindow, type BackingLine, type CheckpointDocument, type CheckpointFlag, type CheckpointStatus, type Discrepancy, type FlagMove } from "./checkpoint-document.js";
import { computeBackingLines } from "./compute-backing.js";
import type { ChainAssetWindow } from "./compute-reserve-window.js";
import { scaleAmount } from "./scale-amount.js";

/** One chain's reserve window around its anchor (computeReserveWindow), with the labels of the wallets its moves name. */
export type ChainWindow = {
  blocks: number;
  /** Per chain asset id. */
  assets: Readonly<Record<string, ChainAssetWindow>>;
  /** walletId → label, for the wallets named by moves. */
  walletLabels: ReadonlyMap<number, string>;
};

/** One chain's reserves at its anchor, as the store (and the node's full read) give them. Amounts in base units. */
export type ChainReserves = {
  anchor: AnchorEntry;
  /** Per chain asset id: the sum over the counted wallets. */
  totals: Readonly<Record<string, bigint>>;
  countedWallets: number;
  excluded: ReadonlyArray<{ wallet: string; reason: string }>;
  /** One line per counted wallet: its address, or its descriptor. */
  addressEntries: readonly string[];
  discrepancies: readonly Discrepancy[];
  /** The reserve window (a version 2 document needs it on every chain). */
  window?: ChainWindow;
};

export type BuildCheckpointDocumentParameters = {
  seq: number;
  previousDigest: string | null;
  invalidates: number | null;
  snapshot: CheckpointDocument["snapshot"];
  /** The snapshot's per-asset totals (liability asset id → decimals, total). */
  liabilities: ReadonlyArray<{ asset: string; decimals: number; total: bigint }>;
  /** Every configured chain asset with the liability asset it backs (null: none). */
  chainAssets: ReadonlyArray<{ id: string; chain: string; decimals: number; backs: string | null }>;
  chains: ReadonlyArray<ChainReserves>;
  /**
   * The window dressing threshold in bps (config checkpoints.windowDressingBps). Given: a version 2 document,
   * with every chain's `window`. Absent: a version 1 document (the format before windows; how older
   * documents and fixtures are reproduced).
   */
  windowDressingBps?: number;
};

/**
 * Joins one snapshot's liabilities with every chain's reserves at its anchor into a checkpoint
 * document: per liability asset its backing lines (each chain asset scaled exactly to the liability
 * asset's decimals, floored, with the remainder), reserves, surplus, coverage and status; overall
 * status; scope and address-set digest; version 2: per backing line and asset the reserve window (minimum,
 * rise before and drop after the anchors) and the `window_dressing` flags. Deterministic: the same inputs give
 * the same document. Pure.
 * @throws RangeError when windowDressingBps is given and a chain has no window
 */
export function buildCheckpointDocument(p: BuildCheckpointDocumentParameters): CheckpointDocument {
  const anchored = p.chains.every((c) => c.anchor.anchored);
  const v2 = p.windowDressingBps !== undefined;
  if (v2 && p.chains.some((c) => !c.window)) throw new RangeError("buildCheckpointDocument: a version 2 document needs every chain's window");
  const flags: CheckpointFlag[] = [];
  const byChain = new Map(p.chains.map((c) => [c.anchor.chain, c]));
  const liabilityIds = new Set(p.liabilities.map((l) => l.asset));
  const sortedChainAssets = [...p.chainAssets].sort((a, b) => cmp(a.chain, b.chain) || cmp(a.id, b.id));

  const assets: AssetEntry[] = [...p.liabilities].sort((a, b) => cmp(a.asset, b.asset)).map((l) => {
    const lines: BackingLine[] = computeBackingLines({ liability: l, chainAssets: p.chainAssets, chains: byChain });
    const backing = v2 ? lines.map((b) => ({ ...b, window: backingWindow(byChain.get(b.chain)!, b.chainAsset, b.decimals, l.decimals) })) : lines;
    if (!anchored) {
      return { asset: l.asset, decimals: l.decimals, liabilities: l.total.toString(), reserves: null, surplus: null, coverageBps: null, status: "not_anchored", backing, ...(v2 ? { window: null } : {}) };
    }
    const reserves = backing.reduce((s, b) => s + BigInt(b.scaled), 0n);
    const coverage = computeCoverageBps(reserves, l.total);
    const entry: AssetEntry = {
      asset: l.asset, decimals: l.decimals, liabilities: l.total.toString(), reserves: reserves.toString(), surplus: (reserves - l.total).toString(),
      coverageBps: coverage === null ? null : coverage.toString(), status: computeAssetStatus(reserves, l.total), backing,
    };
    if (v2) {
      const window = assetWindow(entry, p.windowDressingBps!, l.decimals);
      entry.window = window;
      if (window.windowDressing) flags.push(windowDressingFlag(entry, window, byChain));
    }
    return entry;
  });

  const discrepancies = p.chains.flatMap((c) => c.discrepancies).sort((a, b) => cmp(a.chain, b.chain) || cmp(a.wallet, b.wallet) || cmp(a.asset, b.asset));
  let status: CheckpointStatus = "covered";
  if (!anchored) status = "not_anchored";
  else if (discrepancies.length) status = "discrepancy";
  else if (assets.some((a) => a.status === "breach")) status = "breach";

  // sort() without a comparator orders strings by UTF-16 code units, the order cmp gives, without a JS call per
  // comparison (100,000 addresses: a third of the document phase).
  const entries = p.chains.flatMap((c) => c.addressEntries.map((e) => `${c.anchor.caip2} ${e}`)).sort();
  return {
    type: CHECKPOINT_TYPE,
    version: v2 ? 2 : 1,
    seq: p.seq,
    previousDigest: p.previousDigest,
    invalidates: p.invalidates,
    status,
    assurance: ASSURANCE,
    snapshot: p.snapshot,
    anchors: p.chains.map((c) => (v2 ? { ...c.anchor, window: { blocks: c.window!.blocks, fromHeight: c.anchor.height - c.window!.blocks, toHeight: c.anchor.height + c.window!.blocks } } : c.anchor)).sort((a, b) => cmp(a.chain, b.chain)),
    assets,
    unbacked: {
      liabilityAssets: assets.filter((a) => a.backing.length === 0).map((a) => a.asset),
      chainAssets: sortedChainAssets.filter((a) => a.backs === null || !liabilityIds.has(a.backs)).map((a) => a.id),
    },
    excluded: p.chains.flatMap((c) => c.excluded.map((e) => ({ chain: c.anchor.chain, wallet: e.wallet, reason: e.reason }))).sort((a, b) => cmp(a.chain, b.chain) || cmp(a.wallet, b.wallet)),
    discrepancies,
    ...(v2 ? { flags: flags.sort((a, b) => cmp(a.type, b.type) || cmp(a.asset, b.asset)) } : {}),
    scope: {
      chains: p.chains.map((c) => c.anchor.chain).sort(cmp),
      assets: assets.map((a) => a.asset),
      wallets: p.chains.reduce((s, c) => s + c.countedWallets, 0),
      addressSet: { entries: entries.length, digest: computeDigest(entries.map((e) => `${e}\n`).join("")) },
    },
  };
}

function backingWindow(c: ChainReserves, chainAsset: string, decimals: number, liabilityDecimals: number): NonNullable<BackingLine["window"]> {
  const w = c.window!.assets[chainAsset];
  if (!w) return { min: "0", minHeight: c.anchor.height - c.window!.blocks, minScaled: "0", riseBefore: "0", dropAfter: "0" };
  return { min: w.min.toString(), minHeight: w.minHeight, minScaled: scaleAmount(w.min, decimals, liabilityDecimals).scaled.toString(), riseBefore: w.riseBefore.toString(), dropAfter: w.dropAfter.toString() };
}

/** The asset's window: sums of its lines (rises and drops floor-scaled per line), and the threshold test, in exact integers. */
function assetWindow(a: AssetEntry, thresholdBps: number, liabilityDecimals: number): AssetWindow {
  let min = 0n;
  let rise = 0n;
  let drop = 0n;
  for (const b of a.backing) {
    min += BigInt(b.window!.minScaled);
    rise += scaleAmount(BigInt(b.window!.riseBefore), b.decimals, liabilityDecimals).scaled;
    drop += scaleAmount(BigInt(b.window!.dropAfter), b.decimals, liabilityDecimals).scaled;
  }
  const limit = BigInt(thresholdBps) * BigInt(a.reserves!);
  return { minReserves: min.toString(), riseBefore: rise.toString(), dropAfter: drop.toString(), thresholdBps, windowDressing: rise * 10_000n > limit && drop * 10_000n > limit };
}

function windowDressingFlag(a: AssetEntry, w: AssetWindow, byChain: ReadonlyMap<string, ChainReserves>): CheckpointFlag {
  const inflows: FlagMove[] = [];
  const outflows: FlagMove[] = [];
  for (const b of a.backing) {
    const cw = byChain.get(b.chain)!.window!;
    const aw = cw.assets[b.chainAsset];
    if (!aw) continue;
    const move = (m: { walletId: number; height: number; txid: string | null; amount: bigint }): FlagMove => ({
      chain: b.chain, chainAsset: b.chainAsset, wallet: cw.walletLabels.get(m.walletId) ?? `wallet ${m.walletId}`, height: m.height, txid: m.txid, amount: m.amount.toString(),
    });
    inflows.push(...aw.inflows.map(move));
    outflows.push(...aw.outflows.map(move));
  }
  const order = (x: FlagMove, y: FlagMove) => cmp(x.chain, y.chain) || x.height - y.height || cmp(x.chainAsset, y.chainAsset) || cmp(x.wallet, y.wallet) || cmp(x.txid ?? "", y.txid ?? "") || cmp(x.amount, y.amount);
  return { type: WINDOW_DRESSING, asset: a.asset, riseBefore: w.riseBefore, dropAfter: w.dropAfter, reserves: a.reserves!, thresholdBps: w.thresholdBps, inflows: inflows.sort(order), outflows: outflows.sort(order) };
}

/** Code-unit order (the same as RFC 8785's member order): locale-independent. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
