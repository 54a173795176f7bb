import { GraphQLBoolean, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString, type GraphQLNullableType, type GraphQLOutputType } from "graphql";
import { canonicalizeJson } from "../../reconcile/canonicalize-json.js";
import type { AnchorEntry, AssetEntry, BackingLine, SignedCheckpoint } from "../../reconcile/checkpoint-document.js";
import { loadCheckpoint, loadCheckpoints, type CheckpointSummary, type StoredCheckpoint } from "../../store/index.js";
import { afterArgument, AmountType, checkDeadline, checkHeightArgument, createConnectionType, decodeCursor, encodeCursor, firstArgument, toRfc3339, type GraphqlContext, type SchemaModule } from "./types.js";

const nn = <T extends GraphQLNullableType & GraphQLOutputType>(t: T) => new GraphQLNonNull(t);
const list = <T extends GraphQLNullableType & GraphQLOutputType>(t: T) => new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(t)));
const amount = (v: string | null, decimals: number) => (v === null ? null : { value: BigInt(v), decimals });

type Loaded = { stored: StoredCheckpoint; signed: SignedCheckpoint };
/** Per request (each request has its own context object): seq → its signed checkpoint. */
const LOADED = new WeakMap<GraphqlContext, Map<number, Promise<Loaded>>>();

/** The signed checkpoint of a summary, read once per request (list nodes load their bytes only when asked). */
async function signedOf(c: CheckpointSummary | StoredCheckpoint, ctx: GraphqlContext): Promise<Loaded> {
  let cache = LOADED.get(ctx);
  if (!cache) LOADED.set(ctx, (cache = new Map()));
  let p = cache.get(c.seq);
  if (!p) {
    p = (async () => {
      let stored = "signed" in c ? c : undefined;
      if (!stored) {
        checkDeadline(ctx);
        stored = (await loadCheckpoint(ctx.q, { seq: c.seq }))!;
      }
      return { stored, signed: JSON.parse(stored.signed) as SignedCheckpoint };
    })();
    cache.set(c.seq, p);
  }
  return p;
}

const AnchorType = new GraphQLObjectType<AnchorEntry, GraphqlContext>({
  name: "CheckpointAnchor",
  description: "One chain's anchor block of a checkpoint (as in its signed document).",
  fields: {
    chain: { type: nn(GraphQLString) },
    caip2: { type: nn(GraphQLString), description: "CAIP-2 chain id." },
    height: { type: nn(GraphQLInt) },
    hash: { type: nn(GraphQLString) },
    time: { type: nn(GraphQLString), description: "The block's time, RFC 3339 UTC.", resolve: (a) => toRfc3339(a.time) },
    rule: { type: nn(GraphQLString) },
    finality: { type: nn(GraphQLString) },
    skewSeconds: { type: nn(GraphQLInt) },
    maxSkewSeconds: { type: nn(GraphQLInt) },
    anchored: { type: nn(GraphQLBoolean) },
  },
});

const BackingType = new GraphQLObjectType<BackingLine & { liabilityDecimals: number }, GraphqlContext>({
  name: "BackingLine",
  description: "One chain asset's contribution to a liability asset: the counted wallets' sum, and that sum scaled exactly to the liability asset's decimals (floored).",
  fields: {
    chain: { type: nn(GraphQLString) },
    chainAsset: { type: nn(GraphQLString), description: "The chain asset id (config `assets` key)." },
    amount: { type: nn(AmountType), description: "In the chain asset's base units.", resolve: (b) => amount(b.amount, b.decimals) },
    scaled: { type: nn(AmountType), description: "In the liability asset's base units (floored when scaling down).", resolve: (b) => amount(b.scaled, b.liabilityDecimals) },
    remainder: { type: nn(AmountType), description: "What flooring cut off, in the chain asset's base units.", resolve: (b) => amount(b.remainder, b.decimals) },
    wallets: { type: nn(GraphQLInt), description: "Counted wallets of the chain." },
  },
});

const CheckpointAssetType = new GraphQLObjectType<AssetEntry, GraphqlContext>({
  name: "CheckpointAsset",
  description: "One liability asset in a checkpoint. `reserves`, `surplus` and `coverageBps` are null when not anchored.",
  fields: {
    asset: { type: nn(GraphQLString) },
    liabilities: { type: nn(AmountType), resolve: (a) => amount(a.liabilities, a.decimals) },
    reserves: { type: AmountType, resolve: (a) => amount(a.reserves, a.decimals) },
    surplus: { type: AmountType, description: "reserves - liabilities (negative in breach).", resolve: (a) => amount(a.surplus, a.decimals) },
    coverageBps: { type: GraphQLString, description: "floor(reserves × 10000 / liabilities), an integer string; null when liabilities are 0 or not anchored." },
    status: { type: nn(GraphQLString), description: "covered, breach or not_anchored." },
    backing: { type: list(BackingType), resolve: (a) => a.backing.map((b) => ({ ...b, liabilityDecimals: a.decimals })) },
  },
});

