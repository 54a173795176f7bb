import { decodeFunctionResult, encodeFunctionData, numberToHex, pad, type Hex } from "viem";
import { erc20Abi } from "../../../abis/erc20.js";
import { multicall3Abi } from "../../../abis/multicall3.js";
import { deleteWalletEvmReadsIn, loadFullReadHeights, loadHeaders, saveEvmReadsIn, type BackfillChange, type Db, type Store, type TransferInput, type WalletStatus } from "../../store/index.js";
import type { WalletBackfill } from "../chain-adapter.js";
import { BackfillChainMovedError } from "../errors.js";
import { computeNativeAttribution } from "./compute-native-attribution.js";
import { computeTokenAttribution, type TokenLog } from "./compute-token-attribution.js";
import type { EvmRpc } from "./create-evm-rpc.js";
import { fetchBlockTransactions } from "./fetch-block-transactions.js";
import { BalanceReadError } from "./fetch-balances-at-block.js";
import type { PonderPlanChain } from "./ponder-plan.js";

/** Blocks per JSON-RPC batch (headers, then native reads): one HTTP round trip each. */
export const BACKFILL_BATCH = 100;
/** Blocks per eth_getLogs range (the usual hosted providers cap a range at 2,000–10,000 blocks). */
export const LOGS_RANGE = 2000;

const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

type Header = { height: number; hash: string; parentHash: string };
type RawLog = { address: string; topics: string[]; data: string; blockNumber: string; blockHash: string; logIndex: string; transactionHash: string; removed?: boolean };

export type BackfillEvmWalletContext = {
  chainKey: string;
  store: Store;
  rpc: EvmRpc;
  plan: PonderPlanChain;
  /** Lowercase address -> id of the wallets that count (counterparties of the legs). */
  walletIds: ReadonlyMap<string, number>;
  startHeight: number;
};

/**
 * The exact backfill of one EVM wallet added to an indexed chain, over [birthday (or the chain's start),
 * cursor], for that wallet alone:
 * - headers of every height from the node (JSON-RPC batches of BACKFILL_BATCH), one hash chain ending at the
 *   stored tip and equal to every stored header, so the reads below are of the stored blocks;
 * - its native balance read at every height (Multicall3 `tryAggregate(getEthBalance)` pinned to the block
 *   hash, EIP-1898 `requireCanonical`), one batch per BACKFILL_BATCH blocks; only heights where it changed
 *   are written, attributed as the indexer does (the block's visible transactions, eth_getBlockByHash);
 * - each token: the opening `balanceOf` at the birthday, its Transfer logs from or to the wallet
 *   (eth_getLogs by topic, birthday+1 to cursor) carried forward, and a `balanceOf` at every stored full read
 *   and at the cursor: a difference is a silent change (a change without txid and a silent_changes row).
 * The first height holds the opening balances (no attribution). Returns the rows for saveWalletBackfill
 * (one transaction with the activation).
 * @throws BackfillChainMovedError when the node's blocks are not the stored ones (nothing is written)
 */
