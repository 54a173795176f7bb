import { buildCaip2ChainId } from "../../lib/caip2.js";
import type { ResolvedConfig } from "../../lib/config.js";
import { buildJwks } from "../../reconcile/build-jwks.js";
import { loadLiveCoverage } from "../../store/checkpoints.js";
import { loadFinalizedHeads } from "../../store/load-finalized-heads.js";
import type { Store } from "../../store/open-store.js";
import { BadRequestError, NotFoundError, RateLimitedError } from "../http-errors.js";
import { createRateLimiter } from "../rate-limiter.js";
import type { RouteHandler, RouteRequest, RouteResponse, Router } from "../router.js";
import { buildPublicStatus, type PublicStatusJson } from "./build-public-status.js";
import { createCheckpointFeed, type CheckpointFeed, type FeedEntry } from "./create-checkpoint-feed.js";
import { ASSET_PREFIX, loadPageAssets } from "./load-page-assets.js";
import { FEED_HEADERS, IMMUTABLE, PAGE_HEADERS, SHORT_CACHE } from "./public-headers.js";
import type { PublicSettings } from "./public-settings.js";

/** Most summaries one history page returns (and its default). */
export const HISTORY_PAGE = { max: 100, default: 50 } as const;
/** The public paths (no API key): the feed, the keys, the page. */
export const PUBLIC_PATHS = {
  latest: "/public/v1/checkpoints/latest.json",
  checkpoints: "/public/v1/checkpoints",
  checkpointPrefix: "/public/v1/checkpoints/",
  status: "/public/v1/status.json",
  jwks: "/.well-known/backstop-keys.json",
} as const;

const SEQ_FILE = /^([1-9][0-9]{0,15})\.json$/;
const POSITIVE = /^[1-9][0-9]{0,15}$/;

/**
 * Mounts the public transparency feed and page on the server's router (GET and HEAD only: every
 * other method is answered 405 by the router). Aggregates only: signed checkpoints byte for byte,
 * their summaries, the JWKS, live coverage per asset and each chain's finalized head; never a wallet's
 * movements, an address's history or an account id. Every public request takes one token from its
 * client address's bucket (429 with Retry-After beyond it).
 * @throws Error when the page's modules cannot be loaded (at start-up)
 */
