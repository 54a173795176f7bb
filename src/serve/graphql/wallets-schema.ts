import { GraphQLEnumType, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLString } from "graphql";
import { isConfiguredWallet, loadWalletAddressesPage, loadWalletStates, loadWalletsPage, type StoredWallet, type StoredWalletAddress } from "../../store/index.js";
import {
  afterArgument,
  checkDeadline,
  checkTextArgument,
  createConnectionType,
  decodeCursor,
  encodeCursor,
  firstArgument,
  requireConfiguredChain,
  type GraphqlContext,
  type SchemaModule,
} from "./types.js";

/**
 * A wallet's lifecycle state (the follower's, from wallet_states): PENDING: configured, not yet indexed
 * from its birthday, so not counted. ACTIVE: configured and indexed. REMOVED: stored (its history kept)
 * but no longer in the config, so not counted from its removal on.
 */
export const WalletStateType = new GraphQLEnumType({
  name: "WalletState",
  values: {
    PENDING: { value: "pending", description: "Configured but not yet backfilled from its birthday: its balance is unknown and does not count." },
    ACTIVE: { value: "active", description: "Configured and indexed; its balances count." },
    REMOVED: { value: "removed", description: "In the store but no longer configured: history kept, balances not counted." },
  },
});

/**
 * The wallet's state as the follower recorded it. A stored wallet the follower never saw (no state row):
 * pending while configured, removed when the config no longer lists it (it never counts either way).
 */
async function loadWalletState(ctx: GraphqlContext, w: StoredWallet): Promise<{ state: string; reason: string | null }> {
  const s = (await loadWalletStates(ctx.q, { chain: w.chain, walletIds: [w.id] }))[0];
  if (s && (s.state !== "pending" || isConfiguredWallet(ctx.config, w.chain, w.label))) return { state: s.state, reason: s.reason };
  return isConfiguredWallet(ctx.config, w.chain, w.label)
    ? { state: "pending", reason: "not yet seen by the chain's follower" }
    : { state: "removed", reason: "not in the config" };
}

const WalletKindType = new GraphQLEnumType({ name: "WalletKind", values: { ADDRESS: { value: "address" }, DESCRIPTOR: { value: "descriptor" } } });

const WalletAddressType = new GraphQLObjectType<StoredWalletAddress, GraphqlContext>({
  name: "WalletAddress",
  description: "An address of a wallet: its own, or one derived from its descriptor.",
  fields: {
    address: { type: new GraphQLNonNull(GraphQLString) },
    branch: { type: GraphQLInt, description: "Descriptor branch (0 receive, 1 change); null for a plain address." },
    index: { type: GraphQLInt, description: "Derivation index; null for a plain address." },
    firstSeenHeight: { type: GraphQLInt, description: "Height of its first use; null while unused." },
  },
});
const WalletAddressConnectionType = createConnectionType("WalletAddress", WalletAddressType, "A page of a wallet's addresses in derivation order.");

export const WalletType = new GraphQLObjectType<StoredWallet, GraphqlContext>({
  name: "Wallet",
  description: "A custody wallet: one address, or an output descriptor with derived addresses.",
  fields: {
    chain: { type: new GraphQLNonNull(GraphQLString) },
    label: { type: new GraphQLNonNull(GraphQLString) },
    kind: { type: new GraphQLNonNull(WalletKindType) },
    address: { type: GraphQLString, description: "The wallet's address; null for a descriptor wallet." },
    descriptor: { type: GraphQLString, description: "The output descriptor; null for an address wallet." },
    state: {
      type: new GraphQLNonNull(WalletStateType),
      resolve: async (w, _a, ctx) => (await loadWalletState(ctx, w)).state,
    },
    stateReason: {
      type: GraphQLString,
      description: "Why a pending or removed wallet does not count (null when active).",
      resolve: async (w, _a, ctx) => (await loadWalletState(ctx, w)).reason,
    },
    addresses: {
      type: new GraphQLNonNull(WalletAddressConnectionType),
      description: "The wallet's addresses (derived ones paginated, in derivation order).",
      args: { first: firstArgument(100), after: afterArgument },
      resolve: async (w, a: { first: number; after?: string | null }, ctx) => {
        checkDeadline(ctx);
        const afterId = a.after ? (decodeCursor("addr", a.after, ["int"])[0] as number) : undefined;
        const page = await loadWalletAddressesPage(ctx.q, { walletId: w.id, first: a.first, afterId });
        // A plain-address wallet on a chain that keeps no address rows (EVM, Solana): its own address.
        if (page.addresses.length === 0 && afterId === undefined && w.address) {
          return { nodes: [{ id: 0, address: w.address, branch: null, index: null, firstSeenHeight: null }], pageInfo: { endCursor: null, hasNextPage: false } };
        }
        const last = page.addresses.at(-1);
        return { nodes: page.addresses, pageInfo: { endCursor: last ? encodeCursor("addr", [last.id]) : null, hasNextPage: page.hasMore } };
      },
    },
  },
});
const WalletConnectionType = createConnectionType("Wallet", WalletType, "A page of wallets in label order.");

/** `wallets(chain, label, first, after)`. */
export const walletsSchema: SchemaModule = {
  query: {
    wallets: {
      type: new GraphQLNonNull(WalletConnectionType),
      description: "A chain's stored wallets in label order, with their lifecycle state (removed ones included).",
      args: { chain: { type: new GraphQLNonNull(GraphQLString) }, label: { type: GraphQLString }, first: firstArgument(100), after: afterArgument },
      resolve: async (_r, a: { chain: string; label?: string | null; first: number; after?: string | null }, ctx) => {
        const chain = requireConfiguredChain(ctx, a.chain);
        const label = a.label == null ? undefined : checkTextArgument("label", a.label, 128);
        const afterLabel = a.after ? (decodeCursor("wallet", a.after, ["string"])[0] as string) : undefined;
        checkDeadline(ctx);
        const page = await loadWalletsPage(ctx.q, { chain, label, first: a.first, afterLabel });
        const last = page.wallets.at(-1);
        return { nodes: page.wallets, pageInfo: { endCursor: last ? encodeCursor("wallet", [last.label]) : null, hasNextPage: page.hasMore } };
      },
    },
  },
};
