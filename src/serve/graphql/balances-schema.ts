import { GraphQLBoolean, GraphQLEnumType, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLString } from "graphql";
import type { ResolvedAsset } from "../../lib/config.js";
import {
  computeWalletCounted,
  isConfiguredWallet,
  loadAsOfBlock,
  loadBalanceAt,
  loadBalanceHistory,
  loadHeaderTimes,
  loadWalletByName,
  loadWalletStates,
  loadWalletsPage,
  NothingIndexedError,
  UnknownWalletError,
  type AsOfBlock,
  type BalanceAt,
  type BalanceChange,
  type StoredWallet,
  type WalletStatus,
} from "../../store/index.js";
import { InvalidArgumentError } from "../http-errors.js";
import { AssetType } from "./chains-schema.js";
import { WalletStateType } from "./wallets-schema.js";
import {
  afterArgument,
  AmountType,
  BlockType,
  checkDeadline,
  checkHeightArgument,
  checkTextArgument,
  createConnectionType,
  decodeCursor,
  encodeCursor,
  firstArgument,
  requireConfiguredChain,
  type BlockValue,
  type GraphqlContext,
  type SchemaModule,
} from "./types.js";

type BalanceValue = { wallet: StoredWallet; asset: ResolvedAsset; block: AsOfBlock; at: BalanceAt; status: WalletStatus | undefined };
type ChangeValue = { change: BalanceChange; asset: ResolvedAsset; block: BlockValue };

const LastChangeType = new GraphQLObjectType<NonNullable<BalanceAt>, GraphqlContext>({
  name: "LastChange",
  description: "The balance change that set a balance: the last one at or below the height asked.",
  fields: {
    height: { type: new GraphQLNonNull(GraphQLInt) },
    blockHash: { type: new GraphQLNonNull(GraphQLString) },
    txid: { type: GraphQLString, description: "Transaction (Solana: signature); null for a balance read without one (EVM periodic reads)." },
  },
});

const BalanceType = new GraphQLObjectType<BalanceValue, GraphqlContext>({
  name: "Balance",
  description: "One (wallet, asset) balance as of a block. Equal to `backstop balances --json` for the same store and height.",
  fields: {
    chain: { type: new GraphQLNonNull(GraphQLString), resolve: (b) => b.block.chain },
    wallet: { type: new GraphQLNonNull(GraphQLString), description: "The wallet's label.", resolve: (b) => b.wallet.label },
    address: { type: new GraphQLNonNull(GraphQLString), description: "The wallet's address or descriptor.", resolve: (b) => b.wallet.address ?? b.wallet.descriptor ?? "" },
    asset: { type: new GraphQLNonNull(AssetType), resolve: (b) => b.asset },
    amount: {
      type: AmountType,
      description: "The balance; null while the wallet is pending (its history before it was added is not known yet), never a guessed 0.",
      resolve: (b) => (isPending(b) ? null : { value: b.at?.amount ?? 0n, decimals: b.asset.decimals }),
    },
    state: { type: new GraphQLNonNull(WalletStateType), description: "The wallet's lifecycle state.", resolve: (b) => b.status?.state ?? "pending" },
    counted: {
      type: new GraphQLNonNull(GraphQLBoolean),
      description: "Whether this balance counts in reserves at this block (pending wallets never; removed ones only up to their removal).",
      resolve: (b) => counted(b).counted,
    },
    notCountedReason: { type: GraphQLString, description: "Why it does not count (null when it does).", resolve: (b) => counted(b).reason },
    block: { type: new GraphQLNonNull(BlockType), description: "The block the balance is as of (the height asked, not the last change's).", resolve: (b) => b.block },
    lastChange: { type: LastChangeType, description: "null when the pair has no change at or below the height (balance 0).", resolve: (b) => b.at },
  },
});
function isPending(b: BalanceValue): boolean {
  return !b.status || b.status.state === "pending";
}
function counted(b: BalanceValue): { counted: boolean; reason: string | null } {
  return b.status ? computeWalletCounted(b.status, b.block.height) : { counted: false, reason: "pending: the chain's follower has not seen this wallet yet" };
}

const BalanceConnectionType = createConnectionType("Balance", BalanceType, "A page of balances in (wallet label, asset id) order.");