export async function backfillEvmWallet(ctx: BackfillEvmWalletContext, p: { wallet: WalletStatus; cursor: { height: number; hash: string }; signal?: AbortSignal }): Promise<WalletBackfill | { after: number }> {
  const key = ctx.chainKey;
  const from = Math.max(p.wallet.birthday ?? ctx.startHeight, ctx.startHeight);
  const to = p.cursor.height;
  const address = p.wallet.address!.toLowerCase() as Hex;
  const walletId = p.wallet.walletId;
  const walletIds = new Map(ctx.walletIds);
  walletIds.set(address, walletId);
  // A birthday above the cursor (below the node's tip): the follower indexes up to it, then asks again.
  if (from > to) return { after: from };
  const moved = (height: number, problem: string) => new BackfillChainMovedError({ chain: key, wallet: p.wallet.label, height, problem });

  // 1. The blocks: the node's headers, one hash chain ending at the stored tip, equal to the stored headers.
  const stored = new Map((await loadHeaders(ctx.store, { chain: key, toHeight: to, limit: Math.max(1, to - from + 1) })).map((h) => [h.height, h.hash]));
  const headers: Header[] = [];
  for (let h = from; h <= to; h += BACKFILL_BATCH) {
    if (p.signal?.aborted) return { after: to };
    const heights = range(h, Math.min(to, h + BACKFILL_BATCH - 1));
    const got = await ctx.rpc.batch<{ hash: string; parentHash: string } | null>(heights.map((n) => ({ method: "eth_getBlockByNumber", params: [numberToHex(n), false] })));
    got.forEach((b, i) => {
      const height = heights[i]!;
      if (!b) throw moved(height, "the node has no block at this height");
      const prev = headers.at(-1);
      if (prev && b.parentHash !== prev.hash) throw moved(height, "the node's blocks do not link");
      if (stored.has(height) && stored.get(height) !== b.hash) throw moved(height, "the node's block is not the stored one");
      headers.push({ height, hash: b.hash, parentHash: b.parentHash });
    });
  }
  if (headers.at(-1)?.hash !== p.cursor.hash) throw moved(to, "the node's chain does not end at the stored tip");

  const changes: BackfillChange[] = [];
  const transfers: Array<TransferInput & { height: number; blockHash: string }> = [];
  const unattributed: Array<{ height: number; blockHash: string; delta: bigint; candidates: string[] }> = [];
  const silent: Array<{ height: number; blockHash: string; carried: bigint; observed: bigint; fromHeight: number; asset: string }> = [];
  const perHeight = new Map<number, { native: BackfillChange[]; tokens: BackfillChange[] }>();
  const at = (height: number) => {
    let x = perHeight.get(height);
    if (!x) perHeight.set(height, (x = { native: [], tokens: [] }));
    return x;
  };
  const hashAt = (height: number) => headers[height - from]!.hash;

  // 2. Native: a read at every block, written where it changed.
  const native = ctx.plan.nativeAsset;
  const nativeAt: bigint[] = [];
  for (let i = 0; i < headers.length; i += BACKFILL_BATCH) {
    if (p.signal?.aborted) return { after: to };
    const chunk = headers.slice(i, i + BACKFILL_BATCH);
    const data = encodeFunctionData({ abi: multicall3Abi, functionName: "tryAggregate", args: [false, [{ target: ctx.plan.multicall3, callData: encodeFunctionData({ abi: multicall3Abi, functionName: "getEthBalance", args: [address] }) }]] });
    const raws = await ctx.rpc.batch<Hex>(chunk.map((b) => ({ method: "eth_call", params: [{ to: ctx.plan.multicall3, data }, { blockHash: b.hash, requireCanonical: true }] })));
    raws.forEach((raw, j) => nativeAt.push(decodeOne(raw, key, chunk[j]!.height)));
  }
  const changed = headers.filter((b, i) => i > 0 && nativeAt[i] !== nativeAt[i - 1]);
  const txs = await fetchBlockTransactions({ rpc: ctx.rpc, chain: key }, { blocks: changed.map((b) => ({ number: b.height, hash: b.hash })) });
  if (nativeAt[0] !== 0n) at(from).native.push({ height: from, blockHash: hashAt(from), txid: null, asset: native, balance: nativeAt[0]! });
  for (const b of changed) {
    const i = b.height - from;
    const r = computeNativeAttribution({ walletId, address, asset: native, previous: nativeAt[i - 1]!, balance: nativeAt[i]!, transactions: txs.get(b.height) ?? [], walletIds });
    for (const c of r.changes) at(b.height).native.push({ height: b.height, blockHash: b.hash, txid: c.txid, asset: native, ...(c.delta !== undefined ? { delta: c.delta } : {}), ...(c.balance !== undefined ? { balance: c.balance } : {}) });
    for (const x of r.transfers) transfers.push({ ...x, height: b.height, blockHash: b.hash });
    for (const u of r.unattributed) unattributed.push({ height: b.height, blockHash: b.hash, delta: u.delta, candidates: [...u.candidates] });
  }

  // 3. Tokens: the opening read, the Transfer logs, full reads and the cursor confirming the carried balance.
  if (ctx.plan.tokens.length) {
    const fullReads = (await loadFullReadHeights(ctx.store, { chain: key, fromHeight: from + 1, toHeight: to })).filter((h) => h > from);
    const readHeights = [...new Set([from, ...fullReads, to])].sort((a, b) => a - b);
    const readsAt = new Map<number, bigint[]>();
    const calls = ctx.plan.tokens.map((t) => ({ target: t.address, callData: encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [address] }) }));
    const data = encodeFunctionData({ abi: multicall3Abi, functionName: "tryAggregate", args: [false, calls] });
    for (let i = 0; i < readHeights.length; i += BACKFILL_BATCH) {
      const chunk = readHeights.slice(i, i + BACKFILL_BATCH);
      const raws = await ctx.rpc.batch<Hex>(chunk.map((h) => ({ method: "eth_call", params: [{ to: ctx.plan.multicall3, data }, { blockHash: hashAt(h), requireCanonical: true }] })));
      raws.forEach((raw, j) => readsAt.set(chunk[j]!, decodeMany(raw, key, chunk[j]!, calls.length)));
    }
    const logs = new Map<number, TokenLog[]>();
    const topic = pad(address, { size: 32 }).toLowerCase();
    const assetOf = new Map(ctx.plan.tokens.map((t) => [t.address.toLowerCase(), t.asset]));
    for (let h = from + 1; h <= to; h += LOGS_RANGE) {
      if (p.signal?.aborted) return { after: to };
      const end = Math.min(to, h + LOGS_RANGE - 1);
      const base = { address: ctx.plan.tokens.map((t) => t.address), fromBlock: numberToHex(h), toBlock: numberToHex(end) };
      const [outs, ins] = await ctx.rpc.batch<RawLog[]>([
        { method: "eth_getLogs", params: [{ ...base, topics: [TRANSFER_TOPIC, topic] }] },
        { method: "eth_getLogs", params: [{ ...base, topics: [TRANSFER_TOPIC, null, topic] }] },
      ]);
      const seen = new Set<string>();
      for (const l of [...outs!, ...ins!]) {
        if (l.removed || l.topics.length !== 3) continue;
        const height = Number(BigInt(l.blockNumber));
        if (height < h || height > end || l.blockHash !== hashAt(height)) throw moved(height, "a Transfer log is not of the stored block");
        const id = `${height}|${l.logIndex}`;
        if (seen.has(id)) continue; // from and to the wallet: in both answers
        seen.add(id);
        const asset = assetOf.get(l.address.toLowerCase());
        if (!asset) continue;
        let list = logs.get(height);
        if (!list) logs.set(height, (list = []));
        list.push({ logIndex: Number(BigInt(l.logIndex)), txHash: l.transactionHash, asset, from: `0x${l.topics[1]!.slice(26)}`.toLowerCase(), to: `0x${l.topics[2]!.slice(26)}`.toLowerCase(), amount: BigInt(l.data === "0x" ? 0 : l.data) });
      }
    }
    ctx.plan.tokens.forEach((t, ti) => {
      let carried = readsAt.get(from)![ti]!;
      let lastRead = from;
      if (carried !== 0n) at(from).tokens.push({ height: from, blockHash: hashAt(from), txid: null, asset: t.asset, balance: carried });
      const heights = [...new Set([...[...logs.keys()], ...readHeights.filter((h) => h > from)])].sort((a, b) => a - b);
      for (const height of heights) {
        const pairLogs = (logs.get(height) ?? []).filter((l) => l.asset === t.asset);
        const read = readsAt.get(height)?.[ti];
        const viaLogs = pairLogs.reduce((s, l) => s + (l.from === address && l.to !== address ? -l.amount : 0n) + (l.to === address && l.from !== address ? l.amount : 0n), carried);
        const balance = read ?? viaLogs;
        if (balance === carried && pairLogs.length === 0) {
          if (read !== undefined) lastRead = height;
          continue;
        }
        const r = computeTokenAttribution({ walletId, address, asset: t.asset, previous: carried, balance, logs: pairLogs, walletIds, fromHeight: lastRead + 1 });
        const blockHash = hashAt(height);
        for (const c of r.changes) at(height).tokens.push({ height, blockHash, txid: c.txid, asset: t.asset, ...(c.delta !== undefined ? { delta: c.delta } : {}), ...(c.balance !== undefined ? { balance: c.balance } : {}) });
        for (const x of r.transfers) transfers.push({ ...x, height, blockHash });
        for (const s of r.silent) silent.push({ height, blockHash, carried: s.carried, observed: s.observed, fromHeight: s.fromHeight, asset: t.asset });
        carried = balance;
        lastRead = height;
      }
    });
  }

  for (const height of [...perHeight.keys()].sort((a, b) => a - b)) changes.push(...perHeight.get(height)!.native, ...perHeight.get(height)!.tokens);
  transfers.sort((x, y) => x.height - y.height || x.position - y.position);
  const within = async (db: Db) => {
    // A wallet configured again: its old EVM read records are replaced with the backfilled ones.
    await deleteWalletEvmReadsIn(ctx.store, db, { chain: key, walletId });
    const heights = new Set([...silent.map((s) => s.height), ...unattributed.map((u) => u.height)]);
    for (const height of [...heights].sort((a, b) => a - b)) {
      await saveEvmReadsIn(ctx.store, db, {
        chain: key,
        height,
        blockHash: hashAt(height),
        fullRead: false,
        silent: silent.filter((s) => s.height === height).map((s) => ({ walletId, asset: s.asset, carried: s.carried, observed: s.observed, fromHeight: s.fromHeight })),
        unattributed: unattributed.filter((u) => u.height === height).map((u) => ({ walletId, asset: native, delta: u.delta, candidates: [...u.candidates] })),
      });
    }
  };
  return { exactFrom: from, source: "rescan", changes, transfers, within };
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

