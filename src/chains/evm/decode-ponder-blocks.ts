import type { DecodedBlock } from "../chain-adapter.js";

/** One page of Ponder's `/backstop/v1/balances` route. */
export type PonderBalancesPage = {
  version: 1;
  chainId: number;
  indexed: number | null;
  finalized: number | null;
  blocks: Array<{ number: number; hash: string; parentHash: string; timestamp: number; balances: Array<{ wallet: string; asset: string; balance: string }> }>;
};

/**
 * Turns Ponder's blocks into store rows: for each block, the absolute balances that differ from the last
 * stored ones, as `balance` changes (the store derives the deltas). Only counted wallets (`walletIds`:
 * lowercase address -> id) are mirrored: a wallet removed from the config, or pending, is skipped.
 * Advances `last` (`${walletId}|${asset}` -> balance) as if the blocks were stored; the caller reloads it
 * from the store when storing fails.
 */
export function decodePonderBlocks(p: {
  chainKey: string;
  blocks: PonderBalancesPage["blocks"];
  walletIds: ReadonlyMap<string, number>;
  last: Map<string, bigint>;
}): DecodedBlock[] {
  return p.blocks.map((b) => {
    const changes: Array<{ walletId: number; asset: string; txid: null; balance: bigint }> = [];
    for (const o of b.balances) {
      const walletId = p.walletIds.get(o.wallet.toLowerCase());
      if (walletId === undefined) continue;
      const k = `${walletId}|${o.asset}`;
      const balance = BigInt(o.balance);
      if ((p.last.get(k) ?? 0n) === balance) continue;
      changes.push({ walletId, asset: o.asset, txid: null, balance });
      p.last.set(k, balance);
    }
    return { save: { block: { chain: p.chainKey, height: b.number, hash: b.hash, parentHash: b.parentHash, time: b.timestamp }, changes } };
  });
}
