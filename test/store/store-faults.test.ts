import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { loadBalances, loadCursor, saveBlock, saveWallets, type Store } from "../../src/store/index.js";
import { testBlock } from "../helpers/blocks.js";
import { openTestStore, TEST_DATABASE_URL } from "../helpers/stores.js";

// Transient database faults (TESTING.md D1, D2, D3, C10): each is a typed, retryable error, the failed
// block is not half written and the cursor does not move; the same write succeeds once the fault clears.
const chain = "btc";
const block = (height: number) => testBlock(chain, height, "b");
/** A block with a payload large enough to fill pages (a long txid per change). */
const write = (store: Store, walletId: number, height: number) =>
  saveBlock(store, { block: block(height), changes: [{ walletId, asset: "BTC", txid: `${height}`.padEnd(900, "x"), delta: BigInt(height + 1) }] });

async function setup(kind: "sqlite" | "postgres") {
  const s = await openTestStore(kind);
  const [w] = await saveWallets(s.store, [{ chain, label: "hot", kind: "address", address: "addr1" }]);
  return { ...s, walletId: w!.id };
}

describe("store faults (sqlite)", () => {
  it("D2: another connection holds BEGIN EXCLUSIVE past busy_timeout → STORE__BUSY (retryable), nothing written; then the write succeeds", async () => {
    const s = await setup("sqlite");
    try {
      await write(s.store, s.walletId, 0);
      const other = new Database(s.params.sqlitePath!);
      other.exec("BEGIN EXCLUSIVE");
      const t0 = Date.now();
      const err = await write(s.store, s.walletId, 1).catch((e: unknown) => e);
      other.exec("COMMIT");
      other.close();
      expect(err).toMatchObject({ code: "STORE__BUSY", retryable: true });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(4_500); // waited out busy_timeout first
      expect(await loadCursor(s.store, chain)).toMatchObject({ height: 0 });
      await write(s.store, s.walletId, 1);
      expect(await loadCursor(s.store, chain)).toMatchObject({ height: 1 });
    } finally {
      await s.dispose();
    }
  }, 30_000);

  it("D1: the database file cannot grow (SQLITE_FULL) → STORE__FULL (retryable); cursor and balances stay exact; it resumes at the next block", async () => {
    const s = await setup("sqlite");
    try {
      const [{ page_count: pages }] = (await s.store.raw("PRAGMA page_count")) as [{ page_count: number }];
      await s.store.raw(`PRAGMA max_page_count = ${pages + 6}`); // a disk with room for a few pages
      let height = 0;
      let err: unknown;
      for (; height < 500; height++) {
        err = await write(s.store, s.walletId, height).catch((e: unknown) => e);
        if (err) break;
      }
      expect(err).toMatchObject({ code: "STORE__FULL", retryable: true });
      expect(height).toBeGreaterThan(0);
      const cursor = await loadCursor(s.store, chain);
      expect(cursor).toMatchObject({ height: height - 1 });
      const sum = (n: number) => BigInt((n * (n + 1)) / 2);
      expect((await loadBalances(s.store, { chain }))[0]!.amount).toBe(sum(height));
      expect(await s.store.raw("PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
      await s.store.raw("PRAGMA max_page_count = 1073741823"); // space freed
      await write(s.store, s.walletId, height);
      expect(await loadCursor(s.store, chain)).toMatchObject({ height });
      expect((await loadBalances(s.store, { chain }))[0]!.amount).toBe(sum(height + 1));
    } finally {
      await s.dispose();
    }
  });
});

describe("store faults (postgres)", () => {
  it("C10: the connection is killed mid-transaction → STORE__UNAVAILABLE (retryable), nothing written; the pool reconnects", async () => {
    const s = await setup("postgres");
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await write(s.store, s.walletId, 0);
      const err = await s.store
        .tx(async (db) => {
          const r = (await (db as unknown as { execute: (q: string) => Promise<{ rows: Array<{ pid: number }> }> }).execute("SELECT pg_backend_pid() AS pid")).rows;
          await db.insert(s.store.t.blockHeaders).values(block(1));
          await admin.query("SELECT pg_terminate_backend($1)", [r[0]!.pid]);
          await db.insert(s.store.t.blockHeaders).values(block(2));
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "STORE__UNAVAILABLE", retryable: true });
      expect(await loadCursor(s.store, chain)).toMatchObject({ height: 0 });
      expect((await s.store.raw("SELECT height FROM block_headers ORDER BY height")).map((r) => Number(r.height))).toEqual([0]);
      await write(s.store, s.walletId, 1);
      expect(await loadCursor(s.store, chain)).toMatchObject({ height: 1 });
    } finally {
      await admin.end();
      await s.dispose();
    }
  });

  it("D3: a read-only transaction (a replica after failover, SQLSTATE 25006) → STORE__READ_ONLY (retryable), nothing written", async () => {
    const s = await setup("postgres");
    try {
      await write(s.store, s.walletId, 0);
      const err = await s.store
        .tx(async (db) => {
          await (db as unknown as { execute: (q: string) => Promise<unknown> }).execute("SET TRANSACTION READ ONLY");
          await db.insert(s.store.t.blockHeaders).values(block(1));
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "STORE__READ_ONLY", retryable: true });
      expect(await loadCursor(s.store, chain)).toMatchObject({ height: 0 });
    } finally {
      await s.dispose();
    }
  });

  it("a constraint violation is not transient: it passes through untyped by the mapper (a retry would not fix it)", async () => {
    const s = await setup("postgres");
    try {
      await write(s.store, s.walletId, 0);
      const err = await s.store.tx(async (db) => void (await db.insert(s.store.t.blockHeaders).values(block(0)))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as { retryable?: boolean }).retryable).toBeUndefined();
    } finally {
      await s.dispose();
    }
  });
});
