// Ponder indexing functions for Backstop's EVM custody balances. Ponder executes every file under
// src/ (except src/api/) as indexing code; this is the only one that registers handlers, and it is
// only ever loaded by Ponder (it imports Ponder's virtual modules, which exist nowhere else).
//
// Rule: record ABSOLUTE balances read from the node at the block, never sums of transfers. Transfer logs
// say which token pairs may have changed in a block (and which transaction moved them, with whom); the
// block handler (which Ponder runs after every log event of the same block) reads every wallet's native
// balance and those token pairs in one multicall. No receipts, no traces.
import { ponder as registry } from "ponder:registry";
import { and, desc, eq, lt } from "ponder";
import { backstopBalance, backstopBlock, backstopTransfer } from "ponder:schema";
import { createEvmRpc, type EvmRpc } from "../create-evm-rpc.js";
import { fetchBalancesAtBlock } from "../fetch-balances-at-block.js";
import { PONDER_SOURCES } from "../build-ponder-config.js";
import { loadPonderPlan, type PonderPlan, type PonderPlanChain } from "../ponder-plan.js";

type Hex = `0x${string}`;
// The config's sources come from the plan at run time, so the registry is used untyped here.
type LooseContext = {
  chain: { id: number; name: string };
  db: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  client: { request: (a: { method: string; params: unknown[] }) => Promise<unknown> };
};
type LooseEvent = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const ponder = registry as unknown as {
  on(name: string, fn: (a: { event: LooseEvent; context: LooseContext }) => Promise<void>): void;
};

let plan: PonderPlan | undefined;
const rpcs = new Map<string, EvmRpc>();
/**
 * The node, asked directly (not through Ponder's cached `context.client`): Ponder caches eth_call results by
 * block NUMBER and a Ponder restarted after a reorg served a replaced block's balance from that cache. Reads
 * are pinned to the block's hash instead (EIP-1898), and skip the cache row Ponder writes per call.
 */
function nodeRpc(c: PonderPlanChain): EvmRpc {
  let r = rpcs.get(c.key);
  if (!r) {
    const urls = (process.env[c.rpcEnv] ?? "").split(/\s+/).filter(Boolean);
    r = createEvmRpc({ chain: c.key, urls, timeoutMs: 30_000 });
    rpcs.set(c.key, r);
  }
  return r;
}
const chainPlans = new Map<string, PonderPlanChain & { walletSet: Set<string>; tokenAsset: Map<string, string> }>();
function chainPlan(name: string) {
  let c = chainPlans.get(name);
  if (!c) {
    plan ??= loadPonderPlan();
    const p = plan.chains.find((x) => x.key === name);
    if (!p) throw new Error(`chain ${name} is not in the Backstop Ponder plan`);
    c = { ...p, walletSet: new Set(p.wallets), tokenAsset: new Map(p.tokens.map((t) => [t.address, t.asset])) };
    chainPlans.set(name, c);
  }
  return c;
}

/**
 * The last read of every (wallet, asset), kept in memory and valid only as the state after the block with
 * `hash`: the next block's handler uses it only when its parent is that block. After a start, a crash
 * recovery or a reorg (Ponder reverts its tables and re-runs from the ancestor) the parent differs, and the
 * map is rebuilt from `backstop_balance` in one query (latest row per pair below this block). Before, a
 * `backstop_latest` row per pair cost 1,000 indexing-store finds per block at 1,000 wallets (~2 s a block
 * in the benchmark: Ponder's cache could not predict them).
 */
const memo = new Map<string, { hash: Hex; latest: Map<string, bigint> }>();
async function latestReads(context: LooseContext, c: PonderPlanChain, parentHash: Hex, number: bigint): Promise<Map<string, bigint>> {
  const m = memo.get(c.key);
  if (m && m.hash === parentHash) return m.latest;
  const rows = (await context.db.sql
    .selectDistinctOn([backstopBalance.wallet, backstopBalance.asset], { wallet: backstopBalance.wallet, asset: backstopBalance.asset, balance: backstopBalance.balance })
    .from(backstopBalance)
    .where(and(eq(backstopBalance.chainId, context.chain.id), lt(backstopBalance.blockNumber, number)))
    .orderBy(backstopBalance.wallet, backstopBalance.asset, desc(backstopBalance.blockNumber))) as Array<{ wallet: string; asset: string; balance: bigint }>;
  const latest = new Map(rows.map((r) => [`${r.wallet}|${r.asset}`, r.balance]));
  memo.set(c.key, { hash: parentHash, latest });
  return latest;
}

/**
 * The (wallet, token) pairs the Transfer logs of the block being indexed touched, in memory. Ponder runs a
 * block's log events before its block event, so when this process ran the parent's block event (the memo's
 * hash is the block's parent) it ran every log event of this block too and the set is complete. Otherwise
 * (a start, a crash recovery resuming inside a block, a reorg) the block handler rebuilds it from the
 * block's `backstop_transfer` rows in one query. Before, a `backstop_pending` row per block cost an
 * indexing-store find per log and per block.
 */
const pending = new Map<string, { number: bigint; keys: Set<string> }>();
function pendingKeys(chain: string, number: bigint): Set<string> {
  let p = pending.get(chain);
  if (!p || p.number !== number) pending.set(chain, (p = { number, keys: new Set() }));
  return p.keys;
}

