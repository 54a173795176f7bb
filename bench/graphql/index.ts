// GraphQL API benchmark (not a test). A SQLite store with 10M balance_changes rows over 100,000
// wallets (generated directly in the store, cached under .backstop/bench-graphql/), Backstop's
// server in this process, autocannon in another (bench/graphql/load.ts). Two queries:
// `balances(atHeight)` for a random wallet and height, and `balanceHistory(first: 100)` for a
// random wallet. Baseline in the same run: the same schema, resolvers and store served by plain
// graphql-http with graphql-js `parse` + `validate` + `execute` per request (no cache, no jit,
// no armour). Prints req/s, p50/p99 and the load average (the machine is shared: figures are noisy).
// Usage: npm run bench:graphql [-- --rows 10000000 --wallets 100000 --seconds 10 --connections 16]
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { createHandler } from "graphql-http/lib/use/http";
import { resolveConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { createApiKey } from "../../src/serve/api-keys.js";
import { startServeServer } from "../../src/serve/create-serve-server.js";
import { buildSchema } from "../../src/serve/graphql/build-schema.js";
import type { GraphqlContext } from "../../src/serve/graphql/types.js";
import { openStore } from "../../src/store/index.js";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "10000000" },
    wallets: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    regenerate: { type: "boolean", default: false },
  },
});
const ROWS = Number(args.rows);
const WALLETS = Number(args.wallets);
const PER_BLOCK = 1000;
const HEIGHTS = Math.ceil(ROWS / PER_BLOCK);
const dir = resolve(".backstop/bench-graphql");
const file = join(dir, `store-${ROWS}-${WALLETS}.db`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

// --- the store ------------------------------------------------------------------------------
if (args.regenerate) rmSync(dir, { recursive: true, force: true });
if (!existsSync(file)) {
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  (await openStore({ sqlitePath: file })).close(); // migrations
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -1000000");
  // Bulk load without the secondary indexes, then build them once (far faster than row by row).
  db.exec("DROP INDEX balance_changes_wallet; DROP INDEX balance_changes_height");
  const insWallet = db.prepare("INSERT INTO wallets (id, chain, label, kind, address) VALUES (?, 'bench', ?, 'address', ?)");
  db.transaction(() => {
    for (let i = 0; i < WALLETS; i++) insWallet.run(i + 1, `w${String(i).padStart(6, "0")}`, `addr${i}`);
  })();
  const insHeader = db.prepare("INSERT INTO block_headers (chain, height, hash, parent_hash, time) VALUES ('bench', ?, ?, ?, ?)");
  const insChange = db.prepare("INSERT INTO balance_changes (chain, wallet_id, asset, height, block_hash, txid, delta, balance_after) VALUES ('bench', ?, 'TOK', ?, ?, ?, ?, ?)");
  const balances = new Float64Array(WALLETS);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const hash = (h: number) => h.toString(16).padStart(64, "0");
  let written = 0;
  for (let h = 1; h <= HEIGHTS; h += 50) {
    db.transaction(() => {
      for (let b = h; b < h + 50 && b <= HEIGHTS; b++) {
        insHeader.run(b, hash(b), hash(b - 1), 1_700_000_000 + b * 12);
        for (let i = 0; i < PER_BLOCK && written < ROWS; i++, written++) {
          const w = Math.floor(rand() * WALLETS);
          const delta = balances[w]! > 0 && rand() < 0.4 ? -Math.floor(rand() * balances[w]!) : 1 + Math.floor(rand() * 1e6);
          balances[w] = balances[w]! + delta;
          insChange.run(w + 1, b, hash(b), `tx${b}-${i}`, String(delta), String(balances[w]));
        }
      }
    })();
  }
  db.prepare("INSERT INTO chain_cursors (chain, height, hash, finalized_height, updated_at) VALUES ('bench', ?, ?, ?, ?)").run(HEIGHTS, hash(HEIGHTS), HEIGHTS - 6, new Date().toISOString());
  db.exec("CREATE INDEX balance_changes_wallet ON balance_changes (chain, wallet_id, asset, height); CREATE INDEX balance_changes_height ON balance_changes (chain, height)");
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  process.stdout.write(`generated ${ROWS.toLocaleString()} balance_changes over ${WALLETS.toLocaleString()} wallets and ${HEIGHTS} blocks in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

// --- the servers ----------------------------------------------------------------------------
const key = createApiKey();
const config = resolveConfig({
  input: {
    store: { sqlitePath: file },
    // The benchmark measures throughput, not the per-key rate limit (it stays on, at a bound never reached).
    serve: { apiKeys: [{ name: "bench", hash: key.hash, scopes: ["read"] }], rateLimitPerSecond: 1e9, rateLimitBurst: 1e9 },
    chains: { bench: { chain: "solana-local", rpc: ["http://127.0.0.1:1"] } },
    assets: { TOK: { chain: "bench", decimals: 6, address: "So11111111111111111111111111111111111111112", tokenProgram: "spl-token" } },
    wallets: Array.from({ length: WALLETS }, (_, i) => ({ label: `w${String(i).padStart(6, "0")}`, chain: "bench", address: `addr${i}` })),
  },
  path: "(bench)",
  env: {},
});
const store = await openStore({ sqlitePath: file, migrate: false });
const logger = createLogger({ level: "warn" });
const backstop = await startServeServer({ store, config, logger }, { port: 0 });

// Baseline: plain graphql-http over graphql-js (parse + validate + execute every request), same schema and store.
const schema = buildSchema();
const plain = createHandler({
  schema,
  execute: async (a) => {
    const { execute } = await import("graphql");
    return store.read((q) => Promise.resolve(execute({ ...a, contextValue: { store, q, config, key: { name: "bench", prefix: "", scopes: new Set(["read"]) }, deadline: Number.POSITIVE_INFINITY, timeoutMs: 0 } satisfies GraphqlContext })));
  },
});
const baselineServer = createServer((req, res) => void plain(req, res));
await new Promise<void>((r) => baselineServer.listen(0, "127.0.0.1", r));
const baselineUrl = `http://127.0.0.1:${(baselineServer.address() as AddressInfo).port}`;

function runLoad(url: string, scenario: string, seconds = args.seconds!): Promise<{ reqPerSec: number; p50: number; p99: number; non2xx: number; errors: number; total: number }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/graphql/load.ts", url, key.key, scenario, String(WALLETS), String(HEIGHTS), seconds, args.connections!], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolveRun(JSON.parse(out.trim().split("\n").at(-1)!)) : reject(new Error(`load generator exited ${code}`))));
  });
}

