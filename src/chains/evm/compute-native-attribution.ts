import type { BalanceChangeInput, TransferInput, UnattributedChangeInput } from "../../store/index.js";

/** A top-level transaction of a block as `eth_getBlockByHash(…, true)` shows it (no receipt). */
export type VisibleTransaction = {
  hash: string;
  /** Position in the block. */
  index: number;
  from: string;
  /** Null for a contract creation. */
  to: string | null;
  /** Wei. */
  value: bigint;
  /** Upper bound of the fee the sender can have paid, wei: gas limit × (maxFeePerGas ?? gasPrice). */
  maxFee: bigint;
};

/** Positions of native legs start here (token legs use log indexes below it). */
export const NATIVE_LEG_POSITION = 2 ** 32;

export type ComputeNativeAttributionParameters = {
  walletId: number;
  /** Lowercase address. */
  address: string;
  asset: string;
  previous: bigint;
  balance: bigint;
  transactions: readonly VisibleTransaction[];
  /** Lowercase address -> custody wallet id (counterparties that are custody wallets). */
  walletIds: ReadonlyMap<string, number>;
};

/**
 * Splits one wallet's native balance change at a block (`balance` − `previous`, exact from the node) among
 * the block's visible top-level transactions from or to the wallet. Rule: their values explain the change
 * when what is left is at most the fees the wallet's own transactions can have paid (0 ≥ rest ≥ −Σ maxFee;
 * without receipts the gas used is unknown). Then each value is a change with its txid and a transfer leg
 * naming the counterparty, and the rest (gas) an unattributed change. Otherwise (an internal transfer, a
 * withdrawal, fee income, a failed transaction whose value did not move) nothing is guessed: the whole
 * change is unattributed, with the candidate transactions listed. Pure.
 */
export function computeNativeAttribution(p: ComputeNativeAttributionParameters): {
  changes: BalanceChangeInput[];
  transfers: TransferInput[];
  unattributed: UnattributedChangeInput[];
} {
  const delta = p.balance - p.previous;
  const mine = p.transactions.filter((t) => t.from === p.address || t.to === p.address).sort((a, b) => a.index - b.index);
  const candidates = mine.map((t) => t.hash);
  let explained = 0n;
  let feeBound = 0n;
  for (const t of mine) {
    if (t.from === p.address) feeBound += t.maxFee;
    if (t.from === p.address && t.to !== p.address) explained -= t.value;
    if (t.to === p.address && t.from !== p.address) explained += t.value;
  }
  const rest = delta - explained;
  const consistent = rest <= 0n && rest >= -feeBound;
  const changes: BalanceChangeInput[] = [];
  const transfers: TransferInput[] = [];
  const unattributed: UnattributedChangeInput[] = [];
  if (consistent) {
    let running = p.previous;
    for (const t of mine) {
      if (t.value === 0n || t.from === t.to) continue;
      const out = t.from === p.address;
      const other = out ? t.to : t.from;
      running += out ? -t.value : t.value;
      changes.push({ walletId: p.walletId, asset: p.asset, txid: t.hash, delta: out ? -t.value : t.value });
      transfers.push({
        walletId: p.walletId,
        asset: p.asset,
        txid: t.hash,
        position: NATIVE_LEG_POSITION + t.index * 2 + (out ? 0 : 1),
        direction: out ? "out" : "in",
        amount: t.value,
        counterparty: other,
        counterpartyWalletId: other ? (p.walletIds.get(other) ?? null) : null,
      });
    }
    if (rest !== 0n) {
      changes.push({ walletId: p.walletId, asset: p.asset, txid: null, delta: rest });
      unattributed.push({ walletId: p.walletId, asset: p.asset, delta: rest, candidates: mine.filter((t) => t.from === p.address).map((t) => t.hash) });
    }
  } else {
    changes.push({ walletId: p.walletId, asset: p.asset, txid: null, delta });
    unattributed.push({ walletId: p.walletId, asset: p.asset, delta, candidates });
  }
  // The last change carries the absolute balance too: the store checks the deltas add up to the node's read.
  if (changes.length > 0) changes[changes.length - 1] = { ...changes[changes.length - 1]!, balance: p.balance };
  return { changes, transfers, unattributed };
}
