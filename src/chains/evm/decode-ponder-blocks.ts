import type { DecodedBlock } from "../chain-adapter.js";
import type { BalanceChangeInput, SilentChange, TransferInput, UnattributedChangeInput } from "../../store/index.js";
import { computeNativeAttribution, type VisibleTransaction } from "./compute-native-attribution.js";
import { computeTokenAttribution, type TokenLog } from "./compute-token-attribution.js";

/** One page of Ponder's `/backstop/v2/balances` route. */
export type PonderBalancesPage = {
  version: 2;
  chainId: number;
  indexed: number | null;
  finalized: number | null;
  blocks: PonderBlock[];
};

/** One block of the route: header, whether every (wallet, token) was read, custody Transfer logs, changed balances. */
export type PonderBlock = {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
  fullRead: boolean;
  transfers: Array<{ logIndex: number; txHash: string; asset: string; from: string; to: string; amount: string }>;
  balances: Array<{ wallet: string; asset: string; balance: string }>;
};

/** What the mirror keeps between blocks to date silent changes: last full read, last log block of each pair. */
export type EvmReadState = {
  lastFullRead: number | null;
  /** `${walletId}|${asset}` -> last height with a Transfer log of that pair (the pair was read there). */
  lastLogAt: Map<string, number>;
};

/** A decoded block plus its EVM read records (written inside the block's transaction). */
export type DecodedEvmBlock = DecodedBlock & {
  evm: {
    fullRead: boolean;
    silent: Array<Omit<SilentChange, "id" | "chain" | "height" | "blockHash">>;
    unattributed: UnattributedChangeInput[];
  };
};

/** The blocks of a page whose native balances changed for a counted wallet: those need their transactions for attribution. */
export function computeBlocksNeedingTransactions(p: { blocks: readonly PonderBlock[]; nativeAsset: string; walletIds: ReadonlyMap<string, number> }): number[] {
  return p.blocks.filter((b) => b.balances.some((o) => o.asset === p.nativeAsset && p.walletIds.has(o.wallet.toLowerCase()))).map((b) => b.number);
}

/**
 * Turns Ponder's blocks into store rows. Balances are the node's absolute reads (exact); attribution
 * only splits a change among its causes: native changes by the block's visible transactions
 * (computeNativeAttribution; `transactions` must hold every block computeBlocksNeedingTransactions names),
 * token changes by their Transfer logs, the unexplained token part as a silent change dated from the pair's
 * previous read. The chain's first stored block (`opening`) holds opening balances: no attribution.
 * Only counted wallets (`walletIds`: lowercase address -> id) are mirrored. Advances `last`
 * (`${walletId}|${asset}` -> balance) and `reads` as if the blocks were stored; the caller reloads both
 * from the store when storing fails. Pure.
 */
export function decodePonderBlocks(p: {
  chainKey: string;
  nativeAsset: string;
  blocks: readonly PonderBlock[];
  walletIds: ReadonlyMap<string, number>;
  last: Map<string, bigint>;
  reads: EvmReadState;
  transactions: ReadonlyMap<number, readonly VisibleTransaction[]>;
  opening: boolean;
}): DecodedEvmBlock[] {
  return p.blocks.map((b, i) => {
    const opening = p.opening && i === 0;
    const changes: BalanceChangeInput[] = [];
    const transfers: TransferInput[] = [];
    const silent: DecodedEvmBlock["evm"]["silent"] = [];
    const unattributed: UnattributedChangeInput[] = [];
    const read = new Map<string, bigint>();
    const logs = new Map<string, TokenLog[]>();
    const pairs = new Map<string, { walletId: number; address: string; asset: string }>();
    const add = (address: string, asset: string) => {
      const a = address.toLowerCase();
      const walletId = p.walletIds.get(a);
      if (walletId === undefined) return undefined;
      const k = `${walletId}|${asset}`;
      if (!pairs.has(k)) pairs.set(k, { walletId, address: a, asset });
      return k;
    };
    for (const o of b.balances) {
      const k = add(o.wallet, o.asset);
      if (k) read.set(k, BigInt(o.balance));
    }
    for (const l of b.transfers) {
      const log: TokenLog = { logIndex: l.logIndex, txHash: l.txHash, asset: l.asset, from: l.from.toLowerCase(), to: l.to.toLowerCase(), amount: BigInt(l.amount) };
      for (const side of new Set([log.from, log.to])) {
        const k = add(side, l.asset);
        if (!k) continue;
        let list = logs.get(k);
        if (!list) logs.set(k, (list = []));
        list.push(log);
      }
    }
    const keys = [...pairs.keys()].sort();
    for (const k of keys) {
      const { walletId, address, asset } = pairs.get(k)!;
      const previous = p.last.get(k) ?? 0n;
      const balance = read.get(k) ?? previous;
      const pairLogs = logs.get(k) ?? [];
      if (opening) {
        if (balance !== previous) changes.push({ walletId, asset, txid: null, balance });
      } else if (asset === p.nativeAsset) {
        if (balance === previous) continue;
        const r = computeNativeAttribution({ walletId, address, asset, previous, balance, transactions: p.transactions.get(b.number) ?? [], walletIds: p.walletIds });
        changes.push(...r.changes);
        transfers.push(...r.transfers);
        unattributed.push(...r.unattributed);
      } else {
        if (balance === previous && pairLogs.length === 0) continue;
        const lastRead = Math.max(p.reads.lastFullRead ?? -1, p.reads.lastLogAt.get(k) ?? -1);
        const r = computeTokenAttribution({ walletId, address, asset, previous, balance, logs: pairLogs, walletIds: p.walletIds, fromHeight: lastRead >= 0 ? lastRead + 1 : b.number });
        changes.push(...r.changes);
        transfers.push(...r.transfers);
        silent.push(...r.silent);
      }
      p.last.set(k, balance);
      if (pairLogs.length > 0) p.reads.lastLogAt.set(k, b.number);
    }
    if (b.fullRead) p.reads.lastFullRead = b.number;
    transfers.sort((x, y) => x.position - y.position || x.walletId - y.walletId);
    return {
      save: { block: { chain: p.chainKey, height: b.number, hash: b.hash, parentHash: b.parentHash, time: b.timestamp }, changes, transfers },
      evm: { fullRead: b.fullRead, silent, unattributed },
    };
  });
}
