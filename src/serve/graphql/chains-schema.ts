import { GraphQLBoolean, GraphQLEnumType, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString } from "graphql";
import { buildCaip2ChainId } from "../../lib/caip2.js";
import type { ResolvedAsset, ResolvedChain } from "../../lib/config.js";
import { loadChainStates, type ChainState } from "../../store/index.js";
import { BlockType, checkDeadline, checkTextArgument, type GraphqlContext, type SchemaModule } from "./types.js";

type ChainValue = { config: ResolvedChain; state: ChainState };

export const ChainKindType = new GraphQLEnumType({ name: "ChainKind", values: { BITCOIN: { value: "bitcoin" }, EVM: { value: "evm" }, SOLANA: { value: "solana" } } });

export const AssetType = new GraphQLObjectType<ResolvedAsset, GraphqlContext>({
  name: "Asset",
  description: "A configured asset: a chain's native asset or a token (contract or mint).",
  fields: {
    id: { type: new GraphQLNonNull(GraphQLString), description: "The config's asset id (e.g. USDC, USDC.base)." },
    chain: { type: new GraphQLNonNull(GraphQLString), description: "Chain key." },
    symbol: { type: new GraphQLNonNull(GraphQLString) },
    decimals: { type: new GraphQLNonNull(GraphQLInt), description: "Decimals of the base unit." },
    native: { type: new GraphQLNonNull(GraphQLBoolean), resolve: (a) => a.native === true },
    address: { type: GraphQLString, description: "Token contract or mint; null for the native asset." },
  },
});

const IndexerProcessType = new GraphQLObjectType<NonNullable<ChainState["indexer"]>, GraphqlContext>({
  name: "IndexerProcess",
  description: "The process holding the chain's instance lock (it indexes the chain into this store).",
  fields: {
    pid: { type: new GraphQLNonNull(GraphQLInt) },
    host: { type: new GraphQLNonNull(GraphQLString) },
    heartbeatAgeMs: { type: new GraphQLNonNull(GraphQLInt), description: "Milliseconds since its last heartbeat, on the database's clock." },
    stale: { type: new GraphQLNonNull(GraphQLBoolean), description: "True once the heartbeat is older than the lock's ttl (the holder is presumed dead)." },
  },
});

export const ChainType = new GraphQLObjectType<ChainValue, GraphqlContext>({
  name: "Chain",
  description: "A configured chain and what the store knows of it.",
  fields: {
    key: { type: new GraphQLNonNull(GraphQLString), description: "The config's chain key.", resolve: (c) => c.config.key },
    caip2: { type: new GraphQLNonNull(GraphQLString), description: "CAIP-2 chain id (bip122:…, eip155:…, solana:…).", resolve: (c) => buildCaip2ChainId(c.config.descriptor) },
    kind: { type: new GraphQLNonNull(ChainKindType), resolve: (c) => c.config.descriptor.kind },
    name: { type: new GraphQLNonNull(GraphQLString), resolve: (c) => c.config.descriptor.name },
    finalityDepth: { type: new GraphQLNonNull(GraphQLInt), description: "Blocks after which a block is final.", resolve: (c) => c.config.finalityDepth },
    tip: { type: GraphQLInt, description: "The node's head as last recorded by the indexer; null when not known.", resolve: (c) => c.state.tip },
    indexed: {
      type: BlockType,
      description: "The last block applied to the store (the cursor); null before the first.",
      resolve: (c) => c.state.indexed && { ...c.state.indexed, finalized: c.state.finalizedHeight !== null && c.state.indexed.height <= c.state.finalizedHeight },
    },
    finalizedHeight: { type: GraphQLInt, description: "Highest height recorded as final; null before one is.", resolve: (c) => c.state.finalizedHeight },
    lag: { type: GraphQLInt, description: "tip − indexed height, blocks; null when either is unknown.", resolve: (c) => (c.state.tip === null || !c.state.indexed ? null : c.state.tip - c.state.indexed.height) },
    indexer: { type: IndexerProcessType, description: "The process indexing the chain (its instance lock); null when none.", resolve: (c) => c.state.indexer },
    lastError: { type: GraphQLString, description: "The indexer's last recorded error (no secrets); null when none.", resolve: (c) => c.state.lastError },
    assets: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(AssetType))),
      resolve: (c, _a, ctx) => Object.values(ctx.config.assets).filter((a) => a.chain === c.config.key),
    },
  },
});

async function loadChains(ctx: GraphqlContext, keys: string[]): Promise<ChainValue[]> {
  checkDeadline(ctx);
  const states = await loadChainStates(ctx.store, ctx.q, { chains: keys });
  return states.map((state) => ({ config: ctx.config.chains[state.chain]!, state }));
}

/** `chains` and `chain(key)`. */
export const chainsSchema: SchemaModule = {
  query: {
    chains: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(ChainType))),
      description: "Every configured chain.",
      resolve: (_r, _a, ctx) => loadChains(ctx, Object.keys(ctx.config.chains)),
    },
    chain: {
      type: ChainType,
      description: "One configured chain; null when the key is not configured.",
      args: { key: { type: new GraphQLNonNull(GraphQLString) } },
      resolve: async (_r, a: { key: string }, ctx) => {
        const key = checkTextArgument("key", a.key, 64);
        if (!Object.hasOwn(ctx.config.chains, key)) return null;
        return (await loadChains(ctx, [key]))[0];
      },
    },
  },
};
