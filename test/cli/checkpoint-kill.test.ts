// `kill -9` during `backstop checkpoint create`: no half checkpoint, no gap, and the run after the kills
// prints exactly the bytes a clean run on an identical copy of the store prints (same inputs, same digest).
import { execFile, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { createSigningKey } from "../../src/reconcile/signing-key.js";
import { openStore, saveBlock, saveFinalizedHeight, saveWallets, syncWalletStates } from "../../src/store/index.js";

const BIN = resolve("bin/backstop.js");
const execFileP = promisify(execFile);
const KEY = createSigningKey();
const root = mkdtempSync(join(tmpdir(), "backstop-cp-kill-"));
const T0 = 1_700_000_000;

function writeConfig(dir: string) {
  writeFileSync(join(dir, "backstop.config.json"), JSON.stringify({
    store: { sqlitePath: join(dir, "backstop.db") },
    chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:9"] } },
    assets: { BTC_btc: { chain: "btc", native: true, decimals: 8, backs: "BTC" } },
    liabilityAssets: { BTC: { decimals: 8 } },
    checkpoints: { signingKey: { env: "CP_KEY" }, keys: [{ x: KEY.jwk.x, notBefore: "2020-01-01T00:00:00Z" }] },
    wallets: [{ label: "cold", chain: "btc", address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080" }],
  }));
}

async function seed(dir: string) {
  const store = await openStore({ sqlitePath: join(dir, "backstop.db") });
  const [w] = await saveWallets(store, [{ chain: "btc", label: "cold", kind: "address", address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080" }]);
  await syncWalletStates(store, { chain: "btc", cursorHeight: null, configured: [{ walletId: w!.id, birthday: null }], pendingReason: () => "x" });
  for (let h = 0; h <= 30; h++) {
    await saveBlock(store, {
      block: { chain: "btc", height: h, hash: `k${h}`.padEnd(64, "0"), parentHash: h === 0 ? "0".repeat(64) : `k${h - 1}`.padEnd(64, "0"), time: T0 + 600 * h },
      changes: h % 3 === 1 ? [{ walletId: w!.id, asset: "BTC_btc", txid: `t${h}`, delta: 10_000_000n * BigInt(h) }] : [],
    });
  }
  await saveFinalizedHeight(store, { chain: "btc", finalizedHeight: 24 });
  const file = join(dir, "l.csv");
  writeFileSync(file, "account_id,asset,amount\nu1,BTC,3\nu2,BTC,0.5\n");
  await importSnapshot({ store, logger: pino({ level: "silent" }), now: () => new Date((T0 + 90_000) * 1000) }, { source: file, format: "csv", asOf: new Date((T0 + 6000) * 1000).toISOString(), assets: { BTC: { decimals: 8 } }, snapshotId: "s1" });
  await store.close();
}

const env = { ...process.env, CP_KEY: KEY.text, DATABASE_URL: "" };
async function create(dir: string) {
  const r = await execFileP("node", [BIN, "--config", join(dir, "backstop.config.json"), "checkpoint", "create", "--json", "--no-wait"], { cwd: dir, env, timeout: 120_000 });
  return r.stdout;
}

describe("kill -9 during checkpoint create (spawned, SQLite)", () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("leaves no half checkpoint and no gap; the next run gives the clean run's bytes", async () => {
    const a = join(root, "a");
    const b = join(root, "b");
    mkdirSync(a);
    mkdirSync(b);
    await seed(a);
    copyFileSync(join(a, "backstop.db"), join(b, "backstop.db"));
    writeConfig(a);
    writeConfig(b);
    const began = performance.now();
    const clean = await create(b);
    // Kill points spread over the run's own duration on this machine (start-up, reads, signing, the
    // write): fixed delays would land after the end on a fast machine and before the work on a slow one.
    const took = performance.now() - began;

    let killed = 0;
    for (const delay of [0.3, 0.5, 0.7, 0.8, 0.9, 0.95].map((f) => Math.round(f * took))) {
      const child = spawn("node", [BIN, "--config", join(a, "backstop.config.json"), "checkpoint", "create", "--json", "--no-wait"], { cwd: a, env, stdio: "ignore" });
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      const timer = setTimeout(() => child.kill("SIGKILL"), delay);
      const code = await exited;
      clearTimeout(timer);
      if (code === null) killed++;
      const store = await openStore({ sqlitePath: join(a, "backstop.db") });
      const seqs = (await store.raw("SELECT seq FROM checkpoints ORDER BY seq")).map((r) => Number(r.seq));
      const anchors = (await store.raw("SELECT seq FROM checkpoint_anchors")).map((r) => Number(r.seq));
      await store.close();
      // All or nothing: zero or one checkpoint, and its anchor row with it.
      expect(seqs.length <= 1).toBe(true);
      expect(anchors).toEqual(seqs);
    }
    expect(killed).toBeGreaterThan(0);
    const after = await create(a);
    expect(after).toBe(clean);
    const store = await openStore({ sqlitePath: join(a, "backstop.db") });
    expect((await store.raw("SELECT seq FROM checkpoints ORDER BY seq")).map((r) => Number(r.seq))).toEqual([1]);
    await store.close();
  }, 300_000);
});
