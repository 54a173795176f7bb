// TESTING.md 2G against the real server over real HTTP: every abusive request is refused as issue 12
// item 4 says (status, generic message) and before any resolver runs (the store is never read);
// keys: missing, malformed, unknown, revoked, expired, in the query string, wrong scope, brute force;
// the log never holds a key, only its prefix.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { startServeServer, type ServeServer } from "../../src/serve/create-serve-server.js";
import { saveBlock, saveWallets, syncWalletStates, type Store } from "../../src/store/index.js";
import { openTestStore } from "../helpers/stores.js";
import { createTestKeys, gql, runCli } from "./serve-helpers.js";

const ADDRESS = "11111111111111111111111111111112";

describe("GraphQL armour and access (TESTING.md 2G)", () => {
  let dir: string;
  let test: Awaited<ReturnType<typeof openTestStore>>;
  let reads = 0;
  let counting: Store;
  let config: ResolvedConfig;
  let server: ServeServer;
  let dev: ServeServer;
  let logFile: string;
  let logFd: number;
  const { keys, config: apiKeys } = createTestKeys();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "backstop-armor-"));
    test = await openTestStore("sqlite");
    // A small real store: one wallet with a few blocks of history.
    const [w] = await saveWallets(test.store, [{ chain: "sol", label: "hot", kind: "address", address: ADDRESS }]);
    // As the follower does before its first block: a wallet of a chain not indexed yet is active from the start.
    await syncWalletStates(test.store, { chain: "sol", cursorHeight: null, configured: [{ walletId: w!.id, birthday: null }], pendingReason: () => "" });
    let parent = "genesis";
    for (let h = 1; h <= 5; h++) {
      const hash = `block-${h}`;
      await saveBlock(test.store, { block: { chain: "sol", height: h, hash, parentHash: parent, time: 1_700_000_000 + h }, changes: [{ walletId: w!.id, asset: "SOL", txid: `tx-${h}`, delta: 10n ** 18n }], finalizedHeight: h - 1 });
      parent = hash;
    }
    // Counts every read the API makes: a refused request must leave it unchanged.
    counting = { ...test.store, read: (fn, opts) => ((reads += 1), test.store.read(fn, opts)) };
    config = resolveConfig({
      input: {
        serve: { apiKeys, rateLimitPerSecond: 1000, rateLimitBurst: 100_000 },
        chains: { sol: { chain: "solana-local", rpc: ["http://127.0.0.1:1"] } },
        assets: { SOL: { chain: "sol", decimals: 9, native: true } },
        wallets: [{ label: "hot", chain: "sol", address: ADDRESS }],
      },
      path: "armor.config",
      env: {},
    });
    logFile = join(dir, "serve.log");
    logFd = openSync(logFile, "a");
    const logger = createLogger({ level: "info", format: "json", fd: logFd });
    server = await startServeServer({ store: counting, config, logger }, { port: 0 });
    dev = await startServeServer({ store: counting, config: { ...config, serve: { ...config.serve, rateLimitBurst: 1000 } }, logger }, { port: 0, dev: true });
  });

  afterAll(async () => {
    await server?.close();
    await dev?.close();
    closeSync(logFd);
    await test?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends a request and checks it was refused with `status` before any store read. */
  async function refused<R extends { status: number; text: string }>(status: number, send: () => Promise<R>, message = "Query validation error."): Promise<R> {
    const before = reads;
    const r = await send();
    expect(r.status, r.text).toBe(status);
    expect(JSON.parse(r.text).errors[0].message).toBe(message);
    expect(r.text).not.toMatch(/Did you mean|__schema|Cannot query/);
    expect(reads, "no resolver ran").toBe(before);
    return r;
  }
  const key = () => keys.reader.key;
  /** The last refusal the server logged (reason, detail). */
  const lastRefusal = (): { reason: string; detail: string } => {
    const lines = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.msg === "request refused");
    return lines.at(-1);
  };

  it("an ordinary query works (and reads the store once)", async () => {
    const before = reads;
    const r = await gql(server.url, key(), `{ balances(chain: "sol", finalized: false) { nodes { amount { value display } block { height finalized } } } }`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.data.balances.nodes).toEqual([{ amount: { value: "5000000000000000000", display: "5000000000" }, block: { height: 5, finalized: false } }]);
    expect(reads).toBe(before + 1);
  });

  it("G1: depth over 8 (plain, through fragments, through inline fragments), recursive fragments, a fragment named __schema, fragment reuse", async () => {
    const nest = (n: number, inline = false) => {
      let q = "leaf";
      for (let i = n - 1; i >= 1; i--) q = inline ? `f${i} { ... on T${i} { ${q} } }` : `f${i} { ${q} }`;
      return `{ ${q} }`;
    };
    expect((await gql(server.url, key(), `{ wallets(chain: "sol", first: 10) { nodes { addresses(first: 10) { nodes { address } } } } }`)).status).toBe(200); // depth 5
    await refused(400, () => gql(server.url, key(), nest(9)));
    expect(lastRefusal().reason).toBe("depth");
    expect((await gql(server.url, key(), nest(8))).status).toBe(400); // depth 8 passes the depth rule, then fails validation (unknown fields)
    expect(lastRefusal().reason).toBe("invalid");
    await refused(400, () => gql(server.url, key(), nest(9, true)));
    expect(lastRefusal().reason).toBe("depth");
    const viaFragments = `{ ...L1 } ${Array.from({ length: 9 }, (_, i) => `fragment L${i + 1} on Query { f${i} { ${i < 8 ? `...L${i + 2}` : "leaf"} } }`).join(" ")}`;
    await refused(400, () => gql(server.url, key(), viaFragments));
    expect(lastRefusal().reason).toBe("depth");
    await refused(400, () => gql(server.url, key(), `{ ...A } fragment A on Query { chains { key } ...B } fragment B on Query { ...A }`));
    await refused(400, () => gql(server.url, key(), `{ ...__schema } fragment __schema on Query { __schema { types { name } } }`));
    // Fragment reuse: each fragment spreads the next twice, 2^20 expansions from ~150 tokens.
    const reuse = `{ ...R0 } ${Array.from({ length: 20 }, (_, i) => `fragment R${i} on Query { ...R${i + 1} ...R${i + 1} }`).join(" ")} fragment R20 on Query { chains { key } }`;
    const t0 = performance.now();
    await refused(400, () => gql(server.url, key(), reuse));
    expect(lastRefusal().reason).toBe("cost");
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("G2: 31 and 100 aliases, a batched array, 51 and 1,000 directives, 2,001 tokens, a 20,000-character query", async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: chain(key: "sol") { key }`).join(" ")} }`;
    expect((await gql(server.url, key(), aliases(30))).status).toBe(200);
    await refused(400, () => gql(server.url, key(), aliases(31)));
    await refused(400, () => gql(server.url, key(), aliases(100)));
    await refused(400, () => post(server.url, key(), JSON.stringify(Array.from({ length: 100 }, () => ({ query: "{ chains { key } }" })))));
    const directives = (n: number) => `{ chains { key ${Array.from({ length: n }, () => "@include(if: true)").join(" ")} } }`;
    await refused(400, () => gql(server.url, key(), directives(51)));
    await refused(400, () => gql(server.url, key(), directives(1000)));
    const copies = (n: number) => `{ ${Array.from({ length: n }, () => "chains { key }").join(" ")} }`; // 4 tokens a copy
    expect((await gql(server.url, key(), copies(300))).status, JSON.stringify(lastRefusal())).toBe(200); // 1,202 tokens
    await refused(400, () => gql(server.url, key(), copies(600))); // 2,402 tokens
    expect(lastRefusal().reason).toBe("tokens");
    await refused(400, () => gql(server.url, key(), `{ chains { key } } #${"x".repeat(20_000)}\n{ chains { ${"key ".repeat(4000)} } }`));
  });

  it("G3: first 1000000 (literal and variable), first 0, cost over the limit, a body over 100 KB (413), deep variables JSON", async () => {
    await refused(400, () => gql(server.url, key(), `{ balanceHistory(chain: "sol", wallet: "hot", asset: "SOL", first: 1000000) { nodes { txid } } }`));
    await refused(400, () => gql(server.url, key(), `query($n: Int) { balanceHistory(chain: "sol", wallet: "hot", asset: "SOL", first: $n) { nodes { txid } } }`, { n: 1_000_000 }));
    await refused(400, () => gql(server.url, key(), `{ wallets(chain: "sol", first: 0) { nodes { label } } }`));
    expect((await gql(server.url, key(), `query($n: Int) { balanceHistory(chain: "sol", wallet: "hot", asset: "SOL", first: $n) { nodes { txid } } }`, { n: 1000 })).status).toBe(200);
    await refused(400, () => gql(server.url, key(), `{ wallets(chain: "sol", first: 1000) { nodes { label addresses(first: 1000) { nodes { address } } } } }`));
    await refused(413, () => gql(server.url, key(), `{ chains { key } }`, { pad: "x".repeat(101 * 1024) }), "Request body too large.");
    let nested = "1";
    for (let i = 0; i < 40; i++) nested = `[${nested}]`;
    await refused(400, () => post(server.url, key(), `{"query":"{ chains { key } }","variables":{"v":${nested}}}`));
  });

  it("G3: a slow resolver is cut at the per-query time limit (503)", async () => {
    const slowStore: Store = { ...test.store, read: (fn, opts) => test.store.read((q) => fn({ ...q, raw: async (sql, params) => (await new Promise((r) => setTimeout(r, 80)), q.raw(sql, params)) }), opts) };
    const slow = await startServeServer({ store: slowStore, config: { ...config, serve: { ...config.serve, queryTimeoutMs: 50, rateLimitBurst: 1000 } }, logger: createLogger({ level: "silent" }) }, { port: 0 });
    try {
      const r = await gql(slow.url, key(), `{ balances(chain: "sol") { nodes { amount { value } } } }`);
      expect(r.status, r.text).toBe(503);
      expect(r.body.errors[0].message).toBe("Query timed out.");
    } finally {
      await slow.close();
    }
  });

  it("G4: introspection and field suggestions are off, except with --dev (same store)", async () => {
    await refused(400, () => gql(server.url, key(), `{ __schema { types { name } } }`));
    await refused(400, () => gql(server.url, key(), `{ __type(name: "Wallet") { fields { name } } }`));
    await refused(400, () => gql(server.url, key(), `{ chainz { key } }`));
    // Whatever the Accept header: still 400 (graphql-http would answer 200 to application/json).
    await refused(400, () => gql(server.url, key(), `{ chainz { key } }`, undefined, { headers: { accept: "application/json" } }));
    const intro = await gql(dev.url, key(), `{ __schema { queryType { name } } }`);
    expect(intro.status).toBe(200);
    expect(intro.body.data.__schema.queryType.name).toBe("Query");
    const suggest = await gql(dev.url, key(), `{ chainz { key } }`);
    expect(suggest.status).toBe(400);
  });

  it("G5: missing, malformed, unknown, revoked and expired keys get the same 401; a key in the query string is refused", async () => {
    const q = `{ chains { key } }`;
    const bodies = new Set<string>();
    // The reader's key with its last character changed (to another one: a random key may end in "A").
    const altered = `${keys.reader.key.slice(0, -1)}${keys.reader.key.endsWith("A") ? "B" : "A"}`;
    for (const k of [undefined, "not-a-key", altered, "bsk_000000000000_" + "A".repeat(43), keys.revoked.key, keys.expired.key]) {
      const r = await refused(401, () => gql(server.url, k, q), "Unauthorized.");
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="backstop"');
      bodies.add(r.text);
    }
    expect(bodies.size).toBe(1);
    // Basic auth, or a lower-case scheme: only `Bearer`.
    await refused(401, () => gql(server.url, undefined, q, undefined, { headers: { authorization: `Basic ${Buffer.from(`x:${keys.reader.key}`).toString("base64")}` } }), "Unauthorized.");
    for (const qs of [`?api_key=${keys.reader.key}`, `?access_token=${keys.reader.key}`, `?x=${keys.reader.key}`]) {
      await refused(401, async () => {
        const res = await fetch(`${server.url}/graphql${qs}&query=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${keys.reader.key}` } });
        return { status: res.status, text: await res.text() };
      }, "Unauthorized.");
    }
  });

  it("G5: failing authentications from one client are slowed down (429 with Retry-After)", async () => {
    const limited = await startServeServer({ store: counting, config, logger: createLogger({ level: "silent" }) }, { port: 0 });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 25; i++) {
        const r = await gql(limited.url, `bsk_${"0".repeat(12)}_${"B".repeat(43)}`, `{ chains { key } }`);
        statuses.push(r.status);
        retryAfter ??= r.headers.get("retry-after");
      }
      expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });

  it("G6: a key without the scope gets 403 (a query needs read, /metrics needs metrics)", async () => {
    await refused(403, () => gql(server.url, keys.alertsOnly.key, `{ chains { key } }`), "Forbidden.");
    await refused(403, () => gql(server.url, keys.metrics.key, `{ chains { key } }`), "Forbidden.");
    const m = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.alertsOnly.key}` } });
    expect(m.status).toBe(403);
  });

  it("G7: SQL in arguments, CRLF, bad addresses and over-long strings are data, never SQL; the store is intact", async () => {
    for (const wallet of ["' OR 1=1--", "hot' --", "%", "_", "hot\r\nlevel=fatal", "0xZZZ", "bc1qinvalid", "x".repeat(300)]) {
      const r = await gql(server.url, key(), `query($w: String!) { balances(chain: "sol", wallet: $w) { nodes { amount { value } } } }`, { w: wallet });
      expect(r.status).toBe(200);
      expect(r.body.data).toBeNull();
      expect(["CLI__UNKNOWN_WALLET", "SERVE__INVALID_ARGUMENT"]).toContain(r.body.errors[0].extensions.code);
    }
    const chain = await gql(server.url, key(), `{ balances(chain: "sol; DROP TABLE wallets") { nodes { wallet } } }`);
    expect(chain.body.errors[0].extensions.code).toBe("SERVE__UNKNOWN_CHAIN");
    const cursor = await gql(server.url, key(), `{ wallets(chain: "sol", after: "eyJ4IjoxfQ") { nodes { label } } }`);
    expect(cursor.body.errors[0].extensions.code).toBe("SERVE__INVALID_ARGUMENT");
    expect((await gql(server.url, key(), `{ wallets(chain: "sol") { nodes { label } } }`)).body.data.wallets.nodes).toEqual([{ label: "hot" }]);
  });

  it("G9: mutations never over GET; POST only as application/json (no form posts)", async () => {
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent("mutation { x }")}`, { headers: { authorization: `Bearer ${key()}` } });
    expect([400, 405]).toContain(get.status);
    const getQuery = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ chains { key } }")}`, { headers: { authorization: `Bearer ${key()}` } });
    expect(getQuery.status).toBe(200);
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]) {
      const r = await fetch(`${server.url}/graphql`, { method: "POST", headers: { authorization: `Bearer ${key()}`, "content-type": type }, body: "query=%7B%20chains%20%7B%20key%20%7D%20%7D" });
      expect(r.status).toBe(415);
    }
    const put = await fetch(`${server.url}/graphql`, { method: "PUT", headers: { authorization: `Bearer ${key()}` } });
    expect(put.status).toBe(405);
  });

  it("the rate limit counts operations and aliases, not requests (429 with Retry-After)", async () => {
    const limited = await startServeServer({ store: counting, config: { ...config, serve: { ...config.serve, rateLimitBurst: 40, rateLimitPerSecond: 0.01 } }, logger: createLogger({ level: "silent" }) }, { port: 0 });
    try {
      const aliased = `{ ${Array.from({ length: 25 }, (_, i) => `a${i}: chain(key: "sol") { key }`).join(" ")} }`;
      expect((await gql(limited.url, key(), aliased)).status).toBe(200); // 26 points of 40
      const r = await refused(429, () => gql(limited.url, key(), aliased), "Too many requests."); // 26 more: over
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(100);
      expect((await gql(limited.url, key(), `{ chains { key } }`)).status).toBe(200); // 1 point still fits
      // Another key has its own bucket.
      expect((await gql(limited.url, keys.reader.key, `{ chains { key } }`)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("`keys api-create` prints a working key once with its hash; logs show only key prefixes", async () => {
    const out = JSON.parse(await runCli(["keys", "api-create", "--name", "dash", "--scopes", "read", "--json"]));
    expect(out.key).toMatch(/^bsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(out.config).toEqual({ name: "dash", hash: `sha256:${createHash("sha256").update(out.key).digest("hex")}`, scopes: ["read"] });
    const c = resolveConfig({ input: { serve: { apiKeys: [out.config] }, chains: { sol: { chain: "solana-local", rpc: ["http://127.0.0.1:1"] } }, assets: {}, wallets: [] }, path: "k", env: {} });
    const s = await startServeServer({ store: counting, config: c, logger: createLogger({ level: "silent" }) }, { port: 0 });
    try {
      expect((await gql(s.url, out.key, `{ chains { key } }`)).status).toBe(200);
    } finally {
      await s.close();
    }
    const log = readFileSync(logFile, "utf8");
    expect(log).toContain("request refused");
    for (const k of Object.values(keys)) expect(log).not.toContain(k.key);
    expect(log).toContain(keys.alertsOnly.prefix);
  });
});

/** POSTs a raw JSON body. */
async function post(url: string, key: string, body: string) {
  const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body });
  return { status: res.status, text: await res.text() };
}
