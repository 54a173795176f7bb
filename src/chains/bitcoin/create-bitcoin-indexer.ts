import { BackstopError } from "../../lib/errors.js";
import {
  loadCursor,
  loadHeaders,
  loadUnspent,
  mapStoreError,
  markAddressesUsedIn,
  rollbackTo,
  saveBlockIn,
  type BalanceChangeInput,
  type WalletAddressRow,
} from "../../store/index.js";
import type { Indexer, IndexerContext, IndexerRunParameters } from "../indexer.js";
import { RpcMethodError } from "../../lib/rpc-errors.js";
import { sleep } from "../../lib/sleep.js";
import { createBitcoinRpc, type BitcoinRpc } from "./create-bitcoin-rpc.js";
import { buildBitcoinTransferTxs, computeBitcoinTransfers } from "./compute-bitcoin-transfers.js";
import { createHeaderWorkChecker } from "./create-header-work-checker.js";
import { createWatchSet, type WatchSet } from "./create-watch-set.js";
import { BitcoinConfigError, DeepReorgError, NodeSyncingError, WrongNetworkError } from "./errors.js";
import { matchBlock, type MatchedBlock } from "./match-block.js";
import { syncWalletAddresses } from "./sync-wallet-addresses.js";
import type { BitcoinNetworkName } from "./wallet-errors.js";

/**
 * Blocks fetched ahead while catching up, and stored together in one transaction
 * (each with its cursor). Bounds memory at PREFETCH raw blocks (~4 MB each at most).
 */
const PREFETCH = 16;

/**
 * The Bitcoin indexer: follows a node speaking Bitcoin Core's JSON-RPC, parses
 * raw blocks, keeps the custody UTXO set and writes each block in one
 * transaction with its cursor. Reorgs roll back to the common ancestor; one
 * deeper than finality halts with DeepReorgError.
 */
