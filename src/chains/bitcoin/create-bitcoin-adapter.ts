import { RpcMethodError } from "../../lib/rpc-errors.js";
import { loadHeaders, loadTransfers, loadWalletStates, markAddressesUsedIn, type BackfillChange, type TransferInput, type WalletStatus } from "../../store/index.js";
import type { ChainAdapter, DecodedBlock, FetchBatchResult, WalletBackfill } from "../chain-adapter.js";
import { computeProviderHosts, rotateUrls } from "../compute-provider-hosts.js";
import { BackfillChainMovedError } from "../errors.js";
import type { IndexerContext } from "../indexer.js";
import { createBitcoinProvider } from "./create-bitcoin-provider.js";
import { createBitcoinRpc, type BitcoinRpc } from "./create-bitcoin-rpc.js";
import { createHeaderWorkChecker } from "./create-header-work-checker.js";
import { computeCounterparty } from "./compute-bitcoin-transfers.js";
import { decodeBitcoinBlock, loadBitcoinScanState, type BitcoinDecodeContext, type BitcoinScanState, type DecodedBitcoinBlock } from "./decode-bitcoin-block.js";
import { BitcoinConfigError } from "./errors.js";
import type { BitcoinNetworkName } from "./wallet-errors.js";

/**
 * Blocks fetched ahead while catching up, and stored together in one transaction
 * (each with its cursor). Bounds memory at PREFETCH raw blocks (~4 MB each at most).
 */
const PREFETCH = 16;

type Fetched = { height: number; hash: string; raw: Buffer } | null;

/**
 * Fetches the raw blocks at heights [from, to] concurrently: hash by height, then the block. A height or
 * block that disappears while fetching ahead (-8 height out of range, -5 block not found: a reorg
 * shortened the chain) is null: not an error; the caller stops there.
 */
function fetchRawBlocks(rpc: BitcoinRpc, from: number, to: number): Promise<Fetched>[] {
  const out: Promise<Fetched>[] = [];
  for (let h = from; h <= to; h++) {
    out.push(
      rpc
        .getBlockHash(h)
        .then(async (hash) => ({ height: h, hash, raw: await rpc.getRawBlock(hash) }))
        .catch((err) => {
          if (err instanceof RpcMethodError && (err.rpcCode === -8 || err.rpcCode === -5)) return null;
          throw err;
        }),
    );
  }
  return out;
}

/** A decoded Bitcoin block as the follower stores it (header, changes, UTXOs; addresses first used in the same transaction). */
function toDecodedBlock(ctx: BitcoinDecodeContext, d: DecodedBitcoinBlock): DecodedBlock {
  return {
    save: { block: d.block, changes: d.changes, utxos: { created: d.utxoCreated, spent: d.spent }, transfers: d.transfers },
    within: d.usedAddressIds.length ? (db) => markAddressesUsedIn(ctx.store, db, { ids: d.usedAddressIds, height: d.block.height }) : undefined,
  };
}

/**
 * The Bitcoin adapter of the follower: a node speaking Bitcoin Core's JSON-RPC, raw blocks parsed and
 * checked (hash, merkle root), the custody UTXO set kept in memory so a spend is matched without asking
 * the node. Catch-up fetches PREFETCH blocks ahead and the follower stores each group in one transaction.
 * Finality is a block count (`finalityDepth` confirmations). A wallet added later is backfilled by a
 * rescan of [birthday, cursor] for its scripts alone, its transfer legs included.
 * @throws BitcoinConfigError when the chain is not a configured Bitcoin chain or has no native asset
 */
