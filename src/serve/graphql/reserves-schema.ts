import { GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString, type GraphQLNullableType, type GraphQLOutputType } from "graphql";
import type { BackingLine } from "../../reconcile/checkpoint-document.js";
import { computeBackingLines } from "../../reconcile/compute-backing.js";
import { loadFinalizedReserves } from "../../reconcile/load-finalized-reserves.js";
import { resolveBacking } from "../../reconcile/resolve-backing.js";
import { loadLiveCoverage, type LiveCoverage } from "../../store/index.js";
import { InvalidArgumentError } from "../http-errors.js";
import { AmountType, checkDeadline, checkTextArgument, type GraphqlContext, type SchemaModule } from "./types.js";

const nn = <T extends GraphQLNullableType & GraphQLOutputType>(t: T) => new GraphQLNonNull(t);
const list = <T extends GraphQLNullableType & GraphQLOutputType>(t: T) => new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(t)));

const ChainHeightType = new GraphQLObjectType<{ chain: string; height: number | null }, GraphqlContext>({
  name: "ChainHeight",
  description: "A chain and the finalized height a figure is as of (null: the chain has no final block yet).",
  fields: { chain: { type: nn(GraphQLString) }, height: { type: GraphQLInt } },
});

const LiveCoverageType = new GraphQLObjectType<LiveCoverage, GraphqlContext>({
  name: "LiveCoverage",
  description: "The latest live coverage of one liability asset (unsigned, labelled live: not a checkpoint), from the reconciliation module.",
  fields: {
    asset: { type: nn(GraphQLString) },
    snapshotId: { type: nn(GraphQLString), description: "The snapshot whose liabilities it compares with." },
    liabilities: { type: nn(AmountType), resolve: (c) => ({ value: c.liabilities, decimals: c.decimals }) },
    reserves: { type: nn(AmountType), resolve: (c) => ({ value: c.reserves, decimals: c.decimals }) },
    coverageBps: { type: GraphQLString, description: "floor(reserves × 10000 / liabilities), an integer string; null when liabilities are 0.", resolve: (c) => c.coverageBps?.toString() ?? null },
    status: { type: nn(GraphQLString), description: "covered or breach." },
    heights: { type: list(ChainHeightType), description: "Per chain, the finalized height the reserves are as of.", resolve: (c) => Object.entries(c.heights).sort(([a], [b]) => (a < b ? -1 : 1)).map(([chain, height]) => ({ chain, height })) },
    computedAt: { type: nn(GraphQLString), description: "RFC 3339 UTC with ms.", resolve: (c) => new Date(c.computedAtMs).toISOString() },
    label: { type: nn(GraphQLString), description: "Always `live`." },
  },
});

type ChainReserveValue = BackingLine & { liabilityDecimals: number; atHeight: number };
const ChainReserveType = new GraphQLObjectType<ChainReserveValue, GraphqlContext>({
  name: "ChainReserve",
  description: "One chain asset's reserves for a liability asset at its chain's latest finalized height: the counted wallets' sum, and that sum scaled exactly to the liability asset's decimals (floored).",
  fields: {
    chain: { type: nn(GraphQLString) },
    atHeight: { type: nn(GraphQLInt), description: "The chain's latest finalized height (Solana: slot)." },
    chainAsset: { type: nn(GraphQLString), description: "The chain asset id (config `assets` key)." },
    amount: { type: nn(AmountType), description: "In the chain asset's base units.", resolve: (b) => ({ value: BigInt(b.amount), decimals: b.decimals }) },
    scaled: { type: nn(AmountType), description: "In the liability asset's base units (floored when scaling down).", resolve: (b) => ({ value: BigInt(b.scaled), decimals: b.liabilityDecimals }) },
    remainder: { type: nn(AmountType), description: "What flooring cut off, in the chain asset's base units.", resolve: (b) => ({ value: BigInt(b.remainder), decimals: b.decimals }) },
    wallets: { type: nn(GraphQLInt), description: "Counted wallets of the chain at that height." },
  },
});

type ReservesValue = { asset: string; decimals: number; total: bigint | null; heights: Array<{ chain: string; height: number | null }>; chains: ChainReserveValue[] };
const ReservesType = new GraphQLObjectType<ReservesValue, GraphqlContext>({
  name: "Reserves",
  description: "A liability asset's reserves at each chain's latest finalized height, computed as checkpoints compute them (counted wallets, exact scaling).",
  fields: {
    asset: { type: nn(GraphQLString), description: "The liability asset." },
    total: { type: AmountType, description: "Sum of `chains[].scaled`, in the liability asset's base units; null while a backing chain has no final block.", resolve: (r) => (r.total === null ? null : { value: r.total, decimals: r.decimals }) },
    heights: { type: list(ChainHeightType), description: "Every backing chain and the finalized height its figure is as of." },
    chains: { type: list(ChainReserveType), description: "Per backing chain asset (sorted by chain, then chain asset)." },
  },
});

/** `coverage` and `reserves(asset)`. */
export const reservesSchema: SchemaModule = {
  query: {
    coverage: {
      type: list(LiveCoverageType),
      description: "The live coverage figure per liability asset (by asset id), as the reconciliation module last stored it. Empty before its first round.",
      resolve: async (_r, _a, ctx) => {
        checkDeadline(ctx);
        return loadLiveCoverage(ctx.q);
      },
    },
    reserves: {
      type: nn(ReservesType),
      description: "A liability asset's reserves at each chain's latest finalized height (with those heights), per chain asset.",
      args: { asset: { type: nn(GraphQLString), description: "A liability asset id (config `liabilityAssets`; without it, a chain asset id)." } },
      resolve: async (_r, a: { asset: string }, ctx): Promise<ReservesValue> => {
        const asset = checkTextArgument("asset", a.asset, 64);
        const backing = resolveBacking(ctx.config);
        const explicit = Object.keys(ctx.config.liabilityAssets).length > 0;
        const decimals = explicit ? ctx.config.liabilityAssets[asset]?.decimals : backing.find((b) => b.backs === asset)?.decimals;
        if (decimals === undefined || (explicit && !Object.hasOwn(ctx.config.liabilityAssets, asset))) {
          throw new InvalidArgumentError({ argument: "asset", problem: "is not a configured liability asset" });
        }
        checkDeadline(ctx);
        const r = await loadFinalizedReserves(ctx.q, ctx.config);
        const byChain = new Map(r.chains.map((c) => [c.chain, c]));
        const lines = computeBackingLines({ liability: { asset, decimals }, chainAssets: backing, chains: byChain });
        const backingChains = [...new Set(backing.filter((b) => b.backs === asset).map((b) => b.chain))].sort();
        const missing = backingChains.filter((c) => !byChain.has(c));
        return {
          asset, decimals,
          total: missing.length ? null : lines.reduce((s, l) => s + BigInt(l.scaled), 0n),
          heights: backingChains.map((chain) => ({ chain, height: byChain.get(chain)?.height ?? null })),
          chains: lines.map((l) => ({ ...l, liabilityDecimals: decimals, atHeight: byChain.get(l.chain)!.height })),
        };
      },
    },
  },
};