export function registerPublicRoutes(router: Router, ctx: { store: Store; config: ResolvedConfig }, p: { settings: PublicSettings; nowMs?: () => number }): { feed: CheckpointFeed } {
  const nowMs = p.nowMs ?? Date.now;
  const feed = createCheckpointFeed(ctx);
  const limiter = createRateLimiter({ perSecond: p.settings.rateLimitPerSecond, burst: p.settings.rateLimitBurst });
  const assets = loadPageAssets();
  const jwksBody = JSON.stringify(buildJwks(ctx.config.checkpoints.keys));
  const chains = Object.keys(ctx.config.chains);
  const caip2 = Object.fromEntries(chains.map((c) => [c, buildCaip2ChainId(ctx.config.chains[c]!.descriptor)]));
  let status: { atMs: number; body: string } | undefined;

  const limited = (handler: RouteHandler): RouteHandler => async (r) => {
    const wait = limiter.take(r.clientAddress, 1, nowMs());
    if (wait > 0) throw new RateLimitedError({ retryAfterS: wait, who: `client ${r.clientAddress} (public feed)` });
    return handler(r);
  };
  // Responses of the append-only checkpoints are built once per entry and cache policy, then reused.
  const built = new WeakMap<FeedEntry, Map<string, { ok: RouteResponse; notModified: RouteResponse; etag: string }>>();
  const checkpointResponse = (r: RouteRequest, entry: FeedEntry, cache: string): RouteResponse => {
    let byCache = built.get(entry);
    if (!byCache) built.set(entry, (byCache = new Map()));
    let b = byCache.get(cache);
    if (!b) {
      const etag = `"${entry.digest}"`;
      const headers = { ...FEED_HEADERS, "cache-control": cache, etag };
      b = { etag, ok: { status: 200, headers, body: entry.bytes }, notModified: { status: 304, headers, body: "" } };
      byCache.set(cache, b);
    }
    return matchesEtag(r.req.headers["if-none-match"], b.etag) ? b.notModified : b.ok;
  };
  const json = (value: unknown, cache: string): RouteResponse => ({ status: 200, headers: { ...FEED_HEADERS, "cache-control": cache }, body: JSON.stringify(value) });

  router.add(["GET"], PUBLIC_PATHS.latest, limited(async (r) => {
    const { latest } = await feed.current();
    if (!latest) throw new NotFoundError();
    return checkpointResponse(r, latest, SHORT_CACHE);
  }));

  router.addPrefix(["GET"], PUBLIC_PATHS.checkpointPrefix, limited(async (r) => {
    const m = SEQ_FILE.exec(r.url.pathname.slice(PUBLIC_PATHS.checkpointPrefix.length));
    if (!m) throw new NotFoundError();
    const entry = (await feed.current()).bySeq.get(Number(m[1]));
    if (!entry) throw new NotFoundError();
    return checkpointResponse(r, entry, IMMUTABLE);
  }));

  router.add(["GET"], PUBLIC_PATHS.checkpoints, limited(async (r) => {
    const q = r.url.searchParams;
    for (const k of q.keys()) if (k !== "before" && k !== "limit") throw new BadRequestError({ reason: "parameter", detail: `unknown parameter ${JSON.stringify(k.slice(0, 32))}` });
    const beforeText = q.get("before");
    const limitText = q.get("limit");
    if (beforeText !== null && !POSITIVE.test(beforeText)) throw new BadRequestError({ reason: "parameter", detail: "before must be a positive integer" });
    if (limitText !== null && (!POSITIVE.test(limitText) || Number(limitText) > HISTORY_PAGE.max)) throw new BadRequestError({ reason: "parameter", detail: `limit must be 1..${HISTORY_PAGE.max}` });
    const before = beforeText === null ? Infinity : Number(beforeText);
    const limit = limitText === null ? HISTORY_PAGE.default : Number(limitText);
    const { entries } = await feed.current();
    const page: typeof entries[number]["summary"][] = [];
    for (let i = entries.length - 1; i >= 0 && page.length < limit; i--) if (entries[i]!.seq < before) page.push(entries[i]!.summary);
    const last = page[page.length - 1];
    const more = last !== undefined && entries.length > 0 && entries[0]!.seq < last.seq;
    return json({ checkpoints: page, next: more ? `${PUBLIC_PATHS.checkpoints}?before=${last!.seq}&limit=${limit}` : null }, SHORT_CACHE);
  }));

  router.add(["GET"], PUBLIC_PATHS.jwks, limited(async () => ({ status: 200, headers: { ...FEED_HEADERS, "cache-control": "public, max-age=300" }, body: jwksBody })));

  router.add(["GET"], PUBLIC_PATHS.status, limited(async () => {
    // Computed at most once a second, shared by every reader (a cheap read, but not per request).
    const now = nowMs();
    if (!status || now - status.atMs >= 1000) {
      const { latest } = await feed.current();
      const [live, heads] = await ctx.store.read(async (q) => [await loadLiveCoverage(q), await loadFinalizedHeads(q, { chains })] as const, { timeoutMs: 2000 });
      const value: PublicStatusJson = buildPublicStatus({ nowMs: now, live, heads, caip2, latest, staleAfterSeconds: p.settings.staleAfterSeconds });
      status = { atMs: now, body: JSON.stringify(value) };
    }
    return { status: 200, headers: { ...FEED_HEADERS, "cache-control": "no-cache" }, body: status.body };
  }));

  const page = (path: string): RouteHandler => limited(async (r) => {
    const a = assets.get(path);
    if (!a) throw new NotFoundError();
    const headers = { ...PAGE_HEADERS, "content-type": a.contentType, etag: a.etag };
    return matchesEtag(r.req.headers["if-none-match"], a.etag) ? { status: 304, headers, body: "" } : { status: 200, headers, body: a.body };
  });
  router.add(["GET"], "/", page("/"));
  router.add(["GET"], "/public/page.css", page("/public/page.css"));
  router.addPrefix(["GET"], ASSET_PREFIX, async (r) => page(r.url.pathname)(r));
  return { feed };
}

/** Whether an `If-None-Match` header (a list, weak or strong, or `*`) names `etag` (RFC 9110 weak comparison). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header === etag) return true;
  return header.split(",").some((t) => {
    const v = t.trim();
    return v === "*" || v === etag || v === `W/${etag}`;
  });
}
