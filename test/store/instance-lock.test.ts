import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { networks, payments } from "bitcoinjs-lib";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { withInstanceLock } from "../../src/chains/create-indexer.js";
import type { Indexer } from "../../src/chains/indexer.js";
import { resolveConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { acquireInstanceLock, openStore } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logger = createLogger({ level: "silent", format: "json" });

describe.each(STORE_KINDS)("instance lock (%s)", (kind) => {
  it("refuses a second holder, naming the first; frees on release; names are independent", async () => {
    const s = await openTestStore(kind);
    try {
      const a = await acquireInstanceLock(s.store, { name: "chain:btc", owner: "A" });
      const err = await acquireInstanceLock(s.store, { name: "chain:btc", owner: "B" }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "STORE__INSTANCE_LOCK_HELD" });
      expect((err as Error).message).toContain(`pid ${process.pid} on ${hostname()}`);
      const other = await acquireInstanceLock(s.store, { name: "chain:eth", owner: "B" });
      // The same owner taking its own lock again (a restart of one run within a process) is allowed.
      const again = await acquireInstanceLock(s.store, { name: "chain:btc", owner: "A" });
      await again.release();
      const b = await acquireInstanceLock(s.store, { name: "chain:btc", owner: "B" });
      await a.release(); // not A's any more: must not delete B's lock
      await expect(acquireInstanceLock(s.store, { name: "chain:btc", owner: "C" })).rejects.toMatchObject({ code: "STORE__INSTANCE_LOCK_HELD" });
      await b.release();
      await other.release();
      expect(await s.store.raw("SELECT name FROM instance_locks")).toEqual([]);
    } finally {
      await s.dispose();
    }
  });

  it("a holder that stops heartbeating loses the lock after the ttl; it learns so at its next beat", async () => {
    const s = await openTestStore(kind);
    try {
      let lostCode: string | undefined;
      const a = await acquireInstanceLock(s.store, { name: "chain:btc", owner: "A", ttlMs: 600, onLost: (e) => (lostCode = e.code) });
      // While A beats (every 200 ms), B is refused even after more than a ttl;
      await sleep(900);
      await expect(acquireInstanceLock(s.store, { name: "chain:btc", owner: "B", ttlMs: 600 })).rejects.toMatchObject({ code: "STORE__INSTANCE_LOCK_HELD" });
      expect(lostCode).toBeUndefined();
      // but once A's heartbeat is 600 ms old (as if A hung or died on another host), B takes over.
      await s.store.raw("UPDATE instance_locks SET heartbeat_at_ms = heartbeat_at_ms - 5000 WHERE owner = 'A'");
      const b = await acquireInstanceLock(s.store, { name: "chain:btc", owner: "B", ttlMs: 600 });
      await sleep(500);
      expect(lostCode).toBe("STORE__INSTANCE_LOCK_LOST");
      await a.release(); // must not delete B's lock
      expect((await s.store.raw("SELECT owner FROM instance_locks")).map((r) => r.owner)).toEqual(["B"]);
      await b.release();
    } finally {
      await s.dispose();
    }
  });

  it("a holder killed on this host: free at once on SQLite, after the ttl on Postgres (another host may share the name)", async () => {
    const s = await openTestStore(kind);
    try {
      const dead = spawnSync(process.execPath, ["-e", "0"]).pid!; // a pid that no longer runs
      await s.store.raw(
        "INSERT INTO instance_locks (name, owner, pid, host, acquired_at_ms, heartbeat_at_ms) VALUES ('chain:btc', 'DEAD', ?, ?, 0, ?)",
        [dead, hostname(), 9e15], // a heartbeat in the future: never expired by age
      );
      if (kind === "sqlite") {
        const l = await acquireInstanceLock(s.store, { name: "chain:btc", owner: "B" });
        await l.release();
      } else {
        await expect(acquireInstanceLock(s.store, { name: "chain:btc", owner: "B" })).rejects.toMatchObject({ code: "STORE__INSTANCE_LOCK_HELD" });
      }
      // A live holder (this process) is never taken over by the dead-pid rule.
      await s.store.raw("DELETE FROM instance_locks");
      await s.store.raw("INSERT INTO instance_locks (name, owner, pid, host, acquired_at_ms, heartbeat_at_ms) VALUES ('chain:btc', 'LIVE', ?, ?, 0, ?)", [process.pid, hostname(), 9e15]);
      await expect(acquireInstanceLock(s.store, { name: "chain:btc", owner: "C" })).rejects.toMatchObject({ code: "STORE__INSTANCE_LOCK_HELD" });
    } finally {
      await s.dispose();
    }
  });

  it("withInstanceLock: a run whose lock is taken over stops between blocks and rejects with STORE__INSTANCE_LOCK_LOST", async () => {
    const s = await openTestStore(kind);
    try {
      const config = resolveConfig({ path: "test", env: {}, input: { chains: {}, assets: {}, wallets: [] } });
      let blocks = 0;
      // A stand-in for a chain indexer: "applies a block" every 20 ms until its signal aborts.
      const inner: Indexer = {
        async run(p) {
          while (!p.signal?.aborted) {
            blocks++;
            await sleep(20);
          }
        },
        fetchStatus: async () => ({ tip: 0, indexed: null, finalized: null }),
      };
      const running = withInstanceLock({ config, chainKey: "btc", store: s.store, logger }, inner, { ttlMs: 600 }).run({}).then(() => null, (e: unknown) => e);
      await sleep(300);
      await expect(acquireInstanceLock(s.store, { name: "chain:btc", owner: "OTHER", ttlMs: 600 })).rejects.toMatchObject({ code: "STORE__INSTANCE_LOCK_HELD" });
      await s.store.raw("UPDATE instance_locks SET owner = 'OTHER' WHERE name = 'chain:btc'");
      const err = await running;
      expect(err).toMatchObject({ code: "STORE__INSTANCE_LOCK_LOST" });
      const at = blocks;
      await sleep(100);
      expect(blocks).toBe(at); // stopped
      expect((await s.store.raw("SELECT owner FROM instance_locks")).map((r) => r.owner)).toEqual(["OTHER"]);
    } finally {
      await s.dispose();
    }
  });
});