const SignatureType = new GraphQLObjectType<SignedCheckpoint["signature"], GraphqlContext>({
  name: "CheckpointSignature",
  description: "Ed25519 over the document's RFC 8785 bytes.",
  fields: {
    alg: { type: nn(GraphQLString) },
    kid: { type: nn(GraphQLString), description: "RFC 7638 thumbprint of the key (see the JWKS)." },
    x: { type: nn(GraphQLString), description: "The raw public key, base64url." },
    value: { type: nn(GraphQLString), description: "The signature, base64url." },
  },
});

const CheckpointType = new GraphQLObjectType<CheckpointSummary | StoredCheckpoint, GraphqlContext>({
  name: "Checkpoint",
  description: "A signed solvency checkpoint. `signed` is the published bytes (as `backstop checkpoint show --json` prints them); `document` the RFC 8785 bytes the digest and signature are over.",
  fields: {
    seq: { type: nn(GraphQLInt) },
    digest: { type: nn(GraphQLString), description: "`sha256:<hex>` of the document's RFC 8785 bytes." },
    previousDigest: { type: GraphQLString },
    snapshotId: { type: nn(GraphQLString) },
    status: { type: nn(GraphQLString), description: "covered, breach, not_anchored or discrepancy." },
    invalidates: { type: GraphQLInt, description: "The seq this checkpoint supersedes (its anchor was reorganised away)." },
    supersededBy: { type: GraphQLInt, description: "The seq that supersedes this one; null while it stands." },
    kid: { type: nn(GraphQLString) },
    createdAt: { type: nn(GraphQLString), description: "When it was appended (database clock, not signed), RFC 3339 UTC with ms.", resolve: (c) => new Date(c.createdAtMs).toISOString() },
    anchors: { type: list(AnchorType), resolve: async (c, _a, ctx) => (await signedOf(c, ctx)).signed.document.anchors },
    assets: { type: list(CheckpointAssetType), resolve: async (c, _a, ctx) => (await signedOf(c, ctx)).signed.document.assets },
    document: { type: nn(GraphQLString), description: "The signed document, RFC 8785 canonical JSON: sha256 of these bytes is `digest`.", resolve: async (c, _a, ctx) => canonicalizeJson((await signedOf(c, ctx)).signed.document) },
    signature: { type: nn(SignatureType), resolve: async (c, _a, ctx) => (await signedOf(c, ctx)).signed.signature },
    signed: { type: nn(GraphQLString), description: "The published bytes (envelope of document, digest, signature; newline-terminated).", resolve: async (c, _a, ctx) => (await signedOf(c, ctx)).stored.signed },
  },
});
const CheckpointConnectionType = createConnectionType("Checkpoint", CheckpointType, "A page of checkpoints, oldest (lowest seq) first.");

/** `checkpoints(first, after)` and `checkpoint(seq)`. */
export const checkpointsSchema: SchemaModule = {
  query: {
    checkpoints: {
      type: nn(CheckpointConnectionType),
      description: "Signed checkpoints by seq, oldest first (the order of `backstop checkpoint list`).",
      args: { first: firstArgument(20), after: afterArgument },
      resolve: async (_r, a: { first: number; after?: string | null }, ctx) => {
        const afterSeq = a.after ? (decodeCursor("cp", a.after, ["int"])[0] as number) : undefined;
        checkDeadline(ctx);
        const rows = await loadCheckpoints(ctx.q, { afterSeq, limit: a.first + 1 });
        const nodes = rows.slice(0, a.first);
        const last = nodes.at(-1);
        return { nodes, pageInfo: { endCursor: last ? encodeCursor("cp", [last.seq]) : null, hasNextPage: rows.length > a.first } };
      },
    },
    checkpoint: {
      type: CheckpointType,
      description: "One checkpoint by seq, or null.",
      args: { seq: { type: nn(GraphQLInt) } },
      resolve: async (_r, a: { seq: number }, ctx) => {
        const seq = checkHeightArgument("seq", a.seq);
        checkDeadline(ctx);
        return (await loadCheckpoint(ctx.q, { seq })) ?? null;
      },
    },
  },
};
