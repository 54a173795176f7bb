import {
  type DocumentNode,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  specifiedRules,
  validate,
} from "graphql";
import { createHandler } from "graphql-http";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import type { ApiKeyScope, ResolvedConfig } from "../../lib/config.js";
import { isBackstopError } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import type { Store } from "../../store/index.js";
import type { ApiKeyIdentity } from "../api-keys.js";
import { ForbiddenError, HttpError, MethodNotAllowedError, QueryRejectedError, QueryTimeoutError, RateLimitedError } from "../http-errors.js";
import type { RateLimiter } from "../rate-limiter.js";
import { checkDocumentShape, checkOperationCost, computeDocumentShape, LIMITS, type DocumentShape } from "./armor.js";
import { buildSchema } from "./build-schema.js";
import type { GraphqlContext } from "./types.js";

/** Error codes whose message a client may see (their own input's problem); anything else is "Internal error.". */
const PUBLIC_CODES = new Set([
  "ALERTS__NOT_FOUND", "CLI__NOT_INDEXED", "CLI__UNKNOWN_WALLET", "STORE__NOTHING_INDEXED", "SERVE__INVALID_ARGUMENT", "SERVE__UNKNOWN_CHAIN",
]);
/** Compiled documents kept (least recently used dropped): internal tools send a few dozen distinct ones. */
const CACHE_SIZE = 1000;

type CachedDocument = {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  shape: DocumentShape;
  compiled: CompiledQuery;
  /** Scopes the operation needs: `read` for a query, each mutation field's `extensions.scope`. */
  scopes: ApiKeyScope[];
};

/** One /graphql request as the server hands it over (after authentication and the body limit). */
export type GraphqlRequest = {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string | undefined;
  key: ApiKeyIdentity;
};

/** The outcome: status, headers, body, and the operation type for the metrics. */
export type GraphqlResponse = { status: number; headers: Record<string, string>; body: string; operation: string };

export type GraphqlHandler = {
  /** @throws HttpError (rejections: 400, 403, 405, 429, 503), mapped to a response by the server */
  handle(req: GraphqlRequest): Promise<GraphqlResponse>;
  schema: GraphQLSchema;
};

/**
 * The internal GraphQL endpoint: graphql-http for the GraphQL-over-HTTP protocol, graphql-jit for
 * execution (one compiled query per document, cached), and the armour before any resolver runs:
 * tokens, depth, aliases, directives, validation (introspection off unless dev), scopes, page sizes
 * and cost with the coerced variables, the key's rate limit. Every rejection is an HttpError the
 * server maps in one place, so it is a 4xx whatever the Accept header says.
 */