export function createBitcoinAdapter(ctx: IndexerContext): ChainAdapter {
  const chain = ctx.config.chains[ctx.chainKey];
  if (!chain || chain.descriptor.kind !== "bitcoin") throw new BitcoinConfigError({ chain: ctx.chainKey, problem: "not a configured Bitcoin chain" });
  const native = Object.values(ctx.config.assets).find((a) => a.chain === ctx.chainKey && a.native);
  if (!native) throw new BitcoinConfigError({ chain: ctx.chainKey, problem: `no native asset configured (add assets.BTC = { chain: "${ctx.chainKey}", decimals: 8, native: true })` });
  const key = ctx.chainKey;
  const hosts = computeProviderHosts(chain.rpc);
  // With several providers each gets few attempts: the follower moves to the next one itself.
  const attempts = chain.rpc.length > 1 ? 2 : undefined;
  const providers = chain.rpc.map((url, i) => createBitcoinProvider({ chainKey: key, chain, url, host: hosts[i]!, attempts }));
  const makeRpc = (first: number) => createBitcoinRpc({ chain: key, urls: rotateUrls(chain.rpc, first), timeoutMs: chain.rpcTimeoutMs });
  let rpc = makeRpc(0);
  let selected = 0;
  const network = chain.descriptor.network as BitcoinNetworkName;
  const dctx: BitcoinDecodeContext = { store: ctx.store, config: ctx.config, chainKey: key, nativeAsset: native.id, network, verifyMerkleRoot: chain.verifyMerkleRoot };
  // Proof of work (issue 8 item 4): every live header's work and difficulty bits, checked before the block
  // is used; it reads the node (the selected provider) only to anchor itself (create-header-work-checker.ts).
  const work = createHeaderWorkChecker({ chain: key, network, fetchHeaderAt: async (height) => rpc.getRawBlockHeader(await rpc.getBlockHash(height)) });
  // The live scan state: every active wallet. Rebuilt from the store whenever a write fails.
  let live: BitcoinScanState | undefined;

  async function fetchBatch(p: { from: number; to: number; prev: { height: number; hash: string } | undefined; signal?: AbortSignal }): Promise<FetchBatchResult> {
    const state = live!;
    const batch = fetchRawBlocks(rpc, p.from, Math.min(p.to, p.from + PREFETCH - 1));
    const blocks: DecodedBlock[] = [];
    let prevHash = p.prev?.hash;
    let scannedTo = p.from - 1;
    try {
      for (const b of batch) {
        const item = await b;
        // The chain got shorter or switched branches while we fetched ahead: store what we have, re-check the tip.
        if (item === null) return { blocks, scannedTo, moved: true };
        if (p.signal?.aborted) break;
        const d = await decodeBitcoinBlock(dctx, state, { height: item.height, hash: item.hash, raw: item.raw, prevHash, checkWork: (h) => work.check(h) });
        if (d === "reorg") return { blocks, scannedTo, reorgAt: item.height };
        blocks.push(toDecodedBlock(dctx, d));
        prevHash = item.hash;
        scannedTo = item.height;
      }
      return { blocks, scannedTo };
    } catch (error) {
      // A fetch or a block failed: the blocks decoded before it are consistent; the follower stores them, then throws.
      return { blocks, scannedTo, error };
    } finally {
      await Promise.allSettled(batch);
    }
  }

  /**
   * Rescans [birthday (or the chain's start), cursor] for one wallet's scripts alone: its outputs, spends,
   * balance changes and transfer legs at their true heights. The legs are the live path's
   * (computeBitcoinChanges), with the other configured wallets' scripts known as custody: what the wallet
   * pays them is internal, as if it had been configured from the start; saveWalletBackfill hands them to
   * the movement matcher in the backfill's transaction. The rescanned blocks must form one hash chain
   * ending at the stored tip (and match every stored header), so they are the blocks the store holds.
   * @throws BackfillChainMovedError when they do not (a reorg while rescanning): nothing is written
   */
  async function backfillWallet(p: { wallet: WalletStatus; cursor: { height: number; hash: string }; signal?: AbortSignal }): Promise<WalletBackfill | { after: number }> {
    const from = p.wallet.birthday ?? chain!.startHeight;
    const walletId = p.wallet.walletId;
    // Custody counterparties: every configured wallet of the chain (a pending one is backfilled in this round too).
    const others = new Set((await loadWalletStates(ctx.store, { chain: key })).filter((w) => w.state !== "removed" && w.walletId !== walletId).map((w) => w.walletId));
    const state = await loadBitcoinScanState(dctx, { walletIds: new Set([walletId]), withUnspent: false, otherCustody: others });
    for (const a of state.scripts.values()) a.firstSeenHeight = null;
    const stored = new Map((await loadHeaders(ctx.store, { chain: key, toHeight: p.cursor.height, limit: Math.max(1, p.cursor.height - from + 1) })).map((h) => [h.height, h.hash]));
    const moved = (height: number, problem: string) => new BackfillChainMovedError({ chain: key, wallet: p.wallet.label, height, problem });
    const changes: BackfillChange[] = [];
    const created: NonNullable<WalletBackfill["utxos"]>["created"][number][] = [];
    const spent: NonNullable<WalletBackfill["utxos"]>["spent"][number][] = [];
    const used: Array<{ id: number; height: number }> = [];
    const transfers: Array<TransferInput & { height: number; blockHash: string }> = [];
    let prevHash: string | undefined;
    for (let h = from; h <= p.cursor.height; h += PREFETCH) {
      if (p.signal?.aborted) return { after: p.cursor.height };
      const batch = fetchRawBlocks(rpc, h, Math.min(p.cursor.height, h + PREFETCH - 1));
      try {
        for (const b of batch) {
          const item = await b;
          if (item === null) throw moved(h, "the node's chain got shorter");
          if (stored.has(item.height) && stored.get(item.height) !== item.hash) throw moved(item.height, "the node's block is not the stored one");
          const d = await decodeBitcoinBlock(dctx, state, { height: item.height, hash: item.hash, raw: item.raw, prevHash });
          if (d === "reorg") throw moved(item.height, "the node's blocks do not link");
          prevHash = item.hash;
          for (const c of d.changes) changes.push({ height: item.height, blockHash: item.hash, txid: c.txid, asset: native!.id, delta: c.delta! });
          for (const u of d.utxoCreated) created.push({ txid: u.txid, vout: u.vout, addressId: u.addressId, script: u.script, value: u.value, height: item.height, blockHash: item.hash });
          for (const s of d.spent) spent.push({ ...s, spentHeight: item.height });
          for (const id of d.usedAddressIds) used.push({ id, height: item.height });
          // Its own legs; the receiving side of what it paid another custody wallet is that wallet's (stored by the live path).
          for (const x of d.transfers) if (x.walletId === walletId) transfers.push({ ...x, height: item.height, blockHash: item.hash });
        }
      } finally {
        await Promise.allSettled(batch);
      }
    }
    if (prevHash !== undefined && prevHash !== p.cursor.hash) throw moved(p.cursor.height, "the rescanned chain does not end at the stored tip");
    await markCustodyInflows({ walletId, scripts: state.scripts.keys(), transfers });
    return { exactFrom: from, source: "rescan", changes, utxos: { created, spent }, addressesUsed: used, transfers };
  }

  /**
   * What another custody wallet paid this wallet in the rescanned range was stored by the live path before
   * this wallet counted as custody: an `out` leg of the sender to one of this wallet's addresses. The
   * backfill sees only this wallet's outputs, so its `in` leg names no sender; each one that an `out` leg of
   * the same transaction pays exactly (same block, address and amount) is internal: it names the sending
   * wallet (counterpartyWalletId; not its address, which the rescan does not see). Each stored leg explains
   * one inflow.
   */
  async function markCustodyInflows(p: { walletId: number; scripts: Iterable<string>; transfers: Array<TransferInput & { height: number; blockHash: string }> }): Promise<void> {
    const own = new Set<string>();
    for (const script of p.scripts) {
      try {
        own.add(computeCounterparty(script, network));
      } catch {
        // A script without an address form cannot be a stored counterparty.
      }
    }
    const taken = new Set<number>();
    const byTxid = new Map<string, Awaited<ReturnType<typeof loadTransfers>>>();
    for (const x of p.transfers) {
      if (x.direction !== "in" || x.txid === null || (x.counterpartyWalletId ?? null) !== null) continue;
      let sent = byTxid.get(x.txid);
      if (!sent) byTxid.set(x.txid, (sent = (await loadTransfers(ctx.store, { chain: key, txid: x.txid })).filter((t) => t.direction === "out" && t.walletId !== p.walletId)));
      const from = sent.find((t) => !taken.has(t.id) && t.blockHash === x.blockHash && t.asset === x.asset && t.amount === x.amount && t.counterparty !== null && own.has(t.counterparty));
      if (!from) continue;
      taken.add(from.id);
      x.counterpartyWalletId = from.walletId;
    }
  }

  return {
    providers,
    depthFinality: true,
    validate: () => [],
    configError: (problems) => new BitcoinConfigError({ chain: key, problem: problems.join("; ") }),
    useProvider(i) {
      selected = i;
      rpc = makeRpc(i);
    },
    prepare: () => providers[selected]!.checkSynced(),
    async loadState({ wallets }) {
      live = await loadBitcoinScanState(dctx, { walletIds: new Set(wallets.filter((w) => w.state === "active").map((w) => w.walletId)), withUnspent: true });
    },
    startHeight: () => chain.startHeight,
    fetchBatch,
    backfillWallet,
  };
}
