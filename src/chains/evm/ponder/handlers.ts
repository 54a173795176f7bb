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
import { backstopBalance, backstopBlock, backstopPending, backstopTransfer } from "ponder:schema";
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

async function markPending(context: LooseContext, blockNumber: bigint, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const id = { chainId: context.chain.id, blockNumber };
  const row = (await context.db.find(backstopPending, id)) as { keys: string[] } | null;
  if (!row) {
    await context.db.insert(backstopPending).values({ ...id, keys });
    return;
  }
  const merged = [...new Set([...row.keys, ...keys])];
  if (merged.length !== row.keys.length) await context.db.update(backstopPending, id).set({ keys: merged });
}

function walletKeys(context: LooseContext, addresses: Array<string | null | undefined>, asset: (c: PonderPlanChain) => string | undefined): string[] {
  const c = chainPlan(context.chain.name);
  const a = asset(c);
  if (!a) return [];
  const out: string[] = [];
  for (const addr of addresses) {
    const w = addr?.toLowerCase();
    if (w && c.walletSet.has(w)) out.push(`${w}|${a}`);
  }
  return out;
}

if (registryHasTokens()) {
  for (const source of [PONDER_SOURCES.erc20In, PONDER_SOURCES.erc20Out]) {
    ponder.on(`${source}:Transfer`, async ({ event, context }) => {
      const token = (event.log.address as string).toLowerCase();
      const c = chainPlan(context.chain.name);
      const asset = c.tokenAsset.get(token);
      if (!asset) return;
      const keys = walletKeys(context, [event.args.from, event.args.to], () => asset);
      if (keys.length === 0) return;
      // A log from custody to custody matches both sources: one row per log either way.
      await context.db
        .insert(backstopTransfer)
        .values({
          chainId: context.chain.id,
          blockNumber: event.block.number,
          logIndex: event.log.logIndex,
          txHash: event.transaction.hash,
          asset,
          from: (event.args.from as string).toLowerCase() as Hex,
          to: (event.args.to as string).toLowerCase() as Hex,
          amount: event.args.value as bigint,
        })
        .onConflictDoNothing();
      await markPending(context, event.block.number, keys);
    });
  }
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
    const row = (await context.db.find(backstopPending, { chainId: context.chain.id, blockNumber: number })) as { keys: string[] } | null;
    for (const k of row?.keys ?? []) {
      const [wallet, asset] = k.split("|") as [Hex, string];
      pairs.push({ wallet, asset });
    }
  }
  const latest = await latestReads(context, c, event.block.parentHash as Hex, number);
  if (pairs.length > 0) {
    const rpc = nodeRpc(c);
    const balances = await fetchBalancesAtBlock({ request: (a) => rpc.request(a.method, a.params) }, { chain: c, blockNumber: number, blockHash: event.block.hash as Hex, pairs });
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
