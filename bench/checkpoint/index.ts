// Checkpoint creation at scale (issue 10's benchmark): W custody wallets across three chains (Bitcoin,
// EVM, Solana), R balance-change rows, one snapshot; prints per-phase milliseconds of createCheckpoint
// (anchors, reserves, window minimum, document, signature, save) on SQLite and on Postgres.
//
//   npm run bench:checkpoint                          # 100,000 wallets, 2,000,000 rows (the default, see below)
//   BENCH_ROWS=10000000 npm run bench:checkpoint      # the issue's 10M rows
//   BENCH_STORES=sqlite npm run bench:checkpoint
//
// Rows are generated inside the database (recursive CTE / generate_series), not through the indexers:
// this measures checkpoint creation, not indexing. The snapshot is small (its size does not enter
// checkpoint creation: a checkpoint reads the snapshot's root totals, never its accounts). The EVM full
// read at the anchor is a node call and is not part of this figure (no node here).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { resolveConfig, resolveSnapshotAssets } from "../../src/lib/config.js";
import { createCheckpoint } from "../../src/reconcile/create-checkpoint.js";
import { createSigningKey } from "../../src/reconcile/signing-key.js";
import { openStore, type Store } from "../../src/store/index.js";

const WALLETS = Number(process.env.BENCH_WALLETS ?? 100_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000);
const HEIGHTS = 1000;
const STORES = (process.env.BENCH_STORES ?? "sqlite,postgres").split(",");
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const T0 = 1_700_000_000;
const CHAINS = [
  { key: "btc", chain: "bitcoin-regtest", asset: "BTC_btc", backs: "BTC", decimals: 8 },
  { key: "eth", chain: "anvil", asset: "ETH_eth", backs: "ETH", decimals: 18 },
  { key: "sol", chain: "solana-local", asset: "SOL_sol", backs: "SOL", decimals: 9 },
] as const;

const key = createSigningKey();

async function seed(store: Store): Promise<void> {
  const perChain = Math.ceil(WALLETS / CHAINS.length);
  const rowsPerWallet = Math.max(1, Math.floor(ROWS / WALLETS));
  const pg = store.dialect === "postgres";
  const series = (n: number) => (pg ? `generate_series(0, ${n - 1}) AS s(i)` : `(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1}) SELECT i FROM s) s`);
  const text = (e: string) => (pg ? `(${e})::text` : `CAST(${e} AS TEXT)`);
  const num = (e: string) => (pg ? `(${e})::numeric` : text(e));
  // SQLite: one transaction on its one connection (fast bulk load). Postgres: autocommit (raw uses a pool).
  if (!pg) await store.raw("BEGIN");
  try {
    for (const [ci, c] of CHAINS.entries()) {
      const base = ci * perChain;
      await store.raw(`INSERT INTO wallets (id, chain, label, kind, address) SELECT ${base} + i + 1, '${c.key}', '${c.key}-w' || ${text("i")}, 'address', '${c.key}-addr-' || ${text("i")} FROM ${series(perChain)}`);
      await store.raw(`INSERT INTO wallet_states (wallet_id, chain, state, source, updated_at_ms) SELECT ${base} + i + 1, '${c.key}', 'active', 'indexed', 0 FROM ${series(perChain)}`);
      await store.raw(`INSERT INTO block_headers (chain, height, hash, parent_hash, time) SELECT '${c.key}', i, '${c.key}-h' || ${text("i")}, '${c.key}-h' || ${text("i - 1")}, ${T0} + 60 * i FROM ${series(HEIGHTS)}`);
      await store.raw(`INSERT INTO chain_cursors (chain, height, hash, finalized_height, updated_at) VALUES ('${c.key}', ${HEIGHTS - 1}, '${c.key}-h${HEIGHTS - 1}', ${HEIGHTS - 10}, 'bench')`);
      // Each wallet changes every HEIGHTS / rowsPerWallet blocks, by +1000 + wallet index; balance_after is the running sum.
      const step = Math.max(1, Math.floor(HEIGHTS / rowsPerWallet));
      await store.raw(
        `INSERT INTO balance_changes (chain, wallet_id, asset, height, block_hash, txid, delta, balance_after)
         SELECT '${c.key}', ${base} + (i % ${perChain}) + 1, '${c.asset}', (i / ${perChain}) * ${step}, '${c.key}-h' || ${text(`(i / ${perChain}) * ${step}`)}, NULL,
           ${num(`1000 + (i % ${perChain})`)}, ${num(`(1000 + (i % ${perChain})) * (i / ${perChain} + 1)`)}
         FROM ${series(perChain * rowsPerWallet)}`,
      );
    }
    if (!pg) await store.raw("COMMIT");
  } catch (err) {
    if (!pg) await store.raw("ROLLBACK").catch(() => undefined);
    throw err;
  }
  await store.raw("ANALYZE");
}

async function run(kind: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "backstop-bench-cp-"));
  const pgSchema = `bench_cp_${process.pid}`;
  const store = kind === "postgres" ? await openStore({ databaseUrl: DATABASE_URL, pgSchema }) : await openStore({ sqlitePath: join(dir, "backstop.db") });
  try {
    const config = resolveConfig({
      path: "(bench)",
      env: { CP_KEY: key.text },
      input: {
        chains: Object.fromEntries(CHAINS.map((c) => [c.key, { chain: c.chain, rpc: ["http://127.0.0.1:9"] }])),
        assets: Object.fromEntries(CHAINS.map((c) => [c.asset, { chain: c.key, native: true, decimals: c.decimals, backs: c.backs }])),
        liabilityAssets: Object.fromEntries(CHAINS.map((c) => [c.backs, { decimals: c.decimals }])),
        checkpoints: { signingKey: { env: "CP_KEY" }, keys: [{ x: key.jwk.x, notBefore: "2020-01-01T00:00:00Z" }] },
        wallets: [],
      },
    });
    let t = performance.now();
    await seed(store);
    const seedMs = performance.now() - t;
    const file = join(dir, "l.csv");
    writeFileSync(file, `account_id,asset,amount\n${Array.from({ length: 1000 }, (_, i) => `u${i},BTC,1\nu${i},ETH,2\nu${i},SOL,3`).join("\n")}\n`);
    await importSnapshot({ store, logger: pino({ level: "silent" }), now: () => new Date((T0 + 100_000) * 1000) }, {
      source: file, format: "csv", asOf: new Date((T0 + 60 * 500 + 30) * 1000).toISOString(), assets: resolveSnapshotAssets(config),
    });
    const timings: Record<string, number> = {};
    t = performance.now();
    const r = await createCheckpoint({ store, config, timings }, { wait: false });
    const total = performance.now() - t;
    const [{ n }] = (await store.raw("SELECT count(*) AS n FROM balance_changes")) as [{ n: unknown }];
    const f = (ms: number | undefined) => `${(ms ?? 0).toFixed(1)} ms`;
    console.log(
      `${kind.padEnd(8)} wallets ${WALLETS}, balance rows ${Number(n)}, seed ${(seedMs / 1000).toFixed(1)} s | checkpoint ${r.stored.seq} (${r.stored.status}) total ${f(total)}: ` +
        `anchors ${f(timings.anchors)}, reserves ${f(timings.reserves)}, window minimum ${f(timings.window)}, document ${f(timings.document)}, signature ${f(timings.signature)}, save ${f(timings.save)}`,
    );
  } finally {
    await store.close();
    if (kind === "postgres") {
      const pgm = await import("pg");
      const c = new pgm.default.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
      await c.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of STORES) await run(kind);
