import path from "node:path";
import { BackstopError } from "../../lib/errors.js";
import { sleep } from "../../lib/sleep.js";
import { loadBalances, loadCursor, loadHeaders, mapStoreError, rollbackTo, saveBlock, saveWallets, type BalanceChangeInput } from "../../store/index.js";
import type { Indexer, IndexerContext, IndexerRunParameters } from "../indexer.js";
import { buildPonderPlan, rpcEnvName, validateEvmChainConfig } from "./build-ponder-plan.js";
import { createEvmRpc, type EvmRpc } from "./create-evm-rpc.js";
import { createPonderSupervisor, type PonderSupervisor } from "./create-ponder-supervisor.js";
import { EvmConfigError, EvmDeepReorgError, EvmMissingMulticallError, EvmUnknownTokenError, EvmWrongChainError, PonderRouteError } from "./errors.js";
import { fetchBalancesAtBlock } from "./fetch-balances-at-block.js";
import type { PonderPlan } from "./ponder-plan.js";

/** Chain identity (chain id + genesis hash) is re-checked this often while following. */
const IDENTITY_CHECK_MS = 60_000;
/** While backfilling more than a finality window below the tip, the node's head is re-read this often. */
const TIP_REFRESH_MS = 10_000;
/** Blocks per read of Ponder's route; bounded so one page stays a few MB at 6,000 balances per snapshot block. */
const PAGE = 200;

/** One page of Ponder's `/backstop/v1/balances` route. */
export type PonderBalancesPage = {
  version: 1;
  chainId: number;
  indexed: number | null;
  finalized: number | null;
  blocks: Array<{ number: number; hash: string; parentHash: string; timestamp: number; balances: Array<{ wallet: string; asset: string; balance: string }> }>;
};

/** Options for tests and the benchmark; production uses the defaults. */
export type EvmIndexerOptions = {
  /** Ponder state directory; default `<dir of the SQLite store>/ponder/<chain>`. */
  ponderDir?: string;
  /**
   * Ponder's database: default Postgres at the store's DATABASE_URL when the store is Postgres, else
   * PGlite in the state directory. `"pglite"` forces PGlite (tests keep Ponder's shared `ponder_sync`
   * schema out of the test database).
   */
  ponderDatabase?: "pglite";
  /** Milliseconds between chain identity checks while following; default 60 000. */
  identityCheckMs?: number;
  /** Called with the supervisor once created (tests kill -9 Ponder through its pid). */
  onSupervisor?: (s: PonderSupervisor) => void;
};


/**
 * The EVM indexer: runs Ponder (ponder.config.ts at the repo root) as a supervised child for one chain,
 * reads the absolute balances its handlers record through the versioned route in src/api/index.ts and
 * mirrors them into the store block by block (one transaction per block with its cursor). Blocks above
 * the finalized height are checked against the node; when a mirrored block is no longer canonical the
 * store rolls back to the common ancestor; a reorg reaching finalized data halts with EvmDeepReorgError.
 * @throws EvmConfigError when the chain's wallets or assets are malformed
 */
