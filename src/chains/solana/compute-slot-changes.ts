import type { TransferInput } from "../../store/index.js";
import type { RpcBlock, RpcBlockTransaction, RpcTokenBalance } from "./create-solana-rpc.js";
import { SolanaUnsupportedNodeError } from "./errors.js";

/** A balance change of one (wallet, asset) in one transaction, in base units (lamports / token units). */
export type SlotChange = { walletId: number; asset: string; txid: string; delta: bigint };

/** Legs of one transaction are numbered from txIndex × 2^20, so positions order legs within the block. */
const LEGS_PER_TRANSACTION = 2 ** 20;

/** Inputs of computeSlotChanges: one block and what custody is (owners, the SOL asset, configured mints). */
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

/** What one block changed for custody: balance changes, token accounts seen, transfer legs. */
export type ComputeSlotChangesReturnType = {
  changes: SlotChange[];
  /** Custody token accounts seen (discovery): account address -> owner's wallet id and mint. */
  tokenAccounts: Map<string, { walletId: number; mint: string }>;
  /** Transfer legs of the custody movements (see computeTransferLegs' rules), in block order. */
  transfers: TransferInput[];
};

/**
 * Derives exact per-(wallet, asset) changes of one block from its transactions' pre/post balances:
 * SOL from the owner account's pre/postBalances, tokens from pre/postTokenBalances whose owner is a
 * custody wallet and whose mint is configured, summed over all its token accounts (associated or
 * not, created or closed in the transaction). Failed transactions count too: they pay fees. Reads the
 * `"accounts"` and the `"full"` block forms alike. Also returns the custody token accounts seen and
 * the transfer legs: for each (custody wallet, asset, transaction) legs whose signed sum (in − out −
 * fee) equals the change.
 * @throws SolanaUnsupportedNodeError when a token balance of a configured mint has no owner (nodes before 1.9), or a transaction has no meta.
 */
export function computeSlotChanges(p: ComputeSlotChangesParameters): ComputeSlotChangesReturnType {
  const changes: SlotChange[] = [];
  const transfers: TransferInput[] = [];
  const tokenAccounts = new Map<string, { walletId: number; mint: string }>();
  for (const [i, tx] of (p.block.transactions ?? []).entries()) {
    const meta = tx.meta;
    const txid = tx.transaction.signatures[0]!;
    if (!meta) throw new SolanaUnsupportedNodeError({ chain: p.chain, problem: `transaction ${txid} has no meta` });
    const keys = accountKeysOf(tx);
    const position = (tx.index ?? i) * LEGS_PER_TRANSACTION;
    const legs: TransferInput[] = [];
    const leg = (l: Omit<TransferInput, "position" | "txid">) => legs.push({ ...l, txid, position: position + legs.length });

    // SOL: every key's lamport delta; the fee payer's (key 0) includes the fee.
    const native = p.nativeAsset;
    if (native !== undefined && keys.some((k) => p.owners.has(k))) {
      const fee = BigInt(meta.fee ?? 0);
      const payerWallet = p.owners.get(keys[0]!);
      if (payerWallet !== undefined && fee > 0n) leg({ walletId: payerWallet, asset: native, direction: "fee", amount: fee, counterparty: null, counterpartyWalletId: null });
      const value = new Map<string, bigint>();
      keys.forEach((key, k) => {
        const delta = BigInt(meta.postBalances[k]!) - BigInt(meta.preBalances[k]!);
        const walletId = p.owners.get(key);
        if (walletId !== undefined && delta !== 0n) changes.push({ walletId, asset: native, txid, delta });
        // What moved as value: the payer's delta without the fee it paid.
        const v = k === 0 ? delta + fee : delta;
        if (v !== 0n) value.set(key, v);
      });
      addLegs(leg, native, value, p.owners);
    }

    // Tokens: per configured mint, each owner's delta summed over its token accounts.
    const byMint = new Map<string, Map<string, bigint>>();
    let custodyToken = false;
    const token = (list: RpcTokenBalance[] | null | undefined, sign: 1n | -1n) => {
      for (const b of list ?? []) {
        const asset = p.mints.get(b.mint);
        if (asset === undefined) continue;
        if (b.owner === undefined) throw new SolanaUnsupportedNodeError({ chain: p.chain, problem: `token balance without owner in ${txid}` });
        let owners = byMint.get(b.mint);
        if (!owners) byMint.set(b.mint, (owners = new Map()));
        owners.set(b.owner, (owners.get(b.owner) ?? 0n) + sign * BigInt(b.uiTokenAmount.amount));
        const walletId = p.owners.get(b.owner);
        if (walletId === undefined) continue;
        custodyToken = true;
        tokenAccounts.set(keys[b.accountIndex]!, { walletId, mint: b.mint });
      }
    };
    token(meta.preTokenBalances, -1n);
    token(meta.postTokenBalances, 1n);
    if (custodyToken) {
      for (const [mint, deltas] of byMint) {
        const asset = p.mints.get(mint)!;
        for (const [owner, delta] of deltas) {
          const walletId = p.owners.get(owner);
          if (walletId !== undefined && delta !== 0n) changes.push({ walletId, asset, txid, delta });
          if (delta === 0n) deltas.delete(owner);
        }
        addLegs(leg, asset, deltas, p.owners);
      }
    }
    transfers.push(...legs);
  }
  return { changes, tokenAccounts, transfers };
}

