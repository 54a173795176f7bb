// Ponder indexing functions for Backstop's EVM custody balances. Ponder executes every file under
// src/ (except src/api/) as indexing code; this is the only one that registers handlers, and it is
// only ever loaded by Ponder (it imports Ponder's virtual modules, which exist nowhere else).
//
// Rule: record ABSOLUTE balances read from the node at the block, never sums of transfers. Events only
// say *which* (wallet, asset) pairs may have changed in a block; the block handler (which Ponder runs
// after every log, transaction and trace event of the same block) reads them all in one multicall.
import { ponder as registry } from "ponder:registry";
import { backstopBalance, backstopBlock, backstopPending } from "ponder:schema";
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
      const keys = walletKeys(context, [event.args.from, event.args.to], (c) => chainPlan(c.key).tokenAsset.get(token));
      await markPending(context, event.block.number, keys);
    });
  }
}
if (registryHasWallets()) {
  for (const name of ["transaction:from", "transaction:to"]) {
    // Gas (sender) and value (both sides) move native balances.
    ponder.on(`${PONDER_SOURCES.custody}:${name}`, async ({ event, context }) => {
      const keys = walletKeys(context, [event.transaction.from, event.transaction.to], (c) => c.nativeAsset);
      await markPending(context, event.block.number, keys);
    });
  }
  for (const name of ["transfer:from", "transfer:to"]) {
    // Native value moved by a call trace, including internal calls from contracts.
    ponder.on(`${PONDER_SOURCES.custody}:${name}`, async ({ event, context }) => {
      const keys = walletKeys(context, [event.transfer.from, event.transfer.to, event.transaction?.from], (c) => c.nativeAsset);
      await markPending(context, event.block.number, keys);
    });
  }
}

ponder.on(`${PONDER_SOURCES.blocks}:block`, async ({ event, context }) => {
  const c = chainPlan(context.chain.name);
  const number = event.block.number as bigint;
  let pairs: Array<{ wallet: Hex; asset: string }>;
  if ((number - BigInt(c.startBlock)) % BigInt(c.snapshotInterval) === 0n) {
    // Snapshot: every pair, catching what no event shows (rebasing, withdrawals, fee income).
    pairs = c.wallets.flatMap((wallet) => [{ wallet, asset: c.nativeAsset }, ...c.tokens.map((t) => ({ wallet, asset: t.asset }))]);
  } else {
    const row = (await context.db.find(backstopPending, { chainId: context.chain.id, blockNumber: number })) as { keys: string[] } | null;
    pairs = (row?.keys ?? []).map((k) => {
      const [wallet, asset] = k.split("|") as [Hex, string];
      return { wallet, asset };
    });
  }
  if (pairs.length > 0) {
    const balances = await fetchBalancesAtBlock({ request: (a) => context.client.request(a) }, { chain: c, blockNumber: number, pairs });
    await context.db.insert(backstopBalance).values(
      pairs.map((p, i) => ({ chainId: context.chain.id, blockNumber: number, wallet: p.wallet, asset: p.asset, balance: balances[i]! })),
    );
  }
  // The header last: a block row means its balances are written (the route also stops at Ponder's checkpoint).
  await context.db.insert(backstopBlock).values({
    chainId: context.chain.id,
    number,
    hash: event.block.hash as Hex,
    parentHash: event.block.parentHash as Hex,
    timestamp: event.block.timestamp as bigint,
  });
});

// Inert: exists only to keep Ponder's fragment count even (see PONDER_SOURCES.pad).
ponder.on(`${PONDER_SOURCES.pad}:block`, async () => {});

function registryHasTokens(): boolean {
  plan ??= loadPonderPlan();
  return plan.chains.some((c) => c.tokens.length > 0 && c.wallets.length > 0);
}
function registryHasWallets(): boolean {
  plan ??= loadPonderPlan();
  return plan.chains.some((c) => c.wallets.length > 0);
}
