import type { RpcBlock } from "./create-solana-rpc.js";
import { SolanaUnsupportedNodeError } from "./errors.js";

/** A balance change of one (wallet, asset) in one transaction, in base units (lamports / token units). */
export type SlotChange = { walletId: number; asset: string; txid: string; delta: bigint };

export type ComputeSlotChangesParameters = {
  chain: string;
  block: RpcBlock;
  /** Custody owner address -> wallet id. */
  owners: ReadonlyMap<string, number>;
  /** Asset id of SOL (undefined: SOL not tracked). */
  nativeAsset: string | undefined;
  /** Mint address -> asset id. */
  mints: ReadonlyMap<string, string>;
};

/**
 * Derives exact per-(wallet, asset) changes of one block from its transactions' pre/post balances:
 * SOL from the owner account's pre/postBalances, tokens from pre/postTokenBalances whose owner is a
 * custody wallet and whose mint is configured, summed over all its token accounts (associated or
 * not, created or closed in the transaction). Failed transactions count too: they pay fees.
 * Also returns the custody token accounts seen (discovery).
 * @throws SolanaUnsupportedNodeError when a token balance has no owner (nodes before 1.9).
 */
export function computeSlotChanges(p: ComputeSlotChangesParameters): { changes: SlotChange[]; tokenAccounts: Map<string, { walletId: number; mint: string }> } {
  const changes: SlotChange[] = [];
  const tokenAccounts = new Map<string, { walletId: number; mint: string }>();
  for (const tx of p.block.transactions ?? []) {
    const meta = tx.meta;
    if (!meta) throw new SolanaUnsupportedNodeError({ chain: p.chain, problem: `transaction ${tx.transaction.signatures[0]} has no meta` });
    const txid = tx.transaction.signatures[0]!;
    // Balances index static keys, then loaded writable, then loaded readonly addresses (v0 lookups).
    const keys = [...tx.transaction.message.accountKeys, ...(meta.loadedAddresses?.writable ?? []), ...(meta.loadedAddresses?.readonly ?? [])];
    const deltas = new Map<string, { walletId: number; asset: string; delta: bigint }>();
    const add = (walletId: number, asset: string, d: bigint) => {
      const k = `${walletId}\u0000${asset}`;
      const e = deltas.get(k);
      if (e) e.delta += d;
      else deltas.set(k, { walletId, asset, delta: d });
    };
    if (p.nativeAsset !== undefined) {
      keys.forEach((key, i) => {
        const walletId = p.owners.get(key);
        if (walletId === undefined) return;
        add(walletId, p.nativeAsset!, BigInt(meta.postBalances[i]!) - BigInt(meta.preBalances[i]!));
      });
    }
    const token = (list: typeof meta.preTokenBalances, sign: 1n | -1n) => {
      for (const b of list ?? []) {
        const asset = p.mints.get(b.mint);
        if (asset === undefined) continue;
        if (b.owner === undefined) throw new SolanaUnsupportedNodeError({ chain: p.chain, problem: `token balance without owner in ${txid}` });
        const walletId = p.owners.get(b.owner);
        if (walletId === undefined) continue;
        tokenAccounts.set(keys[b.accountIndex]!, { walletId, mint: b.mint });
        add(walletId, asset, sign * BigInt(b.uiTokenAmount.amount));
      }
    };
    token(meta.preTokenBalances, -1n);
    token(meta.postTokenBalances, 1n);
    for (const d of deltas.values()) if (d.delta !== 0n) changes.push({ ...d, txid });
  }
  return { changes, tokenAccounts };
}
