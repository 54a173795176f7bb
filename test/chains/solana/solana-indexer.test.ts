import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Keypair } from "@solana/web3.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { validateChainConfig } from "../../../src/chains/validate-chain-config.js";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { resolveConfig, type ConfigInput } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadCursor, loadHeaders, openStore, type Store } from "../../../src/store/index.js";
import { startSolanaDevnet, type SolanaDevnet } from "../../rig/solana.js";
import { openTestStore, TEST_DATABASE_URL } from "../../helpers/stores.js";
import { Client as PgClient } from "pg";
import { expectStoreMatchesChain, runStep, setupWorld, type World } from "./solana-workload.js";

const BIN = resolve("bin/backstop.js");
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });

function configInput(p: { url: string; world: World; sqlitePath: string; pollIntervalMs?: number }): ConfigInput {
  return {
    store: { sqlitePath: p.sqlitePath },
    chains: { sol: { chain: "solana-local", rpc: [p.url], pollIntervalMs: p.pollIntervalMs ?? 100 } },
    assets: {
      SOL: { chain: "sol", decimals: 9, native: true },
      ...Object.fromEntries(p.world.mints.map((m) => [m.id, { chain: "sol", decimals: m.decimals, address: m.mint.toBase58(), tokenProgram: m.programId.equals(p.world.mints[1]!.programId) ? "token-2022" : "spl-token" }])),
    },
    wallets: p.world.custody.map((k, i) => ({ label: `custody-${i}`, chain: "sol", address: k.publicKey.toBase58() })),
  };
}

function oracleInputs(world: World) {
  return {
    wallets: world.custody.map((k, i) => ({ label: `custody-${i}`, address: k.publicKey.toBase58() })),
    assets: [{ id: "SOL" }, ...world.mints.map((m) => ({ id: m.id, mint: m.mint.toBase58() }))],
  };
}