const BalanceChangeType = new GraphQLObjectType<ChangeValue, GraphqlContext>({
  name: "BalanceChange",
  description: "One change of a (wallet, asset) balance: the net delta of one transaction (or one absolute read) and the exact balance after it.",
  fields: {
    txid: { type: GraphQLString, description: "Transaction (Solana: signature); null for an absolute balance read without one.", resolve: (c) => c.change.txid },
    delta: { type: new GraphQLNonNull(AmountType), description: "Signed change, base units.", resolve: (c) => ({ value: c.change.delta, decimals: c.asset.decimals }) },
    balanceAfter: { type: new GraphQLNonNull(AmountType), resolve: (c) => ({ value: c.change.balanceAfter, decimals: c.asset.decimals }) },
    block: { type: new GraphQLNonNull(BlockType), resolve: (c) => c.block },
  },
});
const BalanceChangeConnectionType = createConnectionType("BalanceChange", BalanceChangeType, "A page of balance changes in (height, id) order; new blocks never make a page skip or repeat a change.");

const OrderType = new GraphQLEnumType({ name: "Order", values: { ASC: { value: "asc", description: "Oldest first." }, DESC: { value: "desc", description: "Newest first." } } });

function requireAsset(ctx: GraphqlContext, chain: string, id: string): ResolvedAsset {
  const a = ctx.config.assets[checkTextArgument("asset", id, 64)];
  if (!a || a.chain !== chain || !Object.hasOwn(ctx.config.assets, id)) throw new InvalidArgumentError({ argument: "asset", problem: `not an asset of chain ${chain}` });
  return a;
}

async function requireWallet(ctx: GraphqlContext, chain: string, name: string, configuredOnly: boolean): Promise<StoredWallet> {
  checkTextArgument("wallet", name);
  checkDeadline(ctx);
  const w = await loadWalletByName(ctx.q, { chain, wallet: name });
  if (!w || (configuredOnly && !isConfiguredWallet(ctx.config, chain, w.label))) throw new UnknownWalletError({ chain, wallet: name.slice(0, 128) });
  return w;
}

type BalancesArgs = { chain: string; wallet?: string | null; asset?: string | null; atHeight?: number | null; finalized: boolean; first: number; after?: string | null };

async function resolveBalances(a: BalancesArgs, ctx: GraphqlContext) {
  const chain = requireConfiguredChain(ctx, a.chain);
  const assets = a.asset == null ? Object.values(ctx.config.assets).filter((x) => x.chain === chain).sort((x, y) => (x.id < y.id ? -1 : 1)) : [requireAsset(ctx, chain, a.asset)];
  const atHeight = a.atHeight == null ? undefined : checkHeightArgument("atHeight", a.atHeight);
  const after = a.after ? (decodeCursor("bal", a.after, ["string", "string"]) as [string, string]) : undefined;
  checkDeadline(ctx);
  const block = await loadAsOfBlock(ctx.q, { chain, atHeight, latest: a.finalized ? "finalized" : "indexed" });
  if (!block) throw new NothingIndexedError({ chain, finalized: false });
  const statuses = new Map((await loadWalletStates(ctx.q, { chain })).map((w) => [w.walletId, w]));
  const nodes: BalanceValue[] = [];
  let hasNextPage = false;
  const push = async (w: StoredWallet) => {
    for (const asset of assets) {
      if (after && w.label === after[0] && asset.id <= after[1]) continue;
      if (nodes.length === a.first) {
        hasNextPage = true;
        return false;
      }
      checkDeadline(ctx);
      nodes.push({ wallet: w, asset, block, status: statuses.get(w.id), at: await loadBalanceAt(ctx.q, { chain, walletId: w.id, asset: asset.id, atHeight: block.height }) });
    }
    return true;
  };
  if (a.wallet != null) await push(await requireWallet(ctx, chain, a.wallet, true));
  else {
    // Configured wallets in label order; stored wallets no longer configured are skipped (as the CLI does).
    // The cursor's wallet is read again from its next asset on: the scan starts at its label, inclusive.
    let afterLabel: string | undefined;
    let fromLabel = after?.[0];
    for (;;) {
      checkDeadline(ctx);
      const page = await loadWalletsPage(ctx.q, { chain, first: 200, afterLabel, fromLabel });
      fromLabel = undefined;
      let go = true;
      for (const w of page.wallets) if (isConfiguredWallet(ctx.config, chain, w.label) && !(go = await push(w))) break;
      if (!go || !page.hasMore) break;
      afterLabel = page.wallets.at(-1)!.label;
    }
  }
  const last = nodes.at(-1);
  return { nodes, pageInfo: { endCursor: last ? encodeCursor("bal", [last.wallet.label, last.asset.id]) : null, hasNextPage } };
}