export function createEvmIndexer(ctx: IndexerContext, opts: EvmIndexerOptions = {}): Indexer {
  const chain = ctx.config.chains[ctx.chainKey];
  if (!chain || chain.descriptor.kind !== "evm") throw new EvmConfigError({ chain: ctx.chainKey, problems: ["not a configured EVM chain"] });
  const problems = validateEvmChainConfig(ctx.config, ctx.chainKey);
  if (problems.length) throw new EvmConfigError({ chain: ctx.chainKey, problems });
  const { store, logger } = ctx;
  const key = ctx.chainKey;
  const log = logger.child({ chain: key });
  const rpc: EvmRpc = createEvmRpc({ chain: key, urls: chain.rpc, timeoutMs: chain.rpcTimeoutMs });
  const ponderDir = opts.ponderDir ?? path.join(path.dirname(path.resolve(ctx.config.store.sqlitePath)), "ponder", key);
  const ponderPg = opts.ponderDatabase === "pglite" ? undefined : ctx.config.store.databaseUrl;
  const plan: PonderPlan = buildPonderPlan(ctx.config, key, ponderPg ? { namespace: ctx.config.store.pgSchema } : { pgliteDir: path.join(ponderDir, "pglite") });
  const planChain = plan.chains[0]!;

  let walletIds = new Map<string, number>();
  let last = new Map<string, bigint>();
  let lastIdentityCheck = 0;
  let supervisor: PonderSupervisor | undefined;

  async function checkIdentity() {
    const id = Number(BigInt(await rpc.request<string>("eth_chainId")));
    if (id !== chain!.descriptor.chainId) throw new EvmWrongChainError({ chain: key, what: "chain id", expected: String(chain!.descriptor.chainId), actual: String(id) });
    const genesis = await rpc.fetchBlockHeader(0);
    if (genesis?.hash.toLowerCase() !== chain!.descriptor.genesisHash.toLowerCase())
      throw new EvmWrongChainError({ chain: key, what: "genesis hash", expected: chain!.descriptor.genesisHash, actual: genesis?.hash ?? "(none)" });
    lastIdentityCheck = Date.now();
  }

  async function checkContracts() {
    const code = await rpc.request<string>("eth_getCode", [planChain.multicall3, "latest"]);
    if (!code || code === "0x") throw new EvmMissingMulticallError({ chain: key, address: planChain.multicall3 });
    const head = BigInt(await rpc.fetchBlockNumber());
    for (const t of planChain.tokens) {
      const c = await rpc.request<string>("eth_getCode", [t.address, "latest"]);
      if (!c || c === "0x") throw new EvmUnknownTokenError({ chain: key, asset: t.asset, address: t.address, problem: "no contract code at this address" });
      try {
        await fetchBalancesAtBlock({ request: (a) => rpc.request(a.method, a.params) }, { chain: planChain, blockNumber: head, pairs: [{ wallet: t.address, asset: t.asset }] });
      } catch (cause) {
        throw new EvmUnknownTokenError({ chain: key, asset: t.asset, address: t.address, problem: `balanceOf does not answer a uint256 (${(cause as Error).message.slice(0, 80)})` });
      }
    }
  }

  async function reloadState() {
    const rows = await saveWallets(
      store,
      ctx.config.wallets.filter((w) => w.chain === key).map((w) => ({ chain: key, label: w.label, kind: "address" as const, address: w.address! })),
    );
    walletIds = new Map(rows.map((r) => [r.address!.toLowerCase(), r.id]));
    last = new Map((await loadBalances(store, { chain: key })).map((b) => [`${b.walletId}|${b.asset}`, b.amount]));
  }

  /** Walks back from the cursor to the newest stored header the node still has; rolls back to it. */
  async function reconcileWithNode(reason: string): Promise<boolean> {
    const cursor = await loadCursor(store, key);
    if (!cursor) return false;
    const tip = await rpc.fetchBlockNumber();
    const headers = await loadHeaders(store, { chain: key, limit: chain!.headerWindow + 1 });
    for (const h of headers) {
      const node = h.height <= tip ? await rpc.fetchBlockHeader(h.height) : null;
      if (node?.hash === h.hash) {
        if (h.height === cursor.height) return false;
        const depth = cursor.height - h.height;
        if (depth >= chain!.finalityDepth || (cursor.finalizedHeight !== null && h.height < cursor.finalizedHeight)) {
          await checkIdentity();
          const above = headers.find((x) => x.height === h.height + 1);
          throw new EvmDeepReorgError({ chain: key, depth, finalityDepth: chain!.finalityDepth, height: h.height + 1, storedHash: above?.hash ?? "?", nodeHash: (await rpc.fetchBlockHeader(h.height + 1))?.hash ?? null });
        }
        // A provider that switched to another chain looks like a reorg: check identity before deleting anything.
        await checkIdentity();
        log.warn({ msg: "reorg", reason, from_height: cursor.height, to_height: h.height, depth, block: h.hash });
        await rollbackTo(store, { chain: key, height: h.height });
        await reloadState();
        return true;
      }
    }
    const oldest = headers[headers.length - 1]!;
    await checkIdentity();
    throw new EvmDeepReorgError({ chain: key, depth: cursor.height - oldest.height + 1, finalityDepth: chain!.finalityDepth, height: oldest.height, storedHash: oldest.hash, nodeHash: (await rpc.fetchBlockHeader(oldest.height))?.hash ?? null });
  }

  async function fetchPage(sup: PonderSupervisor, fromBlock: number): Promise<PonderBalancesPage> {
    const url = `${sup.baseUrl()}/backstop/v1/balances?chainId=${planChain.chainId}&fromBlock=${fromBlock}&limit=${PAGE}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    } catch (cause) {
      throw new PonderRouteError({ chain: key, problem: "Ponder is not answering (starting or restarting)", cause });
    }
    if (!res.ok) throw new PonderRouteError({ chain: key, problem: `HTTP ${res.status}` });
    const page = (await res.json()) as PonderBalancesPage;
    if (page.version !== 1 || page.chainId !== planChain.chainId || !Array.isArray(page.blocks)) throw new PonderRouteError({ chain: key, problem: "unexpected payload" });
    return page;
  }

  /** Mirrors Ponder's blocks after the cursor up to `target`. Returns the number of blocks applied. */
  async function mirror(sup: PonderSupervisor, target: number, tip: number, p: IndexerRunParameters): Promise<number> {
    let applied = 0;
    for (;;) {
      const cursor = await loadCursor(store, key);
      const from = cursor ? cursor.height + 1 : chain!.startHeight;
      if (from > target || p.signal?.aborted) return applied;
      const page = await fetchPage(sup, from);
      if (page.blocks.length === 0) return applied;
      if (!cursor && page.blocks[0]!.number !== from) {
        // The first mirrored block must be the start block: a later one would leave the start block's
        // snapshot (every wallet's opening balance) out of the store. Wait for Ponder rather than guess.
        log.warn({ msg: "Ponder's first block is not the start block; waiting", start: from, first: page.blocks[0]!.number });
        return applied;
      }
      const finalizedHeight = tip - chain!.finalityDepth + 1;
      let prev = cursor ? { height: cursor.height, hash: cursor.hash } : undefined;
      for (const b of page.blocks) {
        if (b.number > target || p.signal?.aborted) return applied;
        if (prev && (b.number !== prev.height + 1 || b.parentHash !== prev.hash)) {
          // Ponder's chain no longer extends ours: a reorg (ours or Ponder's view is stale). The node decides.
          const rolled = await reconcileWithNode(`Ponder block ${b.number} does not extend stored block ${prev.height}`);
          if (!rolled) return applied; // we are canonical; Ponder has not caught up with the reorg yet
          return applied;
        }
        if (b.number >= finalizedHeight) {
          // Unfinalized: only mirror what the node still has (Ponder may not have seen a reorg yet).
          const node = await rpc.fetchBlockHeader(b.number);
          if (!node || node.hash !== b.hash) return applied;
        }
        const changes: BalanceChangeInput[] = [];
        const next = new Map<string, bigint>();
        for (const o of b.balances) {
          const walletId = walletIds.get(o.wallet.toLowerCase());
          if (walletId === undefined) continue; // a wallet removed from the config since Ponder's plan
          const k = `${walletId}|${o.asset}`;
          const balance = BigInt(o.balance);
          if ((last.get(k) ?? 0n) === balance) continue;
          changes.push({ walletId, asset: o.asset, txid: null, balance });
          next.set(k, balance);
        }
        await saveBlock(store, {
          block: { chain: key, height: b.number, hash: b.hash, parentHash: b.parentHash, time: b.timestamp },
          changes,
          finalizedHeight: finalizedHeight >= 0 ? finalizedHeight : undefined,
        });
        for (const [k, v] of next) last.set(k, v);
        prev = { height: b.number, hash: b.hash };
        applied++;
        p.onProgress?.({ height: b.number, tip });
      }
    }
  }

  return {
    async run(p: IndexerRunParameters) {
      await checkIdentity();
      await checkContracts();
      await reloadState();
      // A reorg may have happened while we were down: re-validate the stored tip before going forward.
      await reconcileWithNode("stored tip no longer on the node's chain (checked at start)");
      // Ponder outlives a `once` run (the demo and `backstop start` call run({ once }) every round; a cold
      // Ponder start costs ~20 s). It is stopped when a run is aborted or fails, and at process exit.
      if (!supervisor) {
        supervisor = createPonderSupervisor({
          chain: key,
          dir: ponderDir,
          plan,
          rpcEnv: { [rpcEnvName(key)]: chain.rpc.join(" ") },
          databaseUrl: ponderPg,
          logger,
        });
        opts.onSupervisor?.(supervisor);
        await supervisor.start();
      }
      const sup = supervisor;
      let keep = false;
      let cachedTip = { tip: -1, at: 0 };
      try {
        for (;;) {
          sup.check();
          try {
            if (Date.now() - lastIdentityCheck > (opts.identityCheckMs ?? IDENTITY_CHECK_MS)) await checkIdentity();
            // While backfilling far below the tip, the node's head is re-read at most every TIP_REFRESH_MS (a
            // stale tip only makes the finalized height lower, never higher); near the tip, on every round.
            const cur = await loadCursor(store, key);
            const far = cachedTip.tip >= 0 && (cur?.height ?? chain.startHeight - 1) < cachedTip.tip - chain.finalityDepth;
            if (!far || Date.now() - cachedTip.at >= TIP_REFRESH_MS) cachedTip = { tip: await rpc.fetchBlockNumber(), at: Date.now() };
            const tip = cachedTip.tip;
            const target = p.to === undefined ? tip : Math.min(tip, p.to);
            // A reorg can only touch the unfinalized window: while backfilling far below the tip, skip the
            // stored-tip check (mirror() checks parent links; RPC calls per block stay constant).
            if (cur && cur.height > tip - chain.finalityDepth) await reconcileWithNode("tip check");
            const applied = await mirror(sup, target, tip, p);
            if (p.signal?.aborted) return;
            const cursor = await loadCursor(store, key);
            const done = (cursor?.height ?? chain.startHeight - 1) >= target;
            if (done && (p.once || (p.to !== undefined && target === p.to))) {
              keep = p.once === true;
              return;
            }
            // Nothing new from Ponder: wait a poll interval (not a tight loop of tip reads while Ponder works).
            if (applied === 0) await sleep(chain.pollIntervalMs, p.signal);
          } catch (thrown) {
            // A read that bypassed store.tx (a dropped Postgres connection) is typed here too.
            const err = mapStoreError(thrown, store.target);
            if (err instanceof BackstopError && err.retryable) {
              log.debug({ msg: "waiting", code: err.code, error: err.shortMessage });
              await sleep(500, p.signal);
              await reloadState().catch(() => undefined);
              continue;
            }
            throw err;
          }
          if (p.signal?.aborted) return;
        }
      } finally {
        if (!keep || p.signal?.aborted) {
          supervisor = undefined;
          await sup.stop();
        }
      }
    },
    async close() {
      const sup = supervisor;
      supervisor = undefined;
      await sup?.stop();
    },
    async fetchStatus() {
      const tip = await rpc.fetchBlockNumber();
      const cursor = await loadCursor(store, key);
      const finalized = cursor ? Math.min(cursor.height, tip - chain.finalityDepth + 1) : null;
      return { tip, indexed: cursor?.height ?? null, finalized: finalized !== null && finalized >= 0 ? finalized : null };
    },
  };
}
