// Ponder indexing functions for Backstop's EVM custody balances. Ponder executes every file under
// src/ (except src/api/) as indexing code; this is the only one that registers handlers, and it is
// only ever loaded by Ponder (it imports Ponder's virtual modules, which exist nowhere else).
//
// Rule: record ABSOLUTE balances read from the node at the block, never sums of transfers. Transfer logs
// say which token pairs may have changed in a block (and which transaction moved them, with whom); the
// block handler (which Ponder runs after every log event of the same block) reads every wallet's native
// balance and those token pairs in one eth_call (Backstop's reader through a state override, or Multicall3),
// started ahead of the handler during the backfill (see AHEAD). No receipts, no traces.
import { ponder as registry } from "ponder:registry";
import { and, desc, eq, lt, sql } from "ponder";
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

/**
 * Reads started ahead of indexing (the backfill's throughput). Ponder runs one block handler at a time,
 * so a read per handler caps the backfill at 1 / (the node's eth_call latency). Ponder's historical sync
 * has already stored the next blocks (hash) and their logs in its sync store (`ponder_sync.blocks`,
 * `ponder_sync.logs`) before it indexes them: the handler of block N looks up the next AHEAD blocks there
 * and starts their reads, pinned to those hashes, with the pairs their Transfer logs touch. A block then
 * uses a read made ahead only when it was made at its own hash and covers every pair it needs (else it
 * reads now), so a hint that is stale (a reorg) or incomplete costs a read, never a wrong balance. While
 * following the head there is nothing ahead and each block reads in its handler.
 */
const AHEAD = 96;
/** Reads in flight at once: enough to hide the node's latency, few enough to leave it cores. */
const AHEAD_CONCURRENCY = 4;
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
type AheadRead = { number: bigint; keys: Set<string>; result: Promise<Map<string, bigint>> };
type AheadState = { reads: Map<string, AheadRead>; upTo: bigint; idleUntil: bigint; inFlight: number; queue: Array<() => void>; broken: boolean };
const aheadByChain = new Map<string, AheadState>();

function aheadState(key: string): AheadState {
  let a = aheadByChain.get(key);
  if (!a) aheadByChain.set(key, (a = { reads: new Map(), upTo: -1n, idleUntil: -1n, inFlight: 0, queue: [], broken: false }));
  return a;
}

async function limited<T>(a: AheadState, fn: () => Promise<T>): Promise<T> {
  if (a.inFlight >= AHEAD_CONCURRENCY) await new Promise<void>((r) => a.queue.push(r));
  a.inFlight++;
  try {
    return await fn();
  } finally {
    a.inFlight--;
    a.queue.shift()?.();
  }
}

function rowsOf(r: unknown): Array<Record<string, unknown>> {
  return (Array.isArray(r) ? r : ((r as { rows?: unknown[] }).rows ?? [])) as Array<Record<string, unknown>>;
}

/** Starts the reads of the blocks after `number` that Ponder's sync store already holds (see AHEAD). */
async function scheduleAhead(context: LooseContext, c: PonderPlanChain & { walletSet: Set<string>; tokenAsset: Map<string, string> }, number: bigint): Promise<void> {
  const a = aheadState(c.key);
  for (const [h, r] of a.reads) if (r.number <= number) a.reads.delete(h);
  if (a.broken || number < a.idleUntil) return;
  const from = a.upTo > number ? a.upTo : number;
  if (from - number > AHEAD / 2) return;
  const to = number + BigInt(AHEAD);
  let blocks: Array<Record<string, unknown>>;
  let logs: Array<Record<string, unknown>> = [];
  try {
    blocks = rowsOf(await context.db.sql.execute(sql`select number::text as number, hash from ponder_sync.blocks where chain_id = ${context.chain.id} and number > ${from.toString()}::numeric and number <= ${to.toString()}::numeric order by number`));
    if (blocks.length && c.tokens.length)
      logs = rowsOf(await context.db.sql.execute(sql`select block_hash, address, topic1, topic2 from ponder_sync.logs where chain_id = ${context.chain.id} and block_number > ${from.toString()}::numeric and block_number <= ${to.toString()}::numeric and topic0 = ${TRANSFER_TOPIC}`));
  } catch (err) {
    // Ponder's sync store is not its public API: if it changed, index without reads ahead.
    a.broken = true;
    // One JSON line at warn level: Backstop's supervisor relays it as a Ponder warning.
    console.warn(JSON.stringify({ level: 40, msg: `backstop: reads ahead disabled (Ponder's sync store did not answer: ${(err as Error).message.slice(0, 160)})` }));
    return;
  }
  if (!blocks.length) {
    // Following the head (nothing synced ahead): look again in a few blocks, not at every block.
    a.idleUntil = number + 8n;
    return;
  }
  const touched = new Map<string, Set<string>>();
  for (const l of logs) {
    const asset = c.tokenAsset.get(String(l.address).toLowerCase());
    if (!asset) continue;
    const hash = String(l.block_hash).toLowerCase();
    let keys = touched.get(hash);
    if (!keys) touched.set(hash, (keys = new Set()));
    for (const t of [l.topic1, l.topic2]) {
      if (typeof t !== "string" || t.length !== 66) continue;
      const k = walletKey(c, `0x${t.slice(26)}`, asset);
      if (k) keys.add(k);
    }
  }
  const rpc = nodeRpc(c);
  for (const b of blocks) {
    const n = BigInt(String(b.number));
    const hash = String(b.hash).toLowerCase() as Hex;
    a.upTo = n;
    if (a.reads.has(hash)) continue;
    const fullRead = (n - BigInt(c.startBlock)) % BigInt(c.snapshotInterval) === 0n;
    const keys = fullRead ? new Set<string>() : (touched.get(hash) ?? new Set<string>());
    const pairs = pairsFor(c, fullRead, keys);
    const result = limited(a, () =>
      fetchBalancesAtBlock({ request: (x) => rpc.request(x.method, x.params) }, { chain: c, blockNumber: n, blockHash: hash, pairs, reader: c.balanceReader ?? "multicall3" }),
    ).then((values) => new Map(pairs.map((p, i) => [`${p.wallet}|${p.asset}`, values[i]!])));
    // Never an unhandled rejection: a failed read ahead is read again by its block.
    result.catch(() => undefined);
    a.reads.set(hash, { number: n, keys, result });
  }
}