type HistoryArgs = { chain: string; wallet: string; asset: string; fromHeight?: number | null; toHeight?: number | null; first: number; after?: string | null; order: "asc" | "desc" };

async function resolveHistory(a: HistoryArgs, ctx: GraphqlContext) {
  const chain = requireConfiguredChain(ctx, a.chain);
  const asset = requireAsset(ctx, chain, a.asset);
  const fromHeight = a.fromHeight == null ? undefined : checkHeightArgument("fromHeight", a.fromHeight);
  const toHeight = a.toHeight == null ? undefined : checkHeightArgument("toHeight", a.toHeight);
  const afterParts = a.after ? (decodeCursor(`hist-${a.order}`, a.after, ["int", "int"]) as [number, number]) : undefined;
  const wallet = await requireWallet(ctx, chain, a.wallet, false);
  checkDeadline(ctx);
  const [cursor] = await ctx.q.raw("SELECT finalized_height FROM chain_cursors WHERE chain = ?", [chain]);
  const finalized = cursor && cursor.finalized_height !== null ? Number(cursor.finalized_height) : -1;
  const page = await loadBalanceHistory(ctx.q, {
    chain, walletId: wallet.id, asset: asset.id, fromHeight, toHeight, first: a.first, order: a.order,
    after: afterParts ? { height: afterParts[0], id: afterParts[1] } : undefined,
  });
  const times = page.changes.length ? await loadHeaderTimes(ctx.q, { chain, heights: page.changes.map((c) => c.height) }) : new Map<number, number>();
  const nodes: ChangeValue[] = page.changes.map((change) => ({
    change, asset, block: { height: change.height, hash: change.blockHash, time: times.get(change.height) ?? null, finalized: change.height <= finalized },
  }));
  const last = page.changes.at(-1);
  return { nodes, pageInfo: { endCursor: last ? encodeCursor(`hist-${a.order}`, [last.height, last.id]) : null, hasNextPage: page.hasMore } };
}

/** `balances(...)` and `balanceHistory(...)`. */
export const balancesSchema: SchemaModule = {
  query: {
    balances: {
      type: new GraphQLNonNull(BalanceConnectionType),
      description:
        "Balances of a chain's configured wallets as of a height: `atHeight`, else the latest final height (default), or with `finalized: false` the latest indexed height. Zero balances included.",
      args: {
        chain: { type: new GraphQLNonNull(GraphQLString) },
        wallet: { type: GraphQLString, description: "A wallet's label, address or derived address; default every configured wallet." },
        asset: { type: GraphQLString, description: "An asset id of the chain; default every asset of the chain." },
        atHeight: { type: GraphQLInt, description: "As of this height (at or below the indexed tip)." },
        finalized: { type: new GraphQLNonNull(GraphQLBoolean), defaultValue: true, description: "Without atHeight: as of the latest final height (true) or the latest indexed one (false)." },
        first: firstArgument(100),
        after: afterArgument,
      },
      resolve: (_r, a: BalancesArgs, ctx) => resolveBalances(a, ctx),
    },
    balanceHistory: {
      type: new GraphQLNonNull(BalanceChangeConnectionType),
      description: "A (wallet, asset)'s balance changes, keyset-paginated on (height, id), each with its transaction and delta.",
      args: {
        chain: { type: new GraphQLNonNull(GraphQLString) },
        wallet: { type: new GraphQLNonNull(GraphQLString), description: "A wallet's label, address or derived address (removed wallets included)." },
        asset: { type: new GraphQLNonNull(GraphQLString) },
        fromHeight: { type: GraphQLInt, description: "Inclusive lower height bound." },
        toHeight: { type: GraphQLInt, description: "Inclusive upper height bound." },
        first: firstArgument(100),
        after: afterArgument,
        order: { type: new GraphQLNonNull(OrderType), defaultValue: "asc" },
      },
      resolve: (_r, a: HistoryArgs, ctx) => resolveHistory(a, ctx),
    },
  },
};
