// Write cost of latest_balances' triggers (migration 12): the same balance_changes rows inserted with the
// insert trigger and, in the same run, with it off (the baseline), on Postgres and SQLite: one bulk INSERT of
// 200,000 rows (a backfill) and 200 INSERTs of 20 rows (blocks).
//
//   npm run bench:latest-balances
//   BENCH_STORES=sqlite npm run bench:latest-balances
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openStore } from "../../src/store/index.js";

const STORES = (process.env.BENCH_STORES ?? "postgres,sqlite").split(",");
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

for (const kind of STORES) {
  const dir = mkdtempSync(join(tmpdir(), "backstop-bench-lb-"));
  const pgSchema = `bench_lb_${process.pid}`;
  const isPg = kind === "postgres";
  const store = isPg ? await openStore({ databaseUrl: DATABASE_URL, pgSchema }) : await openStore({ sqlitePath: join(dir, "b.db") });
  try {
    const series = (n: number) => (isPg ? `generate_series(0, ${n - 1}) AS s(i)` : `(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1}) SELECT i FROM s) s`);
    const num = (e: string) => (isPg ? `(${e})::numeric` : `CAST(${e} AS TEXT)`);
    await store.raw(`INSERT INTO wallets (id, chain, label, kind, address) SELECT i + 1, 'c', 'w' || i, 'address', 'a' || i FROM ${series(10_000)}`);
    const insert = (from: number, n: number) =>
      store.raw(`INSERT INTO balance_changes (chain, wallet_id, asset, height, block_hash, txid, delta, balance_after)
        SELECT 'c', (i % 10000) + 1, 'X', ${from} + i / 10000, 'h', NULL, ${num("1")}, ${num("i / 10000 + 1")} FROM ${series(n)}`);
    const time = async (f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const blocks = (from: number) => time(async () => {
      for (let b = 0; b < 200; b++) await insert(from + b * 10, 20);
    });
    const bulkWith = await time(() => insert(0, 200_000));
    const smallWith = await blocks(100);
    if (isPg) await store.raw("ALTER TABLE balance_changes DISABLE TRIGGER latest_balances_insert");
    else await store.raw("DROP TRIGGER latest_balances_insert");
    const bulkWithout = await time(() => insert(10_000, 200_000));
    const smallWithout = await blocks(20_000);
    console.log(
      `${kind.padEnd(8)} 200,000 rows in one INSERT: with the trigger ${bulkWith.toFixed(0)} ms, without ${bulkWithout.toFixed(0)} ms | ` +
        `200 INSERTs of 20 rows: with ${smallWith.toFixed(0)} ms, without ${smallWithout.toFixed(0)} ms`,
    );
  } finally {
    await store.close();
    if (isPg) {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
      await c.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