function decodeMany(raw: Hex, chain: string, height: number, n: number): bigint[] {
  if (raw === "0x") throw new BalanceReadError(`no Multicall3 code on ${chain} at block ${height}`);
  const results = decodeFunctionResult({ abi: multicall3Abi, functionName: "tryAggregate", data: raw });
  if (results.length !== n) throw new BalanceReadError(`Multicall3 answered ${results.length} results for ${n} calls on ${chain} at block ${height}`);
  return results.map((r) => {
    // A token not deployed yet at this block answers empty data: nobody holds it (as fetchBalancesAtBlock).
    if (r.success && r.returnData === "0x") return 0n;
    if (!r.success || r.returnData.length !== 66) throw new BalanceReadError(`balance read failed on ${chain} at block ${height}`);
    return BigInt(r.returnData);
  });
}

function decodeOne(raw: Hex, chain: string, height: number): bigint {
  if (raw === "0x") throw new BalanceReadError(`no Multicall3 code on ${chain} at block ${height}`);
  const [r] = decodeFunctionResult({ abi: multicall3Abi, functionName: "tryAggregate", data: raw });
  if (!r || !r.success || r.returnData.length !== 66) throw new BalanceReadError(`native balance read failed on ${chain} at block ${height}`);
  return BigInt(r.returnData);
}

