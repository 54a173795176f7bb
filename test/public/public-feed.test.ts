import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/logger.js";
import { startServeServer, type ServeServer } from "../../src/serve/create-serve-server.js";
import { runCli } from "../serve/serve-helpers.js";
import { dropSchema, TEST_DATABASE_URL } from "../helpers/stores.js";
import { createPublicFixture, type PublicFixture } from "./public-fixture.js";

// Issue 13, over HTTP: the feed serves the signed documents byte for byte as `checkpoint show`
// prints them, with immutable caching keyed by the digest; summaries page; the JWKS and status are
// aggregates; nothing public names an account or a wallet address; only GET/HEAD; a bounded rate.

const logger = createLogger({ level: process.env.TEST_LOG ?? "silent" });
const PUBLIC_GETS = ["/", "/public/page.css", "/public/v1/checkpoints/latest.json", "/public/v1/checkpoints", "/public/v1/status.json", "/.well-known/backstop-keys.json"];

describe("public feed over HTTP", () => {
  let fx: PublicFixture;
  let server: ServeServer;
  let url = "";

  beforeAll(async () => {
    fx = await createPublicFixture({ checkpoints: [{ coverageBps: 11_000n }, { coverageBps: 10_500n }, { coverageBps: 12_345n }, { coverageBps: 10_100n }] });
    server = await startServeServer({ store: fx.store, config: fx.config, logger }, { port: 0, host: "127.0.0.1" });
    url = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await fx?.close();
  });

  it("serves each checkpoint byte for byte as `checkpoint show --json` prints it, immutable, with the digest as ETag", async () => {
    for (const [i, file] of fx.files.entries()) {
      const res = await fetch(`${url}/public/v1/checkpoints/${i + 1}.json`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(file);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("etag")).toBe(`"${fx.signed[i]!.digest}"`);
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    }
    const latest = await fetch(`${url}/public/v1/checkpoints/latest.json`);
    expect(await latest.text()).toBe(fx.files[fx.files.length - 1]);
    expect(latest.headers.get("etag")).toBe(`"${fx.signed[fx.signed.length - 1]!.digest}"`);
    // The CLI reads the same store: byte-identical.
    const shown = await runCli(["--config", fx.configPath, "checkpoint", "show", "4", "--json"]);
    expect(shown).toBe(fx.files[3]);
    const first = await runCli(["--config", fx.configPath, "checkpoint", "show", "1", "--json"]);
    expect(await (await fetch(`${url}/public/v1/checkpoints/1.json`)).text()).toBe(first);
    // Revalidation by digest: 304 without a body.
    const again = await fetch(`${url}/public/v1/checkpoints/2.json`, { headers: { "if-none-match": `"${fx.signed[1]!.digest}"` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    for (const inm of [`"x", W/"${fx.signed[1]!.digest}"`, "*"]) expect((await fetch(`${url}/public/v1/checkpoints/2.json`, { headers: { "if-none-match": inm } })).status, inm).toBe(304);
    expect((await fetch(`${url}/public/v1/checkpoints/2.json`, { headers: { "if-none-match": `"${fx.signed[0]!.digest}"` } })).status).toBe(200);
    for (const bad of ["0.json", "5.json", "01.json", "1", "1.json.bak", "latest", "..%2f1.json", "1.json/x"]) {
      expect((await fetch(`${url}/public/v1/checkpoints/${bad}`)).status, bad).toBe(404);
    }
  }, 120_000);

  it("pages the history newest first with before/limit, and refuses malformed parameters", async () => {
    const all = (await (await fetch(`${url}/public/v1/checkpoints`)).json()) as { checkpoints: Array<Record<string, unknown>>; next: string | null };
    expect(all.checkpoints.map((c) => c.seq)).toEqual([4, 3, 2, 1]);
    expect(all.next).toBeNull();
    const top = all.checkpoints[1]!;
    expect(top).toMatchObject({ seq: 3, digest: fx.signed[2]!.digest, previousDigest: fx.signed[1]!.digest, status: "covered", url: "/public/v1/checkpoints/3.json" });
    expect(top.assets).toEqual([{ asset: "BTC", decimals: 8, reserves: fx.signed[2]!.document.assets[0]!.reserves, liabilities: fx.signed[2]!.document.assets[0]!.liabilities, surplus: fx.signed[2]!.document.assets[0]!.surplus, coverageBps: fx.signed[2]!.document.assets[0]!.coverageBps, status: "covered" }]);
    expect(top.assets).toMatchObject([{ coverageBps: expect.stringMatching(/^1234[45]$/) }]);
    const page1 = (await (await fetch(`${url}/public/v1/checkpoints?limit=2`)).json()) as { checkpoints: Array<{ seq: number }>; next: string | null };
    expect(page1.checkpoints.map((c) => c.seq)).toEqual([4, 3]);
    expect(page1.next).toBe("/public/v1/checkpoints?before=3&limit=2");
    const page2 = (await (await fetch(`${url}${page1.next}`)).json()) as { checkpoints: Array<{ seq: number }>; next: string | null };
    expect(page2.checkpoints.map((c) => c.seq)).toEqual([2, 1]);
    expect(page2.next).toBeNull();
    for (const q of ["limit=0", "limit=101", "limit=-1", "before=x", "before=1.5", "limit=1e3", "other=1"]) {
      const res = await fetch(`${url}/public/v1/checkpoints?${q}`);
      expect(res.status, q).toBe(400);
    }
  });

  it("publishes the JWKS with validity windows, and status: live coverage labelled unsigned, finalized heads with their age, feed currency", async () => {
    const jwks = (await (await fetch(`${url}/.well-known/backstop-keys.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toEqual([{ kty: "OKP", crv: "Ed25519", x: fx.key.jwk.x, kid: fx.key.jwk.kid, alg: "EdDSA", use: "sig", nbf: 1577836800 }]);
    const status = (await (await fetch(`${url}/public/v1/status.json`)).json()) as any;
    expect(status.live.label).toBe("live, unsigned: not a checkpoint");
    expect(status.chains).toEqual([{ chain: "btc", caip2: expect.stringMatching(/^bip122:[0-9a-f]{32}$/), finalizedHeight: 54, finalizedTime: 1_700_000_054, ageSeconds: expect.any(Number) }]);
    expect(status.chains[0].ageSeconds).toBeGreaterThan(0);
    expect(status.feed).toMatchObject({ latestSeq: 4, latestDigest: fx.signed[3]!.digest, staleAfterSeconds: 90_000, current: true, headline: { state: "covered", label: "COVERED" } });
  });

  it("GET and HEAD only; strict headers; no cookie", async () => {
    for (const path of [...PUBLIC_GETS, "/public/v1/checkpoints/1.json", "/public/assets/src/liabilities/verify-proof.js"]) {
      const get = await fetch(`${url}${path}`);
      expect(get.status, path).toBe(200);
      expect(get.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(get.headers.get("content-security-policy"), path).toMatch(/default-src 'none'/);
      expect(get.headers.get("set-cookie"), path).toBeNull();
      const head = await fetch(`${url}${path}`, { method: "HEAD" });
      expect(head.status, path).toBe(200);
      expect(await head.text()).toBe("");
      for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
        const res = await fetch(`${url}${path}`, { method, body: method === "OPTIONS" ? undefined : "{}", headers: { "content-type": "application/json" } });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get("allow")).toBe("GET");
      }
    }
    const page = await fetch(url);
    expect(page.headers.get("content-security-policy")).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });

  it("no public response names an account id or a custody address, or serves balance history", async () => {
    const bodies: string[] = [];
    const paths = [...PUBLIC_GETS, ...fx.files.map((_, i) => `/public/v1/checkpoints/${i + 1}.json`)];
    const html = await (await fetch(url)).text();
    for (const m of html.matchAll(/(?:src|href)="(\/[^"]*)"/g)) paths.push(m[1]!);
    for (const path of paths) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(200);
      bodies.push(await res.text());
    }
    const all = bodies.join("\n");
    for (const id of fx.accountIds) expect(all.includes(id), id).toBe(false);
    for (const a of fx.addresses) expect(all.includes(a), a).toBe(false);
    expect(all).not.toMatch(/balanceHistory|balance_after|"wallet":/);
    // The internal API (wallets, balance history) stays behind a key.
    const gql = await fetch(`${url}/graphql?query=${encodeURIComponent("{ wallets { nodes { address } } }")}`);
    expect(gql.status).toBe(401);
  });

  it("a checkpoint appended while the server runs is served within the feed's refresh (about a second)", async () => {
    const before = await (await fetch(`${url}/public/v1/checkpoints/latest.json`)).text();
    expect(before).toBe(fx.files[3]);
    const added = await fx.append({ coverageBps: 10_777n });
    await expect.poll(async () => (await fetch(`${url}/public/v1/checkpoints/latest.json`)).headers.get("etag"), { timeout: 5000, interval: 200 }).toBe(`"${added.digest}"`);
    expect(await (await fetch(`${url}/public/v1/checkpoints/5.json`)).text()).toBe(fx.files[4]);
    const list = (await (await fetch(`${url}/public/v1/checkpoints?limit=1`)).json()) as { checkpoints: Array<{ seq: number; previousDigest: string }> };
    expect(list.checkpoints).toMatchObject([{ seq: 5, previousDigest: fx.signed[3]!.digest }]);
  });
});

describe("public feed: rate limit per client address, and serve --public alone", () => {
  let fx: PublicFixture;
  let server: ServeServer;

  beforeAll(async () => {
    fx = await createPublicFixture({ checkpoints: [{ coverageBps: 10_000n }], publicSection: { rateLimitPerSecond: 0.01, rateLimitBurst: 3 } });
    server = await startServeServer({ store: fx.store, config: fx.config, logger }, { port: 0, host: "127.0.0.1", publicOnly: true });
  });
  afterAll(async () => {
    await server?.close();
    await fx?.close();
  });

  it("answers 429 with Retry-After past the burst; --public serves no /graphql and no /metrics", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await fetch(`${server.url}/public/v1/checkpoints/latest.json`)).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await fetch(`${server.url}/public/v1/status.json`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/graphql`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe("public feed on Postgres", () => {
  const pgSchema = `t_public_${process.pid}_${Date.now() % 1e6}`;
  let fx: PublicFixture;
  let server: ServeServer;

  beforeAll(async () => {
    fx = await createPublicFixture({ checkpoints: [{ coverageBps: 10_300n }, { coverageBps: 9_800n }], postgres: { databaseUrl: TEST_DATABASE_URL, pgSchema } });
    server = await startServeServer({ store: fx.store, config: fx.config, logger }, { port: 0, host: "127.0.0.1", publicOnly: true });
  });
  afterAll(async () => {
    await server?.close();
    await fx?.close();
    await dropSchema(pgSchema);
  });

  it("serves the same bytes, summaries and status from Postgres as `checkpoint show` prints", async () => {
    for (const [i, file] of fx.files.entries()) expect(await (await fetch(`${server.url}/public/v1/checkpoints/${i + 1}.json`)).text()).toBe(file);
    const shown = await runCli(["--config", fx.configPath, "checkpoint", "show", "2", "--json"], { DATABASE_URL: TEST_DATABASE_URL, BACKSTOP_PG_SCHEMA: pgSchema });
    expect(await (await fetch(`${server.url}/public/v1/checkpoints/latest.json`)).text()).toBe(shown);
    const list = (await (await fetch(`${server.url}/public/v1/checkpoints`)).json()) as { checkpoints: Array<{ seq: number; status: string }> };
    expect(list.checkpoints.map((c) => [c.seq, c.status])).toEqual([[2, "breach"], [1, "covered"]]);
    const status = (await (await fetch(`${server.url}/public/v1/status.json`)).json()) as any;
    expect(status.chains[0]).toMatchObject({ chain: "btc", finalizedHeight: 54, finalizedTime: 1_700_000_054 });
    expect(status.feed.headline).toMatchObject({ state: "under_review", label: "UNDER REVIEW" });
  }, 120_000);
});
