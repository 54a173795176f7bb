// Shared GraphQL types of the internal API (amounts, blocks, pages) and the request context.
import {
  GraphQLBoolean,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLString,
  type GraphQLFieldConfigMap,
  type GraphQLOutputType,
} from "graphql";
import { formatUnits } from "../../lib/amounts.js";
import type { ResolvedConfig } from "../../lib/config.js";
import type { ReadQuery, Store } from "../../store/index.js";
import type { ApiKeyIdentity } from "../api-keys.js";
import { InvalidArgumentError, UnknownChainArgumentError } from "../http-errors.js";
import { QueryTimeoutError } from "../http-errors.js";

/** What every resolver gets: the request's read snapshot, the config, the caller and the deadline. */
export type GraphqlContext = {
  store: Store;
  /** The request's read snapshot (every read of one request agrees). */
  q: ReadQuery;
  config: ResolvedConfig;
  key: ApiKeyIdentity;
  /** performance.now() after which resolvers stop (the per-query time limit). */
  deadline: number;
  timeoutMs: number;
};

/** A module of the schema: its Query (and Mutation) fields. A new area (checkpoints, alerts) is one more module. */
export type SchemaModule = {
  query?: GraphQLFieldConfigMap<unknown, GraphqlContext>;
  /** Mutation fields; each sets `extensions: { scope }` (checked for every field before execution). */
  mutation?: GraphQLFieldConfigMap<unknown, GraphqlContext>;
};

/** Throws when the request is past its time limit (called before each store read). @throws QueryTimeoutError */
export function checkDeadline(ctx: GraphqlContext): void {
  if (performance.now() > ctx.deadline) throw new QueryTimeoutError({ timeoutMs: ctx.timeoutMs });
}

/** The configured chain key, or a field error. @throws UnknownChainArgumentError */
export function requireConfiguredChain(ctx: GraphqlContext, chain: string): string {
  if (!Object.hasOwn(ctx.config.chains, chain)) throw new UnknownChainArgumentError({ chain });
  return chain;
}

/** A short free-text argument (label, address, asset id): bounded length, no control characters. @throws InvalidArgumentError */
export function checkTextArgument(name: string, value: string, max = 256): string {
  if (value.length === 0 || value.length > max) throw new InvalidArgumentError({ argument: name, problem: `must be 1..${max} characters` });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError({ argument: name, problem: "must not contain control characters" });
  return value;
}

/** A height argument: a non-negative integer. @throws InvalidArgumentError */
export function checkHeightArgument(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError({ argument: name, problem: "must be a non-negative integer" });
  return value;
}

/** Unix seconds → RFC 3339 UTC to the second. */
export function toRfc3339(unixSeconds: number | null): string | null {
  return unixSeconds === null ? null : new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** An exact amount: the base-unit integer string, the asset's decimals, and the display string made from them (never a float). */
export type AmountValue = { value: bigint; decimals: number };

export const AmountType = new GraphQLObjectType<AmountValue, GraphqlContext>({
  name: "Amount",
  description: "An exact amount. `value` is the integer in base units (sat, wei, lamport, token units) as a decimal string; `display` is the same amount in whole units, computed exactly from it.",
  fields: {
    value: { type: new GraphQLNonNull(GraphQLString), description: "Base units, a decimal integer string (may exceed 2^64).", resolve: (a) => a.value.toString() },
    decimals: { type: new GraphQLNonNull(GraphQLInt), description: "Decimals of the asset's base unit.", resolve: (a) => a.decimals },
    display: { type: new GraphQLNonNull(GraphQLString), description: "The amount in whole units, exact, without trailing zeros (e.g. \"1.5\").", resolve: (a) => formatUnits(a.value, a.decimals) },
  },
});

/** The block a value is as of. */
export type BlockValue = { height: number; hash: string | null; time: number | null; finalized: boolean };

export const BlockType = new GraphQLObjectType<BlockValue, GraphqlContext>({
  name: "Block",
  description: "A block (Solana: a slot) as the store records it.",
  fields: {
    height: { type: new GraphQLNonNull(GraphQLInt), description: "Height (Solana: slot)." },
    hash: { type: GraphQLString, description: "Block hash (Solana: blockhash); null when its header was pruned (older than the header window and not pinned)." },
    time: { type: GraphQLString, description: "The block's own timestamp, RFC 3339 UTC; null when its header is no longer stored.", resolve: (b) => toRfc3339(b.time) },
    finalized: { type: new GraphQLNonNull(GraphQLBoolean), description: "True once the block has the chain's finality (Bitcoin: N confirmations; Solana: finalized; EVM: the finalized tag)." },
  },
});

export const PageInfoType = new GraphQLObjectType<{ endCursor: string | null; hasNextPage: boolean }, GraphqlContext>({
  name: "PageInfo",
  description: "Keyset pagination: pass `endCursor` as `after` for the next page. Cursors are opaque.",
  fields: {
    endCursor: { type: GraphQLString },
    hasNextPage: { type: new GraphQLNonNull(GraphQLBoolean) },
  },
});

/** A connection type `<Name>Connection { nodes: [T!]!, pageInfo }`. */
export function createConnectionType(name: string, node: GraphQLOutputType, description: string) {
  return new GraphQLObjectType<{ nodes: unknown[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } }, GraphqlContext>({
    name: `${name}Connection`,
    description,
    fields: {
      nodes: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(node))) },
      pageInfo: { type: new GraphQLNonNull(PageInfoType) },
    },
  });
}

/** The `first` argument of every paginated field (the armour refuses values outside 1..1000 before execution). */
export const firstArgument = (dflt: number) => ({ type: GraphQLInt, defaultValue: dflt, description: "Page size, 1..1000 (refused outside, never capped)." });
export const afterArgument = { type: GraphQLString, description: "The previous page's `pageInfo.endCursor`." };

/** Encodes a keyset position as an opaque cursor. */
export function encodeCursor(kind: string, parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...parts]), "utf8").toString("base64url");
}

/** Decodes a cursor made by encodeCursor for `kind` with the given part types. @throws InvalidArgumentError */
export function decodeCursor(kind: string, cursor: string, types: readonly ("string" | "int")[]): (string | number)[] {
  let parts: unknown;
  try {
    if (cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error("shape");
    parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidArgumentError({ argument: "after", problem: "not a cursor of this list" });
  }
  if (!Array.isArray(parts) || parts[0] !== kind || parts.length !== types.length + 1) throw new InvalidArgumentError({ argument: "after", problem: "not a cursor of this list" });
  return types.map((t, i) => {
    const v = parts[i + 1];
    if (t === "int" ? !Number.isSafeInteger(v) || (v as number) < 0 : typeof v !== "string") throw new InvalidArgumentError({ argument: "after", problem: "not a cursor of this list" });
    return v as string | number;
  });
}