describe("Solana indexer on the LiteSVM chain", () => {
  let net: SolanaDevnet;
  let dir: string;
  const stores: Store[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "backstop-sol-"));
  });
  afterEach(async () => {
    await net?.stop();
    for (const s of stores.splice(0)) await s.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function open(name: string, input: (sqlitePath: string) => ConfigInput) {
    const sqlitePath = join(dir, `${name}.db`);
    const config = resolveConfig({ input: input(sqlitePath), path: `${name}.config`, env: {} });
    const store = await openStore({ sqlitePath });
    stores.push(store);
    return { config, store, sqlitePath, indexer: createIndexer({ config, chainKey: "sol", store, logger }) };
  }

  it("indexes a seeded random workload exactly, slot by slot, through skipped slots and abandoned forks", async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 3 });
    const world = setupWorld(net.chain, { custodians: 3, seed: 4242 });
    for (let i = 0; i < 4; i++) net.chain.tick();
    const { store, indexer } = await open("workload", (sqlitePath) => configInput({ url: net.url, world, sqlitePath }));
    // The same chain indexed from the wallets' birthday (slot 0): every custody block, no baseline read.
    const fromBirthday = await open("workload-birthday", (sqlitePath) => {
      const input = configInput({ url: net.url, world, sqlitePath });
      (input.chains.sol as { birthdaySlot?: number }).birthdaySlot = 0;
      return input;
    });
    const seen = new Set<string>();
    let checked = 0;
    for (let step = 0; step < 12; step++) {
      for (const op of runStep(net.chain, world)) seen.add(op);
      await indexer.run({ once: true });
      checked = await expectStoreMatchesChain({ chain: net.chain, store, chainKey: "sol", ...oracleInputs(world) });
      if (step % 4 === 3) {
        await fromBirthday.indexer.run({ once: true });
        await expectStoreMatchesChain({ chain: net.chain, store: fromBirthday.store, chainKey: "sol", ...oracleInputs(world) });
      }
    }
    expect((await loadHeaders(fromBirthday.store, { chain: "sol", limit: 1_000_000 })).at(-1)!.height).toBe(0);
    // The workload exercised every kind of activity the indexer must get right.
    for (const op of ["sol in", "sol out", "sol custody-to-custody", "token mint-to", "token transfer", "token account created", "token account closed", "failed transfer", "abandoned fork", "confirmed fork replaced"]) {
      expect(seen, op).toContain(op);
    }
    const skipped = net.chain.canonical.length < net.chain.slotOf("processed") + 1;
    expect(skipped).toBe(true);
    expect(checked).toBeGreaterThan(30);
    // One getBlock per produced slot: the cost does not grow with wallets or token accounts.
    expect(net.rpc.calls.get("getSignaturesForAddress") ?? 0).toBe(0);
  });

  it("stores the same exact balances on Postgres (numeric(78,0)), with a whale above 2^53 lamports", async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2 });
    const world = setupWorld(net.chain, { custodians: 2, seed: 11 });
    net.chain.airdrop(world.custody[0]!.publicKey, 2n ** 53n + 12_345n);
    net.chain.tick();
    const pg = await openTestStore("postgres");
    try {
      const config = resolveConfig({ input: configInput({ url: net.url, world, sqlitePath: join(dir, "unused.db") }), path: "pg.config", env: {} });
      const indexer = createIndexer({ config, chainKey: "sol", store: pg.store, logger });
      for (let step = 0; step < 5; step++) {
        runStep(net.chain, world, 6);
        await indexer.run({ once: true });
        await expectStoreMatchesChain({ chain: net.chain, store: pg.store, chainKey: "sol", ...oracleInputs(world) });
      }
    } finally {
      await pg.dispose();
    }
  });

  it("halts with CHAIN__DEEP_REORG when a stored (finalized) slot is replaced, rolling nothing back and never re-baselining", async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 1 });
    const world = setupWorld(net.chain, { custodians: 2, seed: 7 });
    net.chain.tick();
    const { store, indexer } = await open("reorg", (sqlitePath) => configInput({ url: net.url, world, sqlitePath }));
    await indexer.run({ once: true });
    runStep(net.chain, world, 6);
    net.chain.tick();
    await indexer.run({ once: true });
    await expectStoreMatchesChain({ chain: net.chain, store, chainKey: "sol", ...oracleInputs(world) });
    const snapshot = async (s: Store) => ({
      cursor: await loadCursor(s, "sol"),
      headers: await loadHeaders(s, { chain: "sol", limit: 1_000_000 }),
      rows: (await s.db.select().from(s.t.balanceChanges)).length,
    });
    const before = await snapshot(store);
    // A finality violation (simulator only): the newest finalized blocks, the stored tip among them, are replaced.
    net.chain.abandon({ depth: 2, force: true });
    runStep(net.chain, world, 6);
    for (let i = 0; i < 3; i++) net.chain.tick();
    const err = await indexer.run({ once: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CHAIN__DEEP_REORG", chain: "sol" });
    expect((err as Error).message).toMatch(/deeper than finality: \d+ blocks \(final up to \d+\)/);
    expect(await snapshot(store)).toEqual(before);
    // Even the baseline slot replaced: the same halt, never a fresh baseline.
    const fresh = await open("rebaseline", (sqlitePath) => configInput({ url: net.url, world, sqlitePath }));
    await fresh.indexer.run({ once: true });
    const baseline = await snapshot(fresh.store);
    net.chain.abandon({ depth: 3, force: true });
    for (let i = 0; i < 3; i++) net.chain.tick();
    const err2 = await fresh.indexer.run({ once: true }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: "CHAIN__DEEP_REORG" });
    expect(await snapshot(fresh.store)).toEqual(baseline);
  });

  it("survives kill -9 of the indexer process at random moments", async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2 });
    const world = setupWorld(net.chain, { custodians: 3, seed: 99 });
    net.chain.tick();
    const sqlitePath = join(dir, "kill.db");
    const cfgPath = join(dir, "kill.config.json");
    writeFileSync(cfgPath, JSON.stringify(configInput({ url: net.url, world, sqlitePath, pollIntervalMs: 50 })));
    const random = world.random;
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const child: ChildProcess = spawn("node", [BIN, "index", "--chain", "sol", "--config", cfgPath], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr!.on("data", (d) => (stderr += String(d)));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      // Keep the chain busy while the indexer follows, then kill it without warning: in round 2
      // possibly during startup, otherwise after it caught up once (tsx startup is slow on a busy machine).
      if (round !== 2) {
        const deadline = Date.now() + 60_000;
        while (!stderr.includes("balances match the chain") && child.exitCode === null && Date.now() < deadline) {
          runStep(net.chain, world, 2);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const until = Date.now() + 300 + Math.floor(random() * 2000);
      while (Date.now() < until) {
        runStep(net.chain, world, 4);
        await new Promise((r) => setTimeout(r, 50 + Math.floor(random() * 150)));
      }
      if (child.exitCode !== null) throw new Error(`indexer exited early (${child.exitCode}):\n${stderr}`);
      child.kill("SIGKILL");
      await exited;
      kills++;
    }
    expect(kills).toBe(5);
    for (let i = 0; i < 3; i++) net.chain.tick();
    const { store, indexer } = await open("kill", () => JSON.parse(JSON.stringify(configInput({ url: net.url, world, sqlitePath }))));
    const partial = await loadCursor(store, "sol");
    expect(partial).toBeDefined();
    await indexer.run({ once: true });
    await expectStoreMatchesChain({ chain: net.chain, store, chainKey: "sol", ...oracleInputs(world) });
  }, 300_000); // five CLI starts (tsx) and catch-ups: ~40 s at load average 13, past 120 s at 25

  it("reports a derived balance that differs from the chain, naming wallet, asset and both amounts", async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 1 });
    const world = setupWorld(net.chain, { custodians: 2, seed: 3 });
    net.chain.tick();
    const { indexer } = await open("mismatch", (sqlitePath) => configInput({ url: net.url, world, sqlitePath }));
    await indexer.run({ once: true });
    // State changed outside any transaction: no block shows it, only the account does.
    const victim = world.custody[1]!.publicKey.toBase58();
    const state = net.chain.accountAt(victim, net.chain.workingSlot)!;
    net.chain.setAccount(victim, { ...state, lamports: state.lamports + 1234n });
    for (let i = 0; i < 3; i++) net.chain.tick();
    const err = await indexer.run({ once: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "SOLANA__BALANCE_MISMATCH" });
    expect((err as Error).message).toContain("custody-1");
    expect((err as Error).message).toContain(`indexed: ${state.lamports}`);
    expect((err as Error).message).toContain(`chain: ${state.lamports + 1234n}`);
  });

  it("keeps following on Postgres while its database connections are killed, and stays exact (TESTING.md C10)", async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2 });
    const world = setupWorld(net.chain, { custodians: 2, seed: 5 });
    net.chain.tick();
    const pg = await openTestStore("postgres");
    const admin = new PgClient({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    const ac = new AbortController();
    try {
      const config = resolveConfig({ input: configInput({ url: net.url, world, sqlitePath: join(dir, "unused.db"), pollIntervalMs: 50 }), path: "pg.config", env: {} });
      const indexer = createIndexer({ config, chainKey: "sol", store: pg.store, logger });
      await indexer.run({ once: true });
      const start = (await loadCursor(pg.store, "sol"))!.height;
      let failure: unknown;
      const running = indexer.run({ signal: ac.signal }).catch((e: unknown) => (failure = e));
      let killed = 0;
      for (let i = 0; i < 60 && failure === undefined; i++) {
        runStep(net.chain, world, 3);
        // Every connection of this store's pool, idle or in the middle of a query or a block's transaction.
        const r = await admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1", [`backstop:${pg.params.pgSchema}`]);
        killed += r.rows[0].n as number;
        await new Promise((r) => setTimeout(r, 10 + (i % 7) * 15));
      }
      expect(failure).toBeUndefined();
      expect(killed).toBeGreaterThan(10);
      ac.abort();
      await running;
      expect((await loadCursor(pg.store, "sol"))!.height).toBeGreaterThan(start); // it kept indexing through the kills
      await indexer.run({ once: true });
      await expectStoreMatchesChain({ chain: net.chain, store: pg.store, chainKey: "sol", ...oracleInputs(world) });
    } finally {
      ac.abort();
      await admin.end();
      await pg.dispose();
    }
  });

  it("stops, rolling nothing back, when its provider switches to another cluster mid-run", async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 1 });
    const other = await startSolanaDevnet({ seed: "another-cluster", confirmedLag: 1, finalizedLag: 1 });
    let upstream = net.url;
    // A forwarding proxy: the indexer's one provider, whose upstream the test switches.
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const r = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) });
      res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const world = setupWorld(net.chain, { custodians: 2, seed: 21 });
      setupWorld(other.chain, { custodians: 1, seed: 22 });
      for (let i = 0; i < 8; i++) other.chain.tick();
      net.chain.tick();
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const { store, indexer } = await open("switch", (sqlitePath) => configInput({ url, world, sqlitePath }));
      await indexer.run({ once: true });
      const before = (await loadCursor(store, "sol"))!;
      upstream = other.url;
      const err = await indexer.run({ once: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "CHAIN__WRONG_NETWORK" });
      expect(await loadCursor(store, "sol")).toEqual(before);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      await other.stop();
    }
  });

  describe("bad input: clear error, nothing written", () => {
    async function expectNothingWritten(store: Store) {
      expect(await loadCursor(store, "sol")).toBeUndefined();
      expect(await store.db.select().from(store.t.wallets)).toEqual([]);
    }

    it("refuses a node of another cluster (genesis hash)", async () => {
      net = await startSolanaDevnet({ seed: "some-other-cluster" });
      const world = setupWorld(net.chain, { custodians: 1, seed: 1 });
      for (let i = 0; i < 3; i++) net.chain.tick();
      const { store, indexer } = await open("genesis", (sqlitePath) => configInput({ url: net.url, world, sqlitePath }));
      const err = await indexer.run({ once: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "CHAIN__WRONG_NETWORK" });
      expect((err as Error).message).toContain(net.chain.genesisHash);
      await expectNothingWritten(store);
    });

    it("refuses an unknown mint and wrong decimals, naming the config paths", async () => {
      net = await startSolanaDevnet();
      const world = setupWorld(net.chain, { custodians: 1, seed: 2 });
      for (let i = 0; i < 3; i++) net.chain.tick();
      const { store, indexer } = await open("mint", (sqlitePath) => {
        const input = configInput({ url: net.url, world, sqlitePath });
        const assets = input.assets as Record<string, { address?: string; decimals: number }>;
        assets.USDC!.address = Keypair.generate().publicKey.toBase58();
        assets.PYUSD!.decimals = 9;
        return input;
      });
      const err = await indexer.run({ once: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "SOLANA__UNKNOWN_MINT" });
      expect((err as Error).message).toMatch(/assets\.USDC\.address: no account \w+ at the finalized slot \(unknown mint\)/);
      expect((err as Error).message).toContain("assets.PYUSD.decimals: the mint has 6 decimals, the config says 9");
      await expectNothingWritten(store);
    });

    it("refuses malformed addresses with their config paths", async () => {
      net = await startSolanaDevnet();
      const world = setupWorld(net.chain, { custodians: 2, seed: 5 });
      const { config, store, indexer } = await open("malformed", (sqlitePath) => {
        const input = configInput({ url: net.url, world, sqlitePath });
        input.wallets[0]!.address = "0xdeadbeef";
        input.wallets[1]!.address = "z".repeat(44); // base58, but 33 bytes
        (input.assets as Record<string, { address?: string }>).USDC!.address = "not-a-mint";
        return input;
      });
      expect(validateChainConfig(config)).toEqual([
        'wallets[0].address: "0xdeadbeef" is not a base58 Solana address',
        `wallets[1].address: "${"z".repeat(44)}" is not a 32-byte base58 address`,
        'assets.USDC.address: "not-a-mint" is not a base58 Solana address',
      ]);
      const err = await indexer.run({ once: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "SOLANA__INVALID_CONFIG" });
      await expectNothingWritten(store);
      expect(net.rpc.totalCalls()).toBe(0);
    });
  });
});
