import path from "node:path";
import { loadBalances, loadLastFullRead, loadLastTransferHeights, saveEvmReadsIn } from "../../store/index.js";
import type { ChainAdapter, FetchBatchResult } from "../chain-adapter.js";
import { computeProviderHosts, rotateUrls } from "../compute-provider-hosts.js";
import { createFollower } from "../follow-chain.js";
import type { Indexer, IndexerContext } from "../indexer.js";
import { backfillEvmWallet } from "./backfill-evm-wallet.js";
import { buildPonderPlan, rpcEnvName, validateEvmChainConfig } from "./build-ponder-plan.js";
import { createEvmProvider } from "./create-evm-provider.js";
import { createEvmRpc, type EvmRpc } from "./create-evm-rpc.js";
import { createPonderSupervisor, type PonderSupervisor } from "./create-ponder-supervisor.js";
import { checkEvmMethods } from "./check-evm-methods.js";
import { computeBlocksNeedingTransactions, decodePonderBlocks, type DecodedEvmBlock, type EvmReadState, type PonderBalancesPage, type PonderBlock } from "./decode-ponder-blocks.js";
import { EvmConfigError, EvmMissingMulticallError, EvmUnknownTokenError, PonderRouteError, PonderStalledError } from "./errors.js";
import { fetchBalancesAtBlock } from "./fetch-balances-at-block.js";
import { probeBalanceReader } from "./probe-balance-reader.js";
import { fetchBlockTransactions } from "./fetch-block-transactions.js";
import type { PonderPlan } from "./ponder-plan.js";

export type { PonderBalancesPage };

/** Blocks per read of Ponder's route; bounded so one page stays a few MB at 6,000 balances per snapshot block. */
const PAGE = 200;

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
  /**
   * Milliseconds Ponder may go without indexing a new block while the node has newer ones before the run
   * halts with PonderStalledError (a child failing slowly: retrying a refused method forever). Default 600 000.
   */
  ponderStallMs?: number;
  /** Extra Node.js options for the Ponder child (the benchmark's `--cpu-prof`). */
  ponderNodeArgs?: readonly string[];
};

/** Default ponderStallMs: 10 minutes (a cold Ponder start with a large backfill takes a few). */
const PONDER_STALL_MS = 600_000;

/**
 * The EVM adapter of the follower: runs Ponder (ponder.config.ts at the repo root) as a supervised child for
 * one chain and turns pages of its versioned route (src/api/index.ts) into store rows (decodePonderBlocks).
 * Ponder is an intermediary that can be behind the node's reorgs, so a page is stored only when its blocks
 * link to the stored tip and its last block is the node's block at that height (a hash chain: then every
 * block of the page is canonical; otherwise the canonical prefix). Finality: the node's `finalized` tag
 * where the descriptor says the chain has one, else `finalityDepth` blocks. A wallet added later is
 * `pending` until backfilled exactly for that wallet alone (backfill-evm-wallet.ts: its native balance read
 * at every block of [birthday, cursor], its tokens by an opening read and their Transfer logs, confirmed by
 * reads at the full-read heights and the cursor). Ponder tracks it from the restart on: the plan names every
 * configured wallet, and a changed plan indexes into a fresh Ponder schema (computePonderSchema).
 * @throws EvmConfigError when the chain's wallets or assets are malformed
 */
