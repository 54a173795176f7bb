// The internal GraphQL API over real HTTP, against stores filled by the real LiteSVM Solana chain
// and its indexer, on SQLite and Postgres: amounts equal `backstop balances --json` (the CLI as a
// child process) and the chain's own state; history pages never skip or repeat while blocks
// arrive; /metrics parses as Prometheus text and its heights equal `backstop status --json`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Client as PgClient } from "pg";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../src/chains/create-indexer.js";
import { resolveConfig, type ConfigInput, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { startServeServer, type ServeServer } from "../../src/serve/create-serve-server.js";
import { loadBalanceHistory, openStore, saveWallets, type Store } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS, type StoreKind } from "../helpers/stores.js";
import { startSolanaDevnet, type SolanaDevnet } from "../rig/solana.js";
import { runtimeBalance, runStep, setupWorld, type World } from "../chains/solana/solana-workload.js";
import { createTestKeys, gql, runCli } from "./serve-helpers.js";

const logger = createLogger({ level: process.env.TEST_LOG ?? "silent" });

const BALANCES = `query B($chain: String!, $at: Int, $finalized: Boolean!, $first: Int, $after: String) {
  balances(chain: $chain, atHeight: $at, finalized: $finalized, first: $first, after: $after) {
    nodes { wallet address asset { id decimals } amount { value decimals display } block { height hash time finalized } lastChange { height txid } }
    pageInfo { endCursor hasNextPage }
  }
}`;
const HISTORY = `query H($wallet: String!, $asset: String!, $after: String, $first: Int) {
  balanceHistory(chain: "sol", wallet: $wallet, asset: $asset, first: $first, after: $after) {
    nodes { txid delta { value } balanceAfter { value display } block { height hash finalized } }
    pageInfo { endCursor hasNextPage }
  }
}`;

function configInput(p: { url: string; world: World; sqlitePath: string; apiKeys: unknown[] }): ConfigInput {
  return {
    store: { sqlitePath: p.sqlitePath },
    serve: { apiKeys: p.apiKeys as never, rateLimitPerSecond: 100_000, rateLimitBurst: 100_000 },
    chains: { sol: { chain: "solana-local", rpc: [p.url], pollIntervalMs: 100 } },
    assets: {
      SOL: { chain: "sol", decimals: 9, native: true },
      ...Object.fromEntries(p.world.mints.map((m, i) => [m.id, { chain: "sol", decimals: m.decimals, address: m.mint.toBase58(), tokenProgram: i === 1 ? "token-2022" : "spl-token" }])),
    },
    wallets: p.world.custody.map((k, i) => ({ label: `custody-${i}`, chain: "sol", address: k.publicKey.toBase58() })),
  };
}