process.stdout.write(`\nmachine: ${cpus().length} × ${cpus()[0]?.model}; load average before: ${load()}\n`);
process.stdout.write(`store: ${file} (${ROWS.toLocaleString()} rows, ${WALLETS.toLocaleString()} wallets, ${HEIGHTS} heights); ${args.connections} connections, ${args.seconds} s per run\n\n`);
const rows: string[][] = [];
for (const scenario of ["balances", "history"]) {
  for (const [name, url] of [["Backstop (graphql-http + graphql-jit, cached, armour)", backstop.url], ["baseline: plain graphql-http + graphql-js execute", baselineUrl]] as const) {
    // A short warm-up (JIT, SQLite page cache), then the measured run.
    await runLoad(url, scenario, "2").catch(() => undefined);
    // The server's CPU time per request (this process serves both): less sensitive to other jobs than req/s.
    const cpu0 = process.cpuUsage();
    const r = await runLoad(url, scenario);
    const cpu = process.cpuUsage(cpu0);
    const cpuUs = (cpu.user + cpu.system) / Math.max(1, r.total);
    rows.push([scenario === "balances" ? "balances(atHeight), random wallet" : "balanceHistory(first: 100), random wallet", name, r.reqPerSec.toFixed(0), String(r.p50), String(r.p99), cpuUs.toFixed(0), (1e6 / cpuUs).toFixed(0), String(r.non2xx + r.errors), load()]);
  }
}
const head = ["query", "server", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "req per CPU-s", "non-2xx+errors", "load avg (1 5 15)"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join("  ")}\n`);
process.stdout.write(`\ntarget: balances(atHeight) >= 5,000 req/s and p99 < 20 ms; load average after: ${load()}\n`);
await backstop.close();
baselineServer.close();
await store.close();