/** The keys balances are indexed by: the `"accounts"` list, or static keys then loaded writable then loaded readonly (v0). */
function accountKeysOf(tx: RpcBlockTransaction): string[] {
  const t = tx.transaction;
  if ("accountKeys" in t) return t.accountKeys.map((k) => k.pubkey);
  const loaded = tx.meta?.loadedAddresses;
  return [...t.message.accountKeys, ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])];
}

/** Adds the in/out legs of every custody party among `moves` (party -> value moved, non-zero) for one asset. */
function addLegs(leg: (l: Omit<TransferInput, "position" | "txid">) => void, asset: string, moves: ReadonlyMap<string, bigint>, owners: ReadonlyMap<string, number>) {
  const pairs = computeCounterparties(moves);
  for (const [party, amount] of moves) {
    const walletId = owners.get(party);
    if (walletId === undefined) continue;
    const direction = amount > 0n ? "in" : "out";
    for (const x of pairs.get(party) ?? [{ counterparty: null, amount: amount < 0n ? -amount : amount }]) {
      leg({ walletId, asset, direction, amount: x.amount, counterparty: x.counterparty, counterpartyWalletId: x.counterparty === null ? null : (owners.get(x.counterparty) ?? null) });
    }
  }
}

/**
 * Who paid whom, where the transaction shows it unambiguously (one asset, one transaction; `moves`
 * maps each party to its signed value delta). The moves must balance (no mint, burn or unexplained
 * value); then, if one side is a single party, it is the counterparty of every party on the other
 * side, each leg of that party's own amount; if both sides have several parties, they must pair up
 * one-to-one by exactly equal amounts, each amount occurring once per side. Otherwise no party gets
 * counterparties (the caller writes one leg with counterparty null). Returns party -> legs (amount > 0).
 */
export function computeCounterparties(moves: ReadonlyMap<string, bigint>): Map<string, { counterparty: string; amount: bigint }[]> {
  const out = new Map<string, { counterparty: string; amount: bigint }[]>();
  const senders = [...moves].filter(([, v]) => v < 0n);
  const receivers = [...moves].filter(([, v]) => v > 0n);
  let total = 0n;
  for (const v of moves.values()) total += v;
  if (total !== 0n || !senders.length || !receivers.length) return out;
  const add = (party: string, counterparty: string, amount: bigint) => {
    let list = out.get(party);
    if (!list) out.set(party, (list = []));
    list.push({ counterparty, amount });
  };
  const single = senders.length === 1 ? { one: senders[0]!, many: receivers } : receivers.length === 1 ? { one: receivers[0]!, many: senders } : undefined;
  if (single) {
    for (const [party, v] of single.many) {
      const amount = v < 0n ? -v : v;
      add(party, single.one[0], amount);
      add(single.one[0], party, amount);
    }
    return out;
  }
  const bySent = new Map<bigint, string[]>();
  for (const [party, v] of senders) bySent.set(-v, [...(bySent.get(-v) ?? []), party]);
  const byReceived = new Map<bigint, string[]>();
  for (const [party, v] of receivers) byReceived.set(v, [...(byReceived.get(v) ?? []), party]);
  if (bySent.size !== senders.length || byReceived.size !== receivers.length || senders.length !== receivers.length) return out;
  for (const [amount, [sender]] of bySent) {
    const receiver = byReceived.get(amount)?.[0];
    if (receiver === undefined) return new Map();
    add(sender!, receiver, amount);
    add(receiver, sender!, amount);
  }
  return out;
}