export function createEvmAdapter(ctx: IndexerContext, opts: EvmIndexerOptions = {}): ChainAdapter {
  const key = ctx.chainKey;
  const chain = ctx.config.chains[key];
  if (!chain || chain.descriptor.kind !== "evm") throw new EvmConfigError({ chain: key, problems: ["not a configured EVM chain"] });
  const problems = validateEvmChainConfig(ctx.config, key);
  if (problems.length) throw new EvmConfigError({ chain: key, problems });
  const { store, logger } = ctx;
  const log = logger.child({ chain: key });
  const hosts = computeProviderHosts(chain.rpc);
  const attempts = chain.rpc.length > 1 ? 2 : undefined;
  const providers = chain.rpc.map((url, i) => createEvmProvider({ chainKey: key, chain, url, host: hosts[i]!, attempts }));
  const makeRpc = (first: number): EvmRpc => createEvmRpc({ chain: key, urls: rotateUrls(chain.rpc, first), timeoutMs: chain.rpcTimeoutMs });
  let rpc = makeRpc(0);
  const ponderDir = opts.ponderDir ?? path.join(path.dirname(path.resolve(ctx.config.store.sqlitePath)), "ponder", key);
  const ponderPg = opts.ponderDatabase === "pglite" ? undefined : ctx.config.store.databaseUrl;
  const plan: PonderPlan = buildPonderPlan(ctx.config, key, ponderPg ? { namespace: ctx.config.store.pgSchema } : { pgliteDir: path.join(ponderDir, "pglite") });
  const planChain = plan.chains[0]!;

  let walletIds = new Map<string, number>();
  let last = new Map<string, bigint>();
  let reads: EvmReadState = { lastFullRead: null, lastLogAt: new Map() };
  let supervisor: PonderSupervisor | undefined;
  // Supervision: when Ponder's indexed block last moved (monotonic ms), and to what.
  let progress: { indexed: number | null; at: number } | undefined;
  const stallMs = opts.ponderStallMs ?? PONDER_STALL_MS;

  async function checkContracts() {
    await checkEvmMethods({ rpc, chain: key, provider: hosts.join(", ") }, { startHeight: chain!.startHeight, multicall3: planChain.multicall3 });
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
    const tip = await rpc.fetchBlockHeader(Number(head));
    planChain.balanceReader = await probeBalanceReader(
      { request: (a) => rpc.request(a.method, a.params), log },
      { chain: planChain, blockNumber: head, ...(tip ? { blockHash: tip.hash as `0x${string}` } : {}) },
    );
  }


  /** Ponder outlives a `--once` run (a cold start costs ~20 s); it is started after every check passed. */
  async function ponder(): Promise<PonderSupervisor> {
    if (!supervisor) {
      supervisor = createPonderSupervisor({ chain: key, dir: ponderDir, plan, rpcEnv: { [rpcEnvName(key)]: chain!.rpc.join(" ") }, databaseUrl: ponderPg, logger, nodeArgs: opts.ponderNodeArgs });
      opts.onSupervisor?.(supervisor);
      await supervisor.start();
    }
    return supervisor;
  }

  async function fetchPage(sup: PonderSupervisor, fromBlock: number): Promise<PonderBalancesPage> {
    const url = `${sup.baseUrl()}/backstop/v2/balances?chainId=${planChain.chainId}&fromBlock=${fromBlock}&limit=${PAGE}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    } catch (cause) {
      throw new PonderRouteError({ chain: key, problem: "Ponder is not answering (starting or restarting)", cause });
    }
    if (!res.ok) throw new PonderRouteError({ chain: key, problem: `HTTP ${res.status}` });
    const page = (await res.json()) as PonderBalancesPage;
    if (page.version !== 2 || page.chainId !== planChain.chainId || !Array.isArray(page.blocks)) throw new PonderRouteError({ chain: key, problem: "unexpected payload" });
    return page;
  }

  /** Canonical Ponder blocks -> store rows, with the transactions of the blocks whose native balances moved. */
  async function decode(blocks: PonderBlock[], opening: boolean): Promise<DecodedEvmBlock[]> {
    const need = new Set(computeBlocksNeedingTransactions({ blocks: opening ? blocks.slice(1) : blocks, nativeAsset: planChain.nativeAsset, walletIds }));
    const transactions = await fetchBlockTransactions({ rpc, chain: key }, { blocks: blocks.filter((b) => need.has(b.number)) });
    const out = decodePonderBlocks({ chainKey: key, nativeAsset: planChain.nativeAsset, blocks, walletIds, last, reads, transactions, opening });
    for (const b of out) {
      const { block } = b.save;
      b.within = async (db) => {
        await saveEvmReadsIn(store, db, { chain: key, height: block.height, blockHash: block.hash, ...b.evm });
        // The discrepancy, raised now as a log line (the alerts issue reads silent_changes).
        for (const x of b.evm.silent) {
          log.warn({ msg: "silent token change", block: block.height, wallet_id: x.walletId, asset: x.asset, carried: x.carried.toString(), observed: x.observed.toString(), from_height: x.fromHeight, to_height: block.height });
        }
      };
    }
    return out;
  }

  async function fetchBatch(p: { from: number; to: number; prev: { height: number; hash: string } | undefined }): Promise<FetchBatchResult> {
    const sup = await ponder();
    // A Ponder that keeps failing is fatal (PonderStartError): the follower records it and halts.
    sup.check();
    const none = (problem: string): FetchBatchResult => ({ blocks: [], scannedTo: p.from - 1, waiting: new PonderRouteError({ chain: key, problem }) });
    // A child failing slowly (retrying a refused method forever, or crashing minutes after each start)
    // never trips the supervisor's count: when Ponder's indexed block stops moving while the node is ahead
    // for `stallMs`, the run halts with PonderStalledError, which `status` shows.
    const checkStall = (indexed: number | null) => {
      const now = performance.now();
      if (!progress || (indexed !== null && progress.indexed !== indexed)) progress = { indexed, at: now };
      if (now - progress.at > stallMs && (progress.indexed ?? -1) < p.to)
        throw new PonderStalledError({ chain: key, indexed: progress.indexed, tip: p.to, seconds: Math.round((now - progress.at) / 1000), log: sup.logTail() });
    };
    let page: PonderBalancesPage;
    try {
      page = await fetchPage(sup, p.from);
    } catch (err) {
      // Ponder (re)starting is a wait, not an outage; a --once run gives up after the follower's limit.
      if (err instanceof PonderRouteError) {
        checkStall(null);
        return { blocks: [], scannedTo: p.from - 1, waiting: err };
      }
      throw err;
    }
    checkStall(page.indexed);
    const candidates = page.blocks.filter((b) => b.number <= p.to);
    if (!candidates.length) return none(`no block from ${p.from} yet (Ponder indexed ${page.indexed ?? "nothing"})`);
    if (!p.prev && candidates[0]!.number !== p.from) {
      // The first mirrored block must be the start block: a later one would leave the start block's
      // snapshot (every wallet's opening balance) out of the store. Wait for Ponder rather than guess.
      return none(`Ponder's first block is ${candidates[0]!.number}, not the start block ${p.from}`);
    }
    // The prefix that extends the stored tip; a break is a reorg (ours, or Ponder's view is stale: the node decides).
    const linked: typeof candidates = [];
    let prev = p.prev;
    let reorgAt: number | undefined;
    for (const b of candidates) {
      if (prev && (b.number !== prev.height + 1 || b.parentHash !== prev.hash)) {
        reorgAt = b.number;
        break;
      }
      linked.push(b);
      prev = { height: b.number, hash: b.hash };
    }
    // Canonical now: the last linked block is the node's (by hash chain, so is every block before it);
    // else the prefix the node still has. Ponder's own unfinalized window may be shorter than the node's
    // finality (Base: 30 blocks vs L1 finality), so Ponder's blocks are never trusted by height alone.
    let canonical = linked;
    if (linked.length) {
      const tipBlock = linked[linked.length - 1]!;
      const node = await rpc.fetchBlockHeader(tipBlock.number);
      if (node?.hash !== tipBlock.hash) {
        canonical = [];
        for (const b of linked) {
          if ((await rpc.fetchBlockHeader(b.number))?.hash !== b.hash) break;
          canonical.push(b);
        }
        if (canonical.length < linked.length) {
          const blocks = await decode(canonical, p.prev === undefined);
          const stale = linked[canonical.length]!;
          return { blocks, scannedTo: canonical.at(-1)?.number ?? p.from - 1, waiting: new PonderRouteError({ chain: key, problem: `Ponder's block ${stale.number} is not the node's (Ponder has not seen a reorg yet)` }) };
        }
      }
    }
    const blocks = await decode(canonical, p.prev === undefined);
    return { blocks, scannedTo: canonical.at(-1)?.number ?? p.from - 1, reorgAt };
  }

  return {
    providers,
    blocksPerCommit: 1,
    depthFinality: !chain.descriptor.finalizedTag,
    validate: () => validateEvmChainConfig(ctx.config, key),
    configError: (problems) => new EvmConfigError({ chain: key, problems }),
    useProvider(i) {
      rpc = makeRpc(i);
    },
    prepare: () => checkContracts(),
    async loadState({ wallets }) {
      const active = wallets.filter((w) => w.state === "active");
      walletIds = new Map(active.map((w) => [w.address!.toLowerCase(), w.walletId]));
      const ids = new Set(active.map((w) => w.walletId));
      last = new Map((await loadBalances(store, { chain: key })).filter((b) => ids.has(b.walletId)).map((b) => [`${b.walletId}|${b.asset}`, b.amount]));
      reads = { lastFullRead: await loadLastFullRead(store, { chain: key }), lastLogAt: await loadLastTransferHeights(store, { chain: key }) };
    },
    startHeight: () => chain.startHeight,
    fetchBatch,
    backfillWallet: (p) => backfillEvmWallet({ chainKey: key, store, rpc, plan: planChain, walletIds, startHeight: chain.startHeight }, p),
    async end({ keep }) {
      // Ponder outlives a successful `once` run (the demo and `backstop start` run once every round); it is
      // stopped when a run is aborted or fails, and at process exit.
      if (keep || !supervisor) return;
      const sup = supervisor;
      supervisor = undefined;
      await sup.stop();
      log.debug({ msg: "ponder stopped" });
    },
  };
}

/** The EVM indexer: the one follower with the EVM adapter (options for tests and the benchmark). @throws EvmConfigError */
export function createEvmIndexer(ctx: IndexerContext, opts: EvmIndexerOptions = {}): Indexer {
  return createFollower(ctx, createEvmAdapter(ctx, opts), { identityCheckMs: opts.identityCheckMs });
}
