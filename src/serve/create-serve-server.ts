import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApiKeyScope, ResolvedConfig } from "../lib/config.js";
import { isBackstopError } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { enableProcessMetrics, METRICS_REGISTRY, recordGraphqlRejection, recordGraphqlRequest } from "../lib/metrics.js";
import type { Store } from "../store/index.js";
import { createApiKeyVerifier, refuseQueryStringKey, type ApiKeyIdentity } from "./api-keys.js";
import { LIMITS, checkJsonDepth } from "./graphql/armor.js";
import { createGraphqlHandler, type GraphqlHandler } from "./graphql/create-graphql-handler.js";
import { ForbiddenError, HttpError, NotReadyError, QueryRejectedError, RateLimitedError, UnauthorizedError, UnsupportedMediaTypeError } from "./http-errors.js";
import { createRateLimiter } from "./rate-limiter.js";
import { readBody } from "./read-body.js";
import { refreshStoreMetrics } from "./refresh-store-metrics.js";
import { registerPublicRoutes } from "./public/register-public-routes.js";
import { resolvePublicSettings } from "./public/public-settings.js";
import { createMovementsRoute } from "./movements-route.js";
import { createRouter, type RouteRequest, type RouteResponse, type Router } from "./router.js";

/** Headers on every response: nothing is cached, sniffed, framed or run as a page. */
const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
};
/** Failed authentications allowed per client address: 20 at once, then 1 per 3 s (then 429). */
const AUTH_FAILURES = { perSecond: 1 / 3, burst: 20 };

export type StartServeServerParameters = {
  /** Interface to listen on (default from the config: 127.0.0.1). */
  host?: string;
  /** Port (default from the config: 8787; 0 picks a free one). */
  port?: number;
  /** Development mode: introspection and full validation messages. Same store, same keys. */
  dev?: boolean;
  /** Extra routes. */
  routes?: (router: Router) => void;
  /** Serve only the public feed and page (and health): no /graphql, no /metrics (`backstop serve --public`). */
  publicOnly?: boolean;
  /** The clock of the public feed's staleness and rate limits (tests). Default Date.now. */
  nowMs?: () => number;
};

export type ServeServer = {
  /** `http://host:port`. */
  url: string;
  port: number;
  graphql: GraphqlHandler;
  close(): Promise<void>;
};

/**
 * Starts Backstop's HTTP server on node:http: `/graphql` (internal: API key with scope `read`),
 * `/metrics` (Prometheus; scope `metrics`), `/healthz` (the process answers), `/readyz` (the store
 * answers). One router; every error is mapped to a response in one place (`respondError`), with a
 * generic message and the detail only in the log (keys by their prefix only). The store should be
 * the server's own connection (a reader: on SQLite a separate connection never sees another
 * writer's uncommitted rows).
 * @throws when the port cannot be bound
 */