export function createBitcoinIndexer(ctx: IndexerContext): Indexer {
  const chain = ctx.config.chains[ctx.chainKey];
  if (!chain || chain.descriptor.kind !== "bitcoin") throw new BitcoinConfigError({ chain: ctx.chainKey, problem: "not a configured Bitcoin chain" });
  const native = Object.values(ctx.config.assets).find((a) => a.chain === ctx.chainKey && a.native);
  if (!native) throw new BitcoinConfigError({ chain: ctx.chainKey, problem: `no native asset configured (add assets.BTC = { chain: "${ctx.chainKey}", decimals: 8, native: true })` });
  const { store, logger } = ctx;
  const log = logger.child({ chain: ctx.chainKey });
  const rpc: BitcoinRpc = createBitcoinRpc({ chain: ctx.chainKey, urls: chain.rpc, timeoutMs: chain.rpcTimeoutMs });
  const startHeight = chain.startHeight;
  const verifyMerkleRoot = chain.verifyMerkleRoot;
  // Proof of work (issue 8 item 4): every header's work and difficulty bits, checked before the
  // block is used; it reads the node only to anchor itself (create-header-work-checker.ts).
  const work = createHeaderWorkChecker({
    chain: ctx.chainKey,
    network: chain.descriptor.network as BitcoinNetworkName,
    fetchHeaderAt: async (height) => rpc.getRawBlockHeader(await rpc.getBlockHash(height)),
  });

  // In-memory mirrors of the store, rebuilt from it whenever a write fails.
  let scripts = new Map<string, WalletAddressRow>();
  let unspent = new Map<string, { walletId: number; value: bigint; script: string }>();
  // The scan path's view of the same: watched scripts and custody outpoints in wire form.
  let watch: WatchSet = createWatchSet();

  async function reloadState() {
    const addresses = await syncWalletAddresses({ store, config: ctx.config, chainKey: ctx.chainKey });
    scripts = new Map(addresses.filter((a) => a.script).map((a) => [a.script!, a]));
    unspent = new Map((await loadUnspent(store, { chain: ctx.chainKey })).map((u) => [`${u.txid}:${u.vout}`, { walletId: u.walletId, value: u.value, script: u.script }]));
    watch = createWatchSet({ scripts: scripts.keys(), outpoints: unspent.keys() });
  }

  async function checkNode() {
    const genesis = await rpc.getBlockHash(0);
    const info = await rpc.getBlockchainInfo();
    if (genesis !== chain!.descriptor.genesisHash) {
      throw new WrongNetworkError({ chain: ctx.chainKey, expected: chain!.descriptor.genesisHash, actual: genesis, network: info.chain });
    }
    // Regtest nodes report initial block download until a fresh block arrives; only headers-ahead-of-blocks means syncing there.
    const ibd = info.initialblockdownload === true && chain!.descriptor.network !== "regtest";
    if (ibd || info.headers > info.blocks + 1) throw new NodeSyncingError({ chain: ctx.chainKey, blocks: info.blocks, headers: info.headers });
  }

  /** The node's block hash at a height, or null when it has no block there (the chain may shrink while we look). */
  async function fetchHashAt(height: number): Promise<string | null> {
    try {
      return await rpc.getBlockHash(height);
    } catch (err) {
      if (err instanceof RpcMethodError && err.rpcCode === -8) return null;
      throw err;
    }
  }

  /** Walks back from the cursor to the newest stored header the node still has; rolls back to it. */
  async function reconcileWithNode(reason: string) {
    const cursor = await loadCursor(store, ctx.chainKey);
    if (!cursor) return;
    const headers = await loadHeaders(store, { chain: ctx.chainKey, limit: chain!.headerWindow + 1 });
    const tip = await rpc.getBlockCount();
    for (const h of headers) {
      const nodeHash = h.height <= tip ? await fetchHashAt(h.height) : null;
      if (nodeHash === h.hash) {
        if (h.height === cursor.height) return;
        const depth = cursor.height - h.height;
        // Deeper than finality, or below a height already recorded as final (the tip
        // that made it final may itself have been reorged away): never roll that back silently.
        if (depth >= chain!.finalityDepth || (cursor.finalizedHeight !== null && h.height < cursor.finalizedHeight)) {
          throw new DeepReorgError({ chain: ctx.chainKey, depth, finalityDepth: chain!.finalityDepth, height: h.height + 1, storedHash: headers.find((x) => x.height === h.height + 1)?.hash ?? "?", nodeHash: h.height + 1 <= tip ? await fetchHashAt(h.height + 1) : null });
        }
        log.warn({ msg: "reorg", reason, from_height: cursor.height, to_height: h.height, depth, block: h.hash });
        await rollbackTo(store, { chain: ctx.chainKey, height: h.height });
        await reloadState();
        return;
      }
    }
    const oldest = headers[headers.length - 1]!;
    throw new DeepReorgError({ chain: ctx.chainKey, depth: cursor.height - oldest.height + 1, finalityDepth: chain!.finalityDepth, height: oldest.height, storedHash: oldest.hash, nodeHash: oldest.height <= tip ? await fetchHashAt(oldest.height) : null });
  }

  function computeChanges(m: MatchedBlock) {
    const changes = new Map<string, BalanceChangeInput>();
    const add = (walletId: number, txid: string, delta: bigint) => {
      const key = `${walletId}:${txid}`;
      const c = changes.get(key);
      if (c) c.delta! += delta;
      else changes.set(key, { walletId, asset: native!.id, txid, delta });
    };
    const created = new Map<string, { walletId: number; value: bigint; script: string }>();
    const utxoCreated = m.outputs.map((o) => {
      const addr = scripts.get(o.script)!;
      created.set(`${o.txid}:${o.vout}`, { walletId: addr.walletId, value: o.value, script: o.script });
      return { txid: o.txid, vout: o.vout, walletId: addr.walletId, addressId: addr.id, script: o.script, value: o.value };
    });
    // Interleave in block order: outputs of a tx before inputs of later txs spending them.
    for (const o of utxoCreated) add(o.walletId, o.txid, o.value);
    const spent = m.spends.map((s) => {
      const key = `${s.prevTxid}:${s.prevVout}`;
      const u = unspent.get(key) ?? created.get(key)!;
      add(u.walletId, s.txid, -u.value);
      return { txid: s.prevTxid, vout: s.prevVout, spentTxid: s.txid };
    });
    const usedAddressIds = [...new Set(m.outputs.map((o) => scripts.get(o.script)!.id))];
    // Transfer legs (who paid whom, the fee), stored with the block: compute-bitcoin-transfers.ts.
    const transfers = computeBitcoinTransfers({
      asset: native!.id,
      network: chain!.descriptor.network as BitcoinNetworkName,
      txs: buildBitcoinTransferTxs({ block: m, walletOfScript: (s) => scripts.get(s)?.walletId, spentOutput: (txid, vout) => unspent.get(`${txid}:${vout}`) ?? created.get(`${txid}:${vout}`) }),
    });
    return { changes: [...changes.values()].filter((c) => c.delta !== 0n), utxoCreated, spent, usedAddressIds, transfers };
  }

  type Prepared = { block: { chain: string; height: number; hash: string; parentHash: string; time: number }; c: ReturnType<typeof computeChanges> };

  /**
   * Matches one block against the in-memory state and advances that state (UTXOs,
   * watch set, used addresses) as if the block were stored; the caller commits the
   * prepared blocks, or rebuilds the state from the store when the commit fails.
   * Returns "reorg" when the block does not extend `prevHash`.
   */
  async function prepareBlock(height: number, hash: string, raw: Buffer, prevHash: string | undefined): Promise<Prepared | "reorg"> {
    let m = matchBlock({ chain: ctx.chainKey, height, raw, expectedHash: hash, watch, verifyMerkleRoot });
    if (prevHash !== undefined && m.prevHash !== prevHash) return "reorg";
    // Proof of work: a header without the network's work is refused before anything is derived from it.
    await work.check({ height, hash: m.hash, prevHash: m.prevHash, bits: m.bits, time: m.time });
    // Gap limit: using an address may extend derivation; re-match the block until no new scripts appear.
    const usedSoFar = new Set<number>();
    for (;;) {
      const fresh = m.outputs.map((o) => scripts.get(o.script)!).filter((a) => a.branch !== null && a.firstSeenHeight === null && !usedSoFar.has(a.id));
      if (!fresh.length) break;
      for (const a of fresh) usedSoFar.add(a.id);
      const before = scripts.size;
      // Derived addresses are saved in their own transaction: deriving ahead is harmless if the block is never stored.
      const addresses = await syncWalletAddresses({ store, config: ctx.config, chainKey: ctx.chainKey, alsoUsed: [...usedSoFar] });
      const used = new Map([...scripts.values()].filter((a) => a.firstSeenHeight !== null).map((a) => [a.id, a.firstSeenHeight]));
      scripts = new Map(addresses.filter((a) => a.script).map((a) => [a.script!, { ...a, firstSeenHeight: used.get(a.id) ?? a.firstSeenHeight }]));
      for (const script of scripts.keys()) watch.addScript(script);
      if (scripts.size === before) break;
      m = matchBlock({ chain: ctx.chainKey, height, raw, expectedHash: hash, watch, verifyMerkleRoot });
    }
    const c = computeChanges(m);
    // Advance the in-memory state: created outputs first, then spends (some spend outputs of this block).
    for (const u of c.utxoCreated) {
      unspent.set(`${u.txid}:${u.vout}`, { walletId: u.walletId, value: u.value, script: u.script });
      watch.addOutpoint(u.txid, u.vout);
    }
    for (const sp of c.spent) {
      unspent.delete(`${sp.txid}:${sp.vout}`);
      watch.deleteOutpoint(sp.txid, sp.vout);
    }
    for (const o of m.outputs) {
      const a = scripts.get(o.script)!;
      if (a.firstSeenHeight === null) a.firstSeenHeight = height;
    }
    return { block: { chain: ctx.chainKey, height, hash, parentHash: m.prevHash, time: m.time }, c };
  }

  /** Stores prepared blocks in ONE transaction, each block with its cursor. On failure the in-memory state is rebuilt from the store. */
  async function commitBlocks(prepared: readonly Prepared[], tip: number) {
    if (!prepared.length) return;
    const finalizedHeight = tip - chain!.finalityDepth + 1;
    try {
      await store.tx(async (db) => {
        for (const { block, c } of prepared) {
          await saveBlockIn(store, db, {
            block,
            changes: c.changes,
            utxos: { created: c.utxoCreated, spent: c.spent },
            transfers: c.transfers,
            finalizedHeight: finalizedHeight >= 0 ? finalizedHeight : undefined,
          });
          if (c.usedAddressIds.length) await markAddressesUsedIn(store, db, { ids: c.usedAddressIds, height: block.height });
        }
      });
    } catch (err) {
      await reloadState();
      throw err;
    }
    for (const { block, c } of prepared) if (c.changes.length) log.debug({ msg: "custody activity", block: block.height, hash: block.hash, changes: c.changes.length });
  }

  /**
   * Catches up from the cursor to `target`, fetching up to PREFETCH blocks ahead and
   * storing each fetched group in one transaction; returns early on a reorg (after rolling back).
   */
  async function catchUp(target: number, p: IndexerRunParameters, tip: number) {
    const cursor = await loadCursor(store, ctx.chainKey);
    let next = cursor ? cursor.height + 1 : startHeight;
    let prevHash = cursor?.hash;
    while (next <= target && !p.signal?.aborted) {
      const batch: Promise<{ height: number; hash: string; raw: Buffer } | null>[] = [];
      for (let h = next; h <= Math.min(target, next + PREFETCH - 1); h++) {
        batch.push(
          rpc
            .getBlockHash(h)
            .then(async (hash) => ({ height: h, hash, raw: await rpc.getRawBlock(hash) }))
            .catch((err) => {
              // -8 height out of range / -5 block not found: the chain got shorter or switched
              // branches while we fetched ahead. Not an error: stop here and re-check the tip.
              if (err instanceof RpcMethodError && (err.rpcCode === -8 || err.rpcCode === -5)) return null;
              throw err;
            }),
        );
      }
      const prepared: Prepared[] = [];
      let reorgAt: number | undefined;
      let chainMoved = false;
      try {
        for (const b of batch) {
          const item = await b;
          if (item === null) {
            chainMoved = true;
            break;
          }
          const { height, hash, raw } = item;
          if (p.signal?.aborted) break;
          const r = await prepareBlock(height, hash, raw, prevHash);
          if (r === "reorg") {
            reorgAt = height;
            break;
          }
          prepared.push(r);
          prevHash = hash;
        }
      } catch (err) {
        // A fetch or a block failed: store what was prepared before it (all consistent), then surface the error.
        await Promise.allSettled(batch);
        await commitBlocks(prepared, tip);
        await reloadState();
        throw err;
      }
      await Promise.allSettled(batch);
      await commitBlocks(prepared, tip);
      for (const { block } of prepared) p.onProgress?.({ height: block.height, tip });
      if (reorgAt !== undefined) {
        await reconcileWithNode(`block ${reorgAt}'s parent is not the stored block ${reorgAt - 1}`);
        return;
      }
      if (chainMoved) return; // the run loop re-reads the tip and reconciles before going on
      if (p.signal?.aborted) return;
      next += prepared.length;
    }
  }

  let started = false;
  async function start() {
    if (started) return;
    await checkNode();
    await reloadState();
    // A reorg may have happened while we were down: re-validate the stored tip before going forward.
    await reconcileWithNode("stored tip no longer on the node's chain (checked at start)");
    started = true;
  }

  return {
    async run(p: IndexerRunParameters) {
      await start();
      for (;;) {
        try {
          const tip = await rpc.getBlockCount();
          const target = p.to === undefined ? tip : Math.min(tip, p.to);
          await reconcileWithNode("tip check");
          await catchUp(target, p, tip);
          const cursor = await loadCursor(store, ctx.chainKey);
          const done = (cursor?.height ?? startHeight - 1) >= target;
          if (p.signal?.aborted) return;
          if (done && (p.once || (p.to !== undefined && target === p.to))) return;
          if (done) await sleep(chain!.pollIntervalMs, p.signal);
        } catch (thrown) {
          // A read that bypassed store.tx (a dropped Postgres connection) is typed here too.
          const err = mapStoreError(thrown, store.target);
          if (err instanceof BackstopError && err.retryable && !p.once) {
            // Pause without skipping: the cursor did not move; try again from it.
            log.warn({ msg: "indexer paused", code: err.code, error: err.shortMessage });
            await sleep(chain!.pollIntervalMs, p.signal);
            await reloadState().catch(() => undefined);
            continue;
          }
          throw err;
        }
        if (p.signal?.aborted) return;
      }
    },
    async fetchStatus() {
      const tip = await rpc.getBlockCount();
      const cursor = await loadCursor(store, ctx.chainKey);
      const finalized = cursor ? Math.min(cursor.height, tip - chain!.finalityDepth + 1) : null;
      return { tip, indexed: cursor?.height ?? null, finalized: finalized !== null && finalized >= 0 ? finalized : null };
    },
  };
}