describe("withInstanceLock on a busy SQLite store", () => {
  it("a follower waits for a store held by a long write (e.g. a snapshot import) to take its lock; a once run fails with STORE__BUSY", async () => {
    const s = await openTestStore("sqlite");
    const other = new Database(s.params.sqlitePath!);
    try {
      const config = resolveConfig({ path: "test", env: {}, input: { chains: {}, assets: {}, wallets: [] } });
      let started = 0;
      const inner: Indexer = {
        async run(p) {
          started = Date.now();
          while (!p.signal?.aborted) await sleep(20);
        },
        fetchStatus: async () => ({ tip: 0, indexed: null, finalized: null }),
      };
      const indexer = withInstanceLock({ config, chainKey: "btc", store: s.store, logger }, inner);
      other.exec("BEGIN EXCLUSIVE");
      await expect(indexer.run({ once: true })).rejects.toMatchObject({ code: "STORE__BUSY" });
      const ac = new AbortController();
      const t0 = Date.now();
      const following = indexer.run({ signal: ac.signal });
      await sleep(6_500); // past one busy_timeout (5 s): the follower is still waiting, not failed
      expect(started).toBe(0);
      other.exec("COMMIT");
      for (let i = 0; i < 100 && !started; i++) await sleep(100);
      expect(started - t0).toBeGreaterThan(6_000);
      ac.abort();
      await following;
      expect(await s.store.raw("SELECT name FROM instance_locks")).toEqual([]);
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
      await s.dispose();
    }
  }, 60_000);
});

describe("backstop index while another process indexes the same chain", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-lock-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 1 with STORE__INSTANCE_LOCK_HELD before contacting the node, and writes nothing; status names the holder", async () => {
    const sqlitePath = join(dir, "backstop.db");
    const address = payments.p2wpkh({ hash: Buffer.alloc(20, 7), network: networks.regtest }).address!;
    const cfg = join(dir, "backstop.config.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        store: { sqlitePath },
        chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:9/"] } },
        assets: { BTC: { chain: "btc", decimals: 8, native: true } },
        wallets: [{ label: "hot", chain: "btc", address }],
      }),
    );
    const store = await openStore({ sqlitePath });
    const lock = await acquireInstanceLock(store, { name: "chain:btc" }); // held by this (live) process
    try {
      const child = spawn(process.execPath, [resolve("bin/backstop.js"), "--config", cfg, "index", "--chain", "btc", "--once"], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on("exit", r));
      expect(code).toBe(1);
      expect(stderr).toContain("error STORE__INSTANCE_LOCK_HELD");
      expect(stderr).toContain(`pid ${process.pid}`);
      expect(stderr).not.toContain("RPC"); // refused before any node call
      expect(await store.raw("SELECT count(*) AS n FROM block_headers")).toEqual([{ n: 0 }]);
      expect(await store.raw("SELECT count(*) AS n FROM wallets")).toEqual([{ n: 0 }]);

      // `backstop status` names the process that indexes the chain (the node being down is reported beside it).
      const status = spawnSync(process.execPath, [resolve("bin/backstop.js"), "--config", cfg, "status", "--json"], { encoding: "utf8", timeout: 120_000 });
      expect(status.status, status.stderr).toBe(0);
      const [btc] = JSON.parse(status.stdout) as Array<{ chain: string; indexer: { pid: number; host: string; heartbeatAgeMs: number; stale: boolean } | null; error?: string }>;
      expect(btc).toMatchObject({ chain: "btc", indexer: { pid: process.pid, host: hostname(), stale: false } });
      expect(btc!.indexer!.heartbeatAgeMs).toBeLessThan(30_000);
      expect(btc!.error).toBeTruthy();
    } finally {
      await lock.release();
      await store.close();
    }
  }, 180_000);
});