function walletKey(c: PonderPlanChain & { walletSet: Set<string> }, addr: string, asset: string): string | undefined {
  const w = addr.toLowerCase();
  return c.walletSet.has(w) ? `${w}|${asset}` : undefined;
}

if (registryHasTokens()) {
  // Every Transfer log of the configured tokens (the filter is by token address only: a filter by custody
  // wallet made 2 × tokens × wallets filter fragments, and Ponder's interval bookkeeping for 10,000 of
  // them cost ~4 s per sync round on PGlite); only logs from or to a custody wallet are kept.
  ponder.on(`${PONDER_SOURCES.erc20}:Transfer`, async ({ event, context }) => {
    const c = chainPlan(context.chain.name);
    const asset = c.tokenAsset.get((event.log.address as string).toLowerCase());
    if (!asset) return;
    const from = (event.args.from as string).toLowerCase() as Hex;
    const to = (event.args.to as string).toLowerCase() as Hex;
    const kFrom = walletKey(c, from, asset);
    const kTo = walletKey(c, to, asset);
    if (!kFrom && !kTo) return;
    await context.db.insert(backstopTransfer).values({
      chainId: context.chain.id,
      blockNumber: event.block.number,
      logIndex: event.log.logIndex,
      txHash: event.transaction.hash,
      asset,
      from,
      to,
      amount: event.args.value as bigint,
    });
    const keys = pendingKeys(c.key, event.block.number as bigint);
    if (kFrom) keys.add(kFrom);
    if (kTo) keys.add(kTo);
  });
}

/** The touched pairs of a block from its stored Transfer rows (after a start, a recovery or a reorg). */
async function loadPendingKeys(context: LooseContext, c: PonderPlanChain & { walletSet: Set<string> }, number: bigint): Promise<Set<string>> {
  const rows = (await context.db.sql
    .select({ asset: backstopTransfer.asset, from: backstopTransfer.from, to: backstopTransfer.to })
    .from(backstopTransfer)
    .where(and(eq(backstopTransfer.chainId, context.chain.id), eq(backstopTransfer.blockNumber, number)))) as Array<{ asset: string; from: string; to: string }>;
  const keys = new Set<string>();
  for (const r of rows) {
    for (const a of [r.from, r.to]) {
      const k = walletKey(c, a, r.asset);
      if (k) keys.add(k);
    }
  }
  return keys;
}

ponder.on(`${PONDER_SOURCES.blocks}:block`, async ({ event, context }) => {
  const c = chainPlan(context.chain.name);
  const number = event.block.number as bigint;
  const fullRead = (number - BigInt(c.startBlock)) % BigInt(c.snapshotInterval) === 0n;
  // Native balances of every wallet at every block: gas, value, internal transfers, withdrawals, fee
  // income and self-destructs all show, without receipts or traces. Tokens: the pairs a Transfer log of
  // this block touched, and every pair at a full read (rebasing, burns without an event).
  const pairs: Array<{ wallet: Hex; asset: string }> = c.wallets.map((wallet) => ({ wallet, asset: c.nativeAsset }));
  if (fullRead) {
    for (const wallet of c.wallets) for (const t of c.tokens) pairs.push({ wallet, asset: t.asset });
  } else if (c.tokens.length > 0) {
    const continuous = memo.get(c.key)?.hash === event.block.parentHash;
    const keys = continuous ? (pending.get(c.key)?.number === number ? pending.get(c.key)!.keys : new Set<string>()) : await loadPendingKeys(context, c, number);
    for (const k of keys) {
      const [wallet, asset] = k.split("|") as [Hex, string];
      pairs.push({ wallet, asset });
    }
  }
  pending.delete(c.key);
  const latest = await latestReads(context, c, event.block.parentHash as Hex, number);
  if (pairs.length > 0) {
    const rpc = nodeRpc(c);
    const balances = await fetchBalancesAtBlock(
      { request: (a) => rpc.request(a.method, a.params) },
      { chain: c, blockNumber: number, blockHash: event.block.hash as Hex, pairs, reader: c.balanceReader ?? "multicall3" },
    );
    // Only what differs from the pair's previous read is written: 1,000 wallets cost one row per change, not 1,000.
    const changed: Array<{ chainId: number; blockNumber: bigint; wallet: Hex; asset: string; balance: bigint }> = [];
    for (let i = 0; i < pairs.length; i++) {
      const { wallet, asset } = pairs[i]!;
      const balance = balances[i]!;
      const k = `${wallet}|${asset}`;
      if (latest.get(k) === balance) continue;
      latest.set(k, balance);
      changed.push({ chainId: context.chain.id, blockNumber: number, wallet, asset, balance });
    }
    if (changed.length > 0) await context.db.insert(backstopBalance).values(changed);
  }
  memo.set(c.key, { hash: event.block.hash as Hex, latest });
  // The header last: a block row means its balances are written (the route also stops at Ponder's checkpoint).
  await context.db.insert(backstopBlock).values({
    chainId: context.chain.id,
    number,
    hash: event.block.hash as Hex,
    parentHash: event.block.parentHash as Hex,
    timestamp: event.block.timestamp as bigint,
    fullRead,
  });
});

// Inert: exists only to keep Ponder's fragment count even (see PONDER_SOURCES.pad).
ponder.on(`${PONDER_SOURCES.pad}:block`, async () => {});

function registryHasTokens(): boolean {
  plan ??= loadPonderPlan();
  return plan.chains.some((c) => c.tokens.length > 0 && c.wallets.length > 0);
}