export async function startServeServer(ctx: { store: Store; config: ResolvedConfig; logger: Logger }, p: StartServeServerParameters = {}): Promise<ServeServer> {
  enableProcessMetrics();
  const dev = p.dev ?? false;
  const keys = createApiKeyVerifier({ keys: ctx.config.serve.apiKeys });
  const rateLimiter = createRateLimiter({ perSecond: ctx.config.serve.rateLimitPerSecond, burst: ctx.config.serve.rateLimitBurst });
  const authFailures = createRateLimiter(AUTH_FAILURES);
  const graphql = createGraphqlHandler(ctx, { dev, rateLimiter });
  const chains = Object.keys(ctx.config.chains);

  /** The caller's identity, with the scope the route needs. @throws UnauthorizedError, RateLimitedError, ForbiddenError */
  const authenticate = (r: RouteRequest, scope?: ApiKeyScope): ApiKeyIdentity => {
    try {
      refuseQueryStringKey(r.url.searchParams);
      const key = keys.authenticate({ authorization: r.req.headers.authorization, nowMs: Date.now() });
      if (scope && !key.scopes.has(scope)) throw new ForbiddenError({ scope, key: key.prefix });
      return key;
    } catch (err) {
      if (err instanceof UnauthorizedError) {
        // Brute force: a client address that keeps failing is slowed down (still no detail).
        const wait = authFailures.take(r.clientAddress, 1, Date.now());
        if (wait > 0) throw new RateLimitedError({ retryAfterS: wait, who: `client ${r.clientAddress} (failed authentications)` });
      }
      throw err;
    }
  };

  const router = createRouter()
    .add(["GET"], "/healthz", async () => json(200, { status: "ok" }))
    .add(["GET"], "/readyz", async () => {
      try {
        await ctx.store.read((q) => q.raw("SELECT 1 AS ok"), { timeoutMs: 2000 });
      } catch (cause) {
        throw new NotReadyError({ cause });
      }
      return json(200, { status: "ready" });
    });
  // The public transparency feed and page (no key; aggregates only; its own per-address rate limit).
  registerPublicRoutes(router, ctx, { settings: resolvePublicSettings(ctx.config), nowMs: p.nowMs });
  if (!p.publicOnly) router
    .add(["GET"], "/metrics", async (r) => {
      authenticate(r, "metrics");
      await refreshStoreMetrics(ctx.store, { chains });
      return { status: 200, headers: { "content-type": METRICS_REGISTRY.contentType }, body: await METRICS_REGISTRY.metrics() };
    })
    .add(["GET", "POST"], "/graphql", async (r) => {
      const started = performance.now();
      let status = 500;
      try {
        const key = authenticate(r);
        let body: string | undefined;
        if (r.method === "POST") {
          // Mutations and queries by POST only as application/json: a form post or text/plain (CSRF) is refused.
          const type = String(r.req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
          if (type !== "application/json") throw new UnsupportedMediaTypeError({ contentType: type });
          body = await readBody(r.req, LIMITS.maxBodyBytes);
          if (/^\s*\[/.test(body)) throw new QueryRejectedError({ reason: "batch", detail: "batched operations (a JSON array) are not accepted" });
          checkJsonDepth(body);
        } else {
          checkJsonDepth(r.url.searchParams.get("variables") ?? "");
        }
        const out = await graphql.handle({ method: r.method as "GET" | "POST", url: r.url.pathname + r.url.search, headers: r.req.headers, body, key });
        status = out.status;
        return { status: out.status, headers: out.headers, body: out.body };
      } catch (err) {
        status = err instanceof HttpError ? err.status : 500;
        throw err;
      } finally {
        recordGraphqlRequest({ status, operation: status === 200 ? "executed" : "none", seconds: (performance.now() - started) / 1000 });
      }
    });
  // Writes (the platform's movement records): the only route that changes the store; a key with scope movements:write.
  router.add(["POST"], "/internal/v1/movements", createMovementsRoute(ctx, { authenticate: (r) => authenticate(r, "movements:write") }));
  p.routes?.(router);

  const server: Server = createServer((req, res) => void handleRequest(req, res));
  // Slow clients cannot hold connections open forever (slowloris).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const clientAddress = req.socket.remoteAddress ?? "?";
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://backstop.invalid");
    } catch {
      url = new URL("http://backstop.invalid/");
    }
    try {
      const handler = router.match(method, url.pathname);
      const out = await handler({ req, url, method, clientAddress });
      send(res, out);
    } catch (err) {
      send(res, respondError(err, { method, path: url.pathname, clientAddress, logger: ctx.logger }));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(p.port ?? ctx.config.serve.port, p.host ?? ctx.config.serve.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  ctx.logger.info({ msg: p.publicOnly ? "public feed server listening" : "API server listening", url: `http://${host}:${address.port}`, dev });
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    graphql,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(status: number, value: unknown): RouteResponse {
  return { status, headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify(value) };
}

function send(res: ServerResponse, out: RouteResponse): void {
  if (res.headersSent) return;
  res.writeHead(out.status, { ...SECURITY_HEADERS, ...out.headers, "content-length": Buffer.byteLength(out.body) });
  res.end(res.req.method === "HEAD" ? undefined : out.body);
}

/**
 * The one place errors become responses: an HttpError answers its status and generic message (its
 * detail, which may name a key's prefix but never a key, goes to the log); anything else is a 500
 * "Internal error." with the error logged. Body: `{ errors: [{ message, extensions: { code } }] }`.
 */
function respondError(err: unknown, p: { method: string; path: string; clientAddress: string; logger: Logger }): RouteResponse {
  if (err instanceof HttpError) {
    if (p.path === "/graphql") recordGraphqlRejection(err.reason);
    p.logger[err.status >= 500 ? "error" : "info"]({ msg: "request refused", method: p.method, path: p.path, status: err.status, code: err.code, reason: err.reason, detail: err.shortMessage, client: p.clientAddress });
    const out = json(err.status, { errors: [{ message: err.publicMessage, extensions: { code: err.code } }] });
    return { ...out, headers: { ...out.headers, ...err.headers } };
  }
  p.logger.error({ msg: "request failed", method: p.method, path: p.path, code: isBackstopError(err) ? err.code : undefined, error: err instanceof Error ? err.message : String(err) });
  return json(500, { errors: [{ message: "Internal error.", extensions: { code: "SERVE__INTERNAL" } }] });
}