/** Every wallet's native balance, and the token pairs: every pair at a full read, else `keys`. */
function pairsFor(c: PonderPlanChain, fullRead: boolean, keys: Set<string>): Array<{ wallet: Hex; asset: string }> {
  const pairs: Array<{ wallet: Hex; asset: string }> = c.wallets.map((wallet) => ({ wallet, asset: c.nativeAsset }));
  if (fullRead) {
    for (const wallet of c.wallets) for (const t of c.tokens) pairs.push({ wallet, asset: t.asset });
  } else {
    for (const k of keys) {
      const [wallet, asset] = k.split("|") as [Hex, string];
      pairs.push({ wallet, asset });
    }
  }
  return pairs;
}

/** The block's balances for `pairs`: from a read made ahead at this hash when it covers them, else read now. */
async function readBalances(context: LooseContext, c: PonderPlanChain & { walletSet: Set<string>; tokenAsset: Map<string, string> }, block: { number: bigint; hash: Hex }, pairs: Array<{ wallet: Hex; asset: string }>): Promise<bigint[]> {
  const made = aheadState(c.key).reads.get(block.hash.toLowerCase());
  await scheduleAhead(context, c, block.number);
  if (made) {
    const values = await made.result.catch(() => undefined);
    if (values && pairs.every((p) => values.has(`${p.wallet}|${p.asset}`))) return pairs.map((p) => values.get(`${p.wallet}|${p.asset}`)!);
  }
  const rpc = nodeRpc(c);
  return fetchBalancesAtBlock({ request: (a) => rpc.request(a.method, a.params) }, { chain: c, blockNumber: block.number, blockHash: block.hash, pairs, reader: c.balanceReader ?? "multicall3" });
}

ponder.on(`${PONDER_SOURCES.blocks}:block`, async ({ event, context }) => {
  const c = chainPlan(context.chain.name);
  const number = event.block.number as bigint;
  const fullRead = (number - BigInt(c.startBlock)) % BigInt(c.snapshotInterval) === 0n;
  // Native balances of every wallet at every block: gas, value, internal transfers, withdrawals, fee
  // income and self-destructs all show, without receipts or traces. Tokens: the pairs a Transfer log of
  // this block touched, and every pair at a full read (rebasing, burns without an event).
  let keys = new Set<string>();
  if (!fullRead && c.tokens.length > 0) {
    const continuous = memo.get(c.key)?.hash === event.block.parentHash;
    if (!continuous) keys = await loadPendingKeys(context, c, number);
    else if (pending.get(c.key)?.number === number) keys = pending.get(c.key)!.keys;
  }
  pending.delete(c.key);
  const pairs = pairsFor(c, fullRead, keys);
  const latest = await latestReads(context, c, event.block.parentHash as Hex, number);
  if (pairs.length > 0) {
    const balances = await readBalances(context, c, { number, hash: event.block.hash as Hex }, pairs);
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