describe.each(STORE_KINDS)("GraphQL API over a real Solana-indexed store (%s)", (kind: StoreKind) => {
  let net: SolanaDevnet;
  let world: World;
  let dir: string;
  let writer: { store: Store; dispose: () => Promise<void>; params: { sqlitePath?: string; databaseUrl?: string; pgSchema?: string } };
  let reader: Store;
  let config: ResolvedConfig;
  let server: ServeServer;
  let cliArgs: string[];
  let cliEnv: Record<string, string | undefined>;
  const { keys, config: apiKeys } = createTestKeys();
  const whale = 2n ** 53n + 12_345n; // lamports: above 2^53 (a float would lose it), exact end to end

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "backstop-gql-"));
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2 });
    world = setupWorld(net.chain, { custodians: 3, seed: kind === "sqlite" ? 1201 : 1202 });
    net.chain.airdrop(world.custody[0]!.publicKey, whale);
    net.chain.tick();
    writer = await openTestStore(kind);
    const sqlitePath = writer.params.sqlitePath ?? join(dir, "unused.db");
    const input = configInput({ url: net.url, world, sqlitePath, apiKeys });
    config = resolveConfig({ input, path: "gql.config.json", env: {} });
    const indexer = createIndexer({ config, chainKey: "sol", store: writer.store, logger });
    for (let step = 0; step < 6; step++) {
      runStep(net.chain, world, 6);
      await indexer.run({ once: true });
    }
    // A wallet the store knows but the config no longer lists: shown as REMOVED, never counted.
    await saveWallets(writer.store, [{ chain: "sol", label: "zz-retired", kind: "address", address: world.outsiders[0]!.publicKey.toBase58() }]);
    // The server reads through its own connection.
    reader = await openStore(writer.params);
    server = await startServeServer({ store: reader, config, logger }, { port: 0, host: "127.0.0.1" });
    const cfgFile = join(dir, "backstop.config.json");
    writeFileSync(cfgFile, JSON.stringify(input));
    cliArgs = ["--config", cfgFile];
    cliEnv = kind === "postgres" ? { DATABASE_URL: writer.params.databaseUrl, BACKSTOP_PG_SCHEMA: writer.params.pgSchema } : { DATABASE_URL: "", BACKSTOP_PG_SCHEMA: "" };
  });

  afterAll(async () => {
    await server?.close();
    await reader?.close();
    await writer?.dispose();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function allBalances(vars: { at?: number; finalized: boolean }) {
    const nodes: any[] = [];
    let after: string | undefined;
    for (;;) {
      // Pages of 4 lines: the cursor must resume inside a wallet's assets without skipping or repeating.
      const r = await gql(server.url, keys.reader.key, BALANCES, { chain: "sol", ...vars, first: 4, after });
      expect(r.status, r.text).toBe(200);
      expect(r.body.errors, r.text).toBeUndefined();
      nodes.push(...r.body.data.balances.nodes);
      if (!r.body.data.balances.pageInfo.hasNextPage) return nodes;
      after = r.body.data.balances.pageInfo.endCursor;
    }
  }

  it("balances at the finalized height, the latest and an older height equal `backstop balances --json` and the chain", async () => {
    const latest = await allBalances({ finalized: false });
    const final = await allBalances({ finalized: true });
    const tip = latest[0].block.height as number;
    // An older produced slot (skipped slots have no block, so no balance is "as of" them).
    const older = Number((await writer.store.raw("SELECT max(height) AS h FROM block_headers WHERE chain = 'sol' AND height <= ?", [tip - 5]))[0]!.h);
    const old = await allBalances({ at: older, finalized: true });
    expect(latest.length).toBe(3 * 3); // 3 configured wallets × SOL, USDC, PYUSD: the retired wallet is not counted
    for (const [nodes, at] of [[latest, tip], [old, older]] as const) {
      const cli = JSON.parse(await runCli([...cliArgs, "balances", "--chain", "sol", "--json", "--at", String(at)], cliEnv)) as Array<Record<string, any>>;
      const api = Object.fromEntries(nodes.map((n: any) => [`${n.wallet}/${n.asset.id}`, n]));
      expect(cli.length).toBe(nodes.length);
      for (const line of cli) {
        const n = api[`${line.wallet}/${line.asset}`];
        expect(n, `${line.wallet} ${line.asset}`).toBeDefined();
        expect(n.amount.value).toBe(line.amount);
        expect(n.amount.decimals).toBe(line.decimals);
        expect(n.block.height).toBe(line.height);
        expect(n.block.hash).toBe(line.blockHash);
        expect(n.block.finalized).toBe(line.finalized);
        expect(n.address).toBe(line.address);
      }
      // And the chain's own state at that slot (the runtime, not our store).
      for (const n of nodes) {
        const w = world.custody[Number(String(n.wallet).split("-")[1])]!;
        const mint = world.mints.find((m) => m.id === n.asset.id)?.mint.toBase58();
        expect(BigInt(n.amount.value), `${n.wallet} ${n.asset.id} at ${at}`).toBe(runtimeBalance(net.chain, w.publicKey.toBase58(), { mint }, at));
      }
    }
    // Default: as of the latest final height, labelled final; `finalized: false`: the latest, labelled as not final.
    expect(final.every((n: any) => n.block.finalized === true)).toBe(true);
    expect(final[0].block.height).toBeLessThanOrEqual(tip);
    // The whale's exact lamports (> 2^64) and an exact display string.
    const sol0 = latest.find((n: any) => n.wallet === "custody-0" && n.asset.id === "SOL");
    expect(BigInt(sol0.amount.value)).toBeGreaterThan(whale);
    expect(sol0.amount.display).toBe(`${sol0.amount.value.slice(0, -9)}.${sol0.amount.value.slice(-9)}`.replace(/\.?0+$/, ""));
    expect(sol0.block.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("chains, wallets (lifecycle state, addresses) and one wallet's balance by label or address", async () => {
    const r = await gql(server.url, keys.reader.key, `{
      chains { key caip2 kind finalityDepth tip lag lastError indexed { height hash } finalizedHeight assets { id decimals native } }
      wallets(chain: "sol", first: 10) { nodes { label kind state address addresses { nodes { address } } } pageInfo { hasNextPage } }
    }`);
    expect(r.status, r.text).toBe(200);
    const [chain] = r.body.data.chains;
    expect(chain).toMatchObject({ key: "sol", caip2: "solana:BFXmx1DFUqYYxCFB8UqkugRMP66nxBqs", kind: "SOLANA", lag: 0, lastError: null });
    // The follower records the node's head it last saw (Solana: the finalized slot, which it indexed up to).
    expect(chain.tip).toBe(chain.indexed.height);
    expect(chain.assets.map((a: any) => a.id).sort()).toEqual(["PYUSD", "SOL", "USDC"]);
    const wallets = r.body.data.wallets.nodes;
    expect(wallets.map((w: any) => [w.label, w.state])).toEqual([["custody-0", "ACTIVE"], ["custody-1", "ACTIVE"], ["custody-2", "ACTIVE"], ["zz-retired", "REMOVED"]]);
    expect(wallets[1].addresses.nodes).toEqual([{ address: world.custody[1]!.publicKey.toBase58() }]);
    const byAddress = await gql(server.url, keys.reader.key, `query($w: String!) { balances(chain: "sol", wallet: $w, asset: "USDC", finalized: false) { nodes { wallet amount { value } } } }`, { w: world.custody[2]!.publicKey.toBase58() });
    expect(byAddress.body.data.balances.nodes).toHaveLength(1);
    expect(byAddress.body.data.balances.nodes[0].wallet).toBe("custody-2");
    // Every balance says whether it counts, and why not.
    const counted = await gql(server.url, keys.reader.key, `{ balances(chain: "sol", asset: "SOL", finalized: false) { nodes { wallet state counted notCountedReason amount { value } } } }`);
    expect(counted.body.data.balances.nodes.map((b: any) => [b.wallet, b.state, b.counted, b.notCountedReason])).toEqual([0, 1, 2].map((i) => [`custody-${i}`, "ACTIVE", true, null]));
    const retired = await gql(server.url, keys.reader.key, `{ balances(chain: "sol", wallet: "zz-retired", finalized: false) { nodes { wallet } } }`);
    expect(retired.body.errors[0].extensions.code).toBe("CLI__UNKNOWN_WALLET");
    const tooHigh = await gql(server.url, keys.reader.key, `{ balances(chain: "sol", atHeight: 999999999) { nodes { wallet } } }`);
    expect(tooHigh.body.errors[0].extensions.code).toBe("CLI__NOT_INDEXED");
  });

  it("history pages never skip or repeat a change while new blocks are indexed, and every change adds up", async () => {
    const indexer = createIndexer({ config, chainKey: "sol", store: writer.store, logger });
    const abort = new AbortController();
    const following = indexer.run({ signal: abort.signal });
    let producing = true;
    const producer = (async () => {
      while (producing) {
        runStep(net.chain, world, 4);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const startHeight = Number((await writer.store.raw("SELECT height FROM chain_cursors WHERE chain = 'sol'"))[0]!.height);
    try {
      // Two (wallet, asset) histories, paged 2 at a time while the indexer follows new blocks.
      for (const [i, asset] of [[0, "SOL"], [1, "USDC"]] as const) {
        {
          const seen: any[] = [];
          let after: string | undefined;
          let pages = 0;
          for (;;) {
            const r = await gql(server.url, keys.reader.key, HISTORY, { wallet: `custody-${i}`, asset, after, first: 2 });
            expect(r.status, r.text).toBe(200);
            seen.push(...r.body.data.balanceHistory.nodes);
            pages++;
            if (!r.body.data.balanceHistory.pageInfo.hasNextPage) break;
            after = r.body.data.balanceHistory.pageInfo.endCursor;
            await new Promise((r) => setTimeout(r, 15));
          }
          // What the store holds now, up to the last change seen: exactly what the pages returned, in order.
          const walletId = Number((await writer.store.raw("SELECT id FROM wallets WHERE chain = ? AND label = ?", ["sol", `custody-${i}`]))[0]!.id);
          const full = await writer.store.read((q) => loadBalanceHistory(q, { chain: "sol", walletId, asset, first: 100_000 }));
          // Changes only ever append (new blocks are higher), so the pages must be exactly the store's first rows.
          const seenKeys = seen.map((c) => `${c.block.height}/${c.txid}/${c.delta.value}/${c.balanceAfter.value}`);
          expect(new Set(seenKeys).size, "no change repeated").toBe(seenKeys.length);
          expect(seenKeys).toEqual(full.changes.slice(0, seenKeys.length).map((c) => `${c.height}/${c.txid}/${c.delta}/${c.balanceAfter}`));
          let balance = 0n;
          for (const c of seen) {
            balance += BigInt(c.delta.value);
            expect(BigInt(c.balanceAfter.value)).toBe(balance);
          }
          if (seen.length > 2) expect(pages).toBeGreaterThan(1);
        }
      }
    } finally {
      producing = false;
      await producer;
      abort.abort();
      await following;
    }
    // Blocks really were written while paging.
    const endHeight = Number((await writer.store.raw("SELECT height FROM chain_cursors WHERE chain = 'sol'"))[0]!.height);
    expect(endHeight).toBeGreaterThan(startHeight);
  }, 300_000); // ~5 s on a quiet machine; headroom for a shared, loaded one

  it("/metrics parses as Prometheus text; its heights equal `backstop status --json`", async () => {
    const unauthenticated = await fetch(`${server.url}/metrics`);
    expect(unauthenticated.status).toBe(401);
    expect((await gql(server.url, undefined, `{ chains { key } }`)).status).toBe(401); // counted as a GraphQL rejection
    const readOnly = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.alertsOnly.key}` } });
    expect(readOnly.status).toBe(403);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.metrics.key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await res.text());
    const value = (name: string, labels: Record<string, string> = {}) => {
      const f = families.find((x) => x.name === name);
      const m = f?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
      return m?.value === undefined ? undefined : Number(m.value);
    };
    const [status] = JSON.parse(await runCli([...cliArgs, "status", "--json"], cliEnv)) as Array<{ indexed: number; finalized: number }>;
    expect(value("backstop_chain_indexed_height", { chain: "sol" })).toBe(status!.indexed);
    expect(value("backstop_chain_finalized_height", { chain: "sol" })).toBe(status!.finalized);
    const [cursorRow] = await writer.store.raw("SELECT h.time FROM chain_cursors c JOIN block_headers h ON h.chain = c.chain AND h.height = c.height WHERE c.chain = 'sol'");
    expect(value("backstop_chain_indexed_block_timestamp_seconds", { chain: "sol" })).toBe(Number(cursorRow!.time));
    // The indexer ran in this process: its JSON-RPC calls are counted by provider host and method.
    const host = new URL(net.url).host;
    expect(value("backstop_rpc_requests_total", { chain: "sol", provider: host, method: "getBlock" })).toBeGreaterThan(0);
    expect(families.find((f) => f.name === "backstop_rpc_request_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(families.find((f) => f.name === "backstop_store_transaction_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(value("backstop_graphql_requests_total", { status: "200" })).toBeGreaterThan(0);
    expect(value("backstop_graphql_rejections_total", { reason: "auth" })).toBeGreaterThan(0);
    expect(value("backstop_snapshots_imported")).toBe(0);
    // No label carries an address, a key or free text.
    const text = JSON.stringify(families);
    for (const k of world.custody) expect(text).not.toContain(k.publicKey.toBase58());
    expect(text).not.toContain(keys.metrics.key);
    for (const f of families) expect(f.name).toMatch(/^backstop_[a-z0-9_]+$/);
  });

  it("a reader never sees another connection's uncommitted rows", async () => {
    const q = `{ balances(chain: "sol", wallet: "custody-1", asset: "SOL", finalized: false) { nodes { amount { value } } } }`;
    const before = (await gql(server.url, keys.reader.key, q)).body.data.balances.nodes[0].amount.value;
    const insert = `INSERT INTO balance_changes (chain, wallet_id, asset, height, block_hash, txid, delta, balance_after)
      SELECT 'sol', w.id, 'SOL', c.height, c.hash, 'uncommitted', 1, 999999999999 FROM wallets w, chain_cursors c
      WHERE w.label = 'custody-1' AND c.chain = 'sol'`;
    if (kind === "sqlite") {
      // Another connection to the same file (WAL), holding an open write transaction.
      const other = new Database(writer.params.sqlitePath!);
      other.pragma("busy_timeout = 5000");
      try {
        other.exec("BEGIN IMMEDIATE");
        other.exec(insert.replace("1, 999999999999", "'1', '999999999999'"));
        expect((await gql(server.url, keys.reader.key, q)).body.data.balances.nodes[0].amount.value).toBe(before);
      } finally {
        other.exec("ROLLBACK");
        other.close();
      }
    } else {
      const other = new PgClient({ connectionString: writer.params.databaseUrl, options: `-c search_path=${writer.params.pgSchema}` });
      await other.connect();
      try {
        await other.query("BEGIN");
        await other.query(insert);
        expect((await gql(server.url, keys.reader.key, q)).body.data.balances.nodes[0].amount.value).toBe(before);
      } finally {
        await other.query("ROLLBACK");
        await other.end();
      }
    }
    expect((await gql(server.url, keys.reader.key, q)).body.data.balances.nodes[0].amount.value).toBe(before);
  });
});
