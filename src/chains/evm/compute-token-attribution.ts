import type { BalanceChangeInput, SilentChange, TransferInput } from "../../store/index.js";

/** A custody `Transfer` log of a block, as Ponder's route serves it (lowercase addresses, base units). */
export type TokenLog = { logIndex: number; txHash: string; asset: string; from: string; to: string; amount: bigint };

export type ComputeTokenAttributionParameters = {
  walletId: number;
  /** Lowercase address. */
  address: string;
  asset: string;
  /** The balance carried forward (the pair's last read, or logs applied since). */
  previous: bigint;
  /** The node's balance at this block. */
  balance: bigint;
  /** This block's logs of this token from or to the wallet, any order. */
  logs: readonly TokenLog[];
  walletIds: ReadonlyMap<string, number>;
  /** First height the silent part may have happened at (the pair's previous read + 1). */
  fromHeight: number;
};

/**
 * One wallet's token change at a block: a change with its txid and a leg naming the counterparty per
 * `Transfer` log; what the logs do not explain (balance − previous − Σ logs) is a silent change: a change
 * without txid and a discrepancy with both amounts and its block range. Pure.
 */
export function computeTokenAttribution(p: ComputeTokenAttributionParameters): {
  changes: BalanceChangeInput[];
  transfers: TransferInput[];
  silent: Array<Omit<SilentChange, "id" | "chain" | "height" | "blockHash">>;
} {
  const changes: BalanceChangeInput[] = [];
  const transfers: TransferInput[] = [];
  let running = p.previous;
  for (const l of [...p.logs].sort((a, b) => a.logIndex - b.logIndex)) {
    if (l.amount === 0n) continue;
    const out = l.from === p.address;
    const inn = l.to === p.address;
    for (const [dir, other] of [...(out ? [["out", l.to] as const] : []), ...(inn ? [["in", l.from] as const] : [])]) {
      transfers.push({
        walletId: p.walletId,
        asset: p.asset,
        txid: l.txHash,
        position: l.logIndex * 2 + (dir === "out" ? 0 : 1),
        direction: dir,
        amount: l.amount,
        counterparty: other,
        counterpartyWalletId: p.walletIds.get(other) ?? null,
      });
    }
    if (out === inn) continue; // to itself: no net change
    const d = out ? -l.amount : l.amount;
    running += d;
    changes.push({ walletId: p.walletId, asset: p.asset, txid: l.txHash, delta: d });
  }
  const silent: Array<Omit<SilentChange, "id" | "chain" | "height" | "blockHash">> = [];
  if (running !== p.balance) {
    changes.push({ walletId: p.walletId, asset: p.asset, txid: null, delta: p.balance - running });
    silent.push({ walletId: p.walletId, asset: p.asset, carried: running, observed: p.balance, fromHeight: p.fromHeight });
  }
  if (changes.length > 0) changes[changes.length - 1] = { ...changes[changes.length - 1]!, balance: p.balance };
  return { changes, transfers, silent };
}