export function createGraphqlHandler(ctx: { store: Store; config: ResolvedConfig; logger: Logger }, p: { dev: boolean; rateLimiter: RateLimiter; now?: () => number }): GraphqlHandler {
  const schema = buildSchema();
  const rules = p.dev ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  const cache = new Map<string, CachedDocument>();
  const timeoutMs = ctx.config.serve.queryTimeoutMs;
  const now = p.now ?? Date.now;

  const prepare = (query: string, operationName: string | undefined): CachedDocument => {
    const cacheKey = `${operationName ?? ""}\n${query}`;
    const hit = cache.get(cacheKey);
    if (hit) {
      cache.delete(cacheKey);
      cache.set(cacheKey, hit);
      return hit;
    }
    let document: DocumentNode;
    try {
      // maxTokens: the lexer stops at the limit, so an oversized document is refused for its first 2,000 tokens' work.
      document = parse(query, { maxTokens: LIMITS.maxTokens, noLocation: true });
    } catch (err) {
      const message = (err as Error).message;
      throw new QueryRejectedError({ reason: /tokens/.test(message) ? "tokens" : "invalid", detail: message.slice(0, 200) });
    }
    const operation = getOperationAST(document, operationName);
    if (!operation) throw new QueryRejectedError({ reason: "invalid", detail: "no (or an ambiguous) operation" });
    const shape = computeDocumentShape(document, operation);
    checkDocumentShape(shape);
    const errors = validate(schema, document, rules, { maxErrors: 5 });
    if (errors.length) throw new QueryRejectedError({ reason: "invalid", detail: errors.map((e) => e.message).join(" | ").slice(0, 500) });
    const compiled = compileQuery(schema, document, operationName, { disableLeafSerialization: false });
    if (!isCompiledQuery(compiled)) throw new QueryRejectedError({ reason: "invalid", detail: String(compiled.errors?.[0]?.message ?? "not compilable") });
    const entry: CachedDocument = { document, operation, shape, compiled, scopes: requiredScopes(schema, document, operation) };
    cache.set(cacheKey, entry);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return entry;
  };

  type Prepared = { entry: CachedDocument; variables: Record<string, unknown>; key: ApiKeyIdentity };

  const http = createHandler<unknown, { key: ApiKeyIdentity; method: string }, Prepared>({
    schema,
    onSubscribe: async (req, params) => {
      const { key, method } = req.context;
      const entry = prepare(params.query, params.operationName ?? undefined);
      if (entry.operation.operation !== "query" && method !== "POST") {
        throw new MethodNotAllowedError({ allow: "POST", detail: `${entry.operation.operation} over ${method}` });
      }
      for (const scope of entry.scopes) if (!key.scopes.has(scope)) throw new ForbiddenError({ scope, key: key.prefix });
      const coerced = getVariableValues(schema, entry.operation.variableDefinitions ?? [], params.variables ?? {}, { maxErrors: 5 });
      if (coerced.errors) throw new QueryRejectedError({ reason: "invalid", detail: coerced.errors.map((e) => e.message).join(" | ").slice(0, 500) });
      checkOperationCost({ schema, document: entry.document, operation: entry.operation, variables: coerced.coerced });
      // Operations and aliases, not requests: 100 aliased lookups cost what 100 requests do.
      const wait = p.rateLimiter.take(key.name, 1 + entry.shape.aliases, now());
      if (wait > 0) throw new RateLimitedError({ retryAfterS: wait, who: `API key ${key.prefix} (${key.name})` });
      const prepared: Prepared = { entry, variables: params.variables ?? {}, key };
      return { schema, document: entry.document, operationName: params.operationName, variableValues: params.variables, contextValue: prepared };
    },
    execute: async (args) => {
      const prepared = args.contextValue as Prepared;
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueryTimeoutError({ timeoutMs })), timeoutMs);
      });
      try {
        const run = async (q: Store) => {
          const gctx: GraphqlContext = { store: ctx.store, q, config: ctx.config, key: prepared.key, deadline: started + timeoutMs, timeoutMs };
          return prepared.entry.compiled.query(undefined, gctx, prepared.variables);
        };
        // A mutation writes (in its own transaction), so it cannot run inside a read snapshot.
        const result = await Promise.race([prepared.entry.operation.operation === "mutation" ? run(ctx.store) : ctx.store.read(run, { timeoutMs }), timeout]);
        const timedOut = result.errors?.find((e) => e.originalError instanceof QueryTimeoutError || (e.originalError as { code?: string } | undefined)?.code === "STORE__QUERY_TIMEOUT");
        if (timedOut) throw new QueryTimeoutError({ timeoutMs });
        return result;
      } finally {
        clearTimeout(timer);
      }
    },
    formatError: (err) => formatError(err instanceof GraphQLError ? err : new GraphQLError(err.message), { dev: p.dev, logger: ctx.logger }),
  });

  return {
    schema,
    async handle(req) {
      const [body, init] = await http({
        method: req.method,
        url: req.url,
        headers: { get: (name: string) => headerValue(req.headers[name.toLowerCase()]) },
        body: req.body ?? null,
        raw: undefined,
        context: { key: req.key, method: req.method },
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries((init.headers ?? {}) as Record<string, string>)) headers[k.toLowerCase()] = v;
      const text = body ?? "";
      if (text.length > LIMITS.maxResponseBytes) throw new QueryRejectedError({ reason: "response_size", detail: `response of ${text.length} bytes` });
      const operation = init.status === 200 ? "query_or_mutation" : "none";
      return { status: init.status, headers, body: text, operation };
    },
  };
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(", ") : v;
}

/** The scopes an operation needs: `read` for a query; for a mutation, every root field's `extensions.scope` (a field without one needs a scope no key has). */
function requiredScopes(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): ApiKeyScope[] {
  if (operation.operation === "query") return ["read"];
  const type = operation.operation === "mutation" ? schema.getMutationType() : null;
  const fields = new Set<string>();
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const collect = (set: SelectionSetNode, seen: Set<string>) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) fields.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) collect(s.selectionSet, seen);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f) collect(f.selectionSet, seen);
      }
    }
  };
  collect(operation.selectionSet, new Set());
  const scopes = new Set<ApiKeyScope>();
  for (const name of fields) {
    if (name === "__typename") continue;
    const scope = type?.getFields()[name]?.extensions?.scope as ApiKeyScope | undefined;
    scopes.add(scope ?? ("(none)" as ApiKeyScope));
  }
  return [...scopes];
}

/** A field error as the client sees it: its own input's problem with its code, anything else "Internal error." (logged). */
function formatError(err: GraphQLError, p: { dev: boolean; logger: Logger }): GraphQLError {
  const original = err.originalError;
  if (original && isBackstopError(original) && PUBLIC_CODES.has(original.code)) {
    return new GraphQLError(original.shortMessage, { path: err.path, extensions: { code: original.code } });
  }
  if (original instanceof HttpError) throw original;
  if (!original) return p.dev ? err : new GraphQLError("Query validation error.", { extensions: { code: "SERVE__QUERY_REJECTED" } });
  p.logger.error({ msg: "graphql resolver failed", path: err.path?.join("."), code: (original as { code?: unknown }).code, error: original.message });
  return new GraphQLError(p.dev ? original.message : "Internal error.", { path: err.path, extensions: { code: "SERVE__INTERNAL" } });
}
