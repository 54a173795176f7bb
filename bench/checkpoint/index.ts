// Checkpoint creation at scale (issue 10's benchmark): W custody wallets across three chains (Bitcoin,
// EVM, Solana), R balance-change rows, one snapshot; prints per-phase milliseconds of createCheckpoint
// (anchors, reserves, window minimum, document, signature, save) on SQLite and on Postgres, for two snapshots:
//   - "new": a snapshot whose anchor is 20 blocks below the finalized tip, the checkpoint `start` creates
//     as soon as the chains finalize past a newly imported snapshot (the case the 1 s target is about);
//   - "old": a snapshot in the middle of the history (re-creating an old snapshot's checkpoint), where
//     every pair changed after the anchor and needs its own seek.
// Beside them, in the same run, the baseline: the previous reserves read (one index seek per
// (wallet, asset) on balance_changes, no latest_balances), timed on the same store at both anchors.
//
//   npm run bench:checkpoint                          # 100,000 wallets, 2,000,000 rows (the default, see below)
//   BENCH_ROWS=10000000 npm run bench:checkpoint      # the issue's 10M rows
//   BENCH_STORES=sqlite npm run bench:checkpoint
//
// Rows are generated inside the database (recursive CTE / generate_series), not through the indexers:
// this measures checkpoint creation, not indexing (the rows go through balance_changes' triggers, so
// latest_balances is kept as the indexers keep it). The snapshot is small (its size does not enter
// checkpoint creation: a checkpoint reads the snapshot's root totals, never its accounts). The EVM full
// read at the anchor is a node call and is not part of this figure (no node here).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { resolveConfig, resolveSnapshotAssets } from "../../src/lib/config.js";
import type { SignedCheckpoint } from "../../src/reconcile/checkpoint-document.js";
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
  if (!pg && process.env.BENCH_WAL) await store.raw("PRAGMA wal_checkpoint(TRUNCATE)");
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
        // windowBlocks 6 on every chain: the "new" anchor is 20 blocks below the finalized tip, so Solana's
        // default 150-slot window would still be open (provisional) and nothing would be signed.
        chains: Object.fromEntries(CHAINS.map((c) => [c.key, { chain: c.chain, rpc: ["http://127.0.0.1:9"], windowBlocks: 6 }])),
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
    const f = (ms: number | undefined) => `${(ms ?? 0).toFixed(1)} ms`;
    const [{ n }] = (await store.raw("SELECT count(*) AS n FROM balance_changes")) as [{ n: unknown }];
    console.log(`${kind.padEnd(8)} wallets ${WALLETS}, balance rows ${Number(n)}, seed ${(seedMs / 1000).toFixed(1)} s`);
    // Finalized tip is HEIGHTS - 10; "new" anchors 20 blocks below it, "old" in the middle.
    for (const [name, anchor] of [["old", 500], ["new", HEIGHTS - 30]] as const) {
      const snap = await importSnapshot({ store, logger: pino({ level: "silent" }), now: () => new Date((T0 + 100_000) * 1000) }, {
        source: file, format: "csv", asOf: new Date((T0 + 60 * anchor + 30) * 1000).toISOString(), assets: resolveSnapshotAssets(config),
      });
      const timings: Record<string, number> = {};
      t = performance.now();
      const r = await createCheckpoint({ store, config, timings }, { wait: false, snapshotId: snap.snapshotId });
      const total = performance.now() - t;
      t = performance.now();
      const base = await baselineReserves(store, anchor);
      const baseMs = performance.now() - t;
      console.log(
        `  ${name} snapshot (anchor ${anchor}): checkpoint ${r.stored.seq} (${r.stored.status}) total ${f(total)}: ` +
          `anchors ${f(timings.anchors)}, reserves ${f(timings.reserves)}, window minimum ${f(timings.window)}, document ${f(timings.document)}, signature ${f(timings.signature)}, save ${f(timings.save)}` +
          ` | baseline reserves read (seek per pair) ${f(baseMs)}, same totals: ${sameTotals(r.signed, base)}`,
      );
    }
  } finally {
    await store.close();
    if (kind === "postgres" && !process.env.BENCH_KEEP) {
      const pgm = await import("pg");
      const c = new pgm.default.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
      await c.end();
    }
    if (process.env.BENCH_KEEP) console.log("kept", dir); else rmSync(dir, { recursive: true, force: true });
  }
}

/** The previous design's reserves read: one index seek per (wallet, asset) on balance_changes, summed per chain. */
async function baselineReserves(store: Store, height: number): Promise<Map<string, bigint>> {
  const totals = new Map<string, bigint>();
  for (const c of CHAINS) {
    const rows = await store.raw(
      `SELECT w.id AS wallet_id, (SELECT b.balance_after FROM balance_changes b
         WHERE b.chain = w.chain AND b.wallet_id = w.id AND b.asset = ? AND b.height <= ? ORDER BY b.height DESC, b.id DESC LIMIT 1) AS balance_after
       FROM wallets w WHERE w.chain = ?`,
      [c.asset, height, c.key],
    );
    let sum = 0n;
    for (const r of rows) if (r.balance_after != null) sum += BigInt(String(r.balance_after));
    totals.set(c.key, sum);
  }
  return totals;
}

/** Whether every chain's backing amount in the signed document equals the baseline read's total. */
function sameTotals(signed: SignedCheckpoint, base: Map<string, bigint>): boolean {
  const lines = signed.document.assets.flatMap((a) => a.backing);
  return [...base].every(([chain, v]) => lines.some((l) => l.chain === chain && l.amount === v.toString()));
}

for (const kind of STORES) await run(kind);
