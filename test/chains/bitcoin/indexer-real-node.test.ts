// The Bitcoin indexer against a real node (bcoin regtest), judged by an independent oracle.
//
// A seeded random workload (deposits to single-sig and descriptor-derived addresses past the
// gap limit, withdrawals with change, consolidations, 2-of-3 multisig spends, P2TR outputs and
// spends, transactions spending outputs of the same block), random reorgs (invalidateblock + a
// longer fork, including one that drops a custody deposit and one that moves a spend to a later
// block), and `kill -9` of the indexer process (`backstop index --once`) during catch-up.
// After each round: for every wallet and every height <= the indexed tip, the balance from
// loadBalances(atHeight) equals computeTruth's (which walks the node's raw blocks itself), and
// every stored header is on the node's chain. Then bad input: malformed config, unreachable
// node, wrong network, a node that lies about a parent hash -> a typed error, store unchanged.
//
// Reproduce a run with BACKSTOP_TEST_SEED=<n> (the seed is printed).
import Database from "better-sqlite3";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDescriptorChecksum } from "../../../src/chains/bitcoin/descriptors.js";
import { loadBalances, loadCursor, loadHeaders, openStore } from "../../../src/store/index.js";
import {
  computeTruth,
  createHdAccount,
  createOwner,
  createRandom,
  createRigRpc,
  createRigWallet,
  outputsTo,
  startBcoin,
  type BcoinNode,
  type HdKind,
  type OwnerKind,
  type RigHdAccount,
  type RigOwner,
  type RigRpc,
  type RigWallet,
} from "../../rig/bitcoin.js";

const SEED = Number(process.env.BACKSTOP_TEST_SEED ?? 424242);
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const BIN = join(ROOT, "bin", "backstop.js");
const CHAIN = "btc";
const MAX_INDEX = 40; // truth covers derived indexes 0..MAX_INDEX-1 per branch (the workload stays below)
const FINALITY = 6;

type Custody =
  | { label: string; kind: "single"; owner: RigOwner }
  | { label: string; kind: "hd"; account: RigHdAccount; gapLimit: number };

describe(`bitcoin indexer against bcoin regtest (seed ${SEED})`, () => {
  const random = createRandom(SEED);
  let node: BcoinNode;
  let rpc: RigRpc;
  let wallet: RigWallet;
  let dir: string;
  let sqlitePath: string;
  let configPath: string;
  let workloadStart = 0;
  const custody: Custody[] = [];
  const truthScripts: Record<string, string[]> = {};
  const timings: Record<string, number> = {};
  let kills = 0;
  let killsMidCatchUp = 0;

  const childEnv = (rpcUrl: string) => ({ PATH: process.env.PATH ?? "", HOME: dir, BTC_RPC: rpcUrl, NO_COLOR: "1" });

  beforeAll(async () => {
    const t0 = performance.now();
    console.log(`indexer-real-node seed: ${SEED}`);
    dir = await mkdtemp(join(tmpdir(), "backstop-btc-idx-"));
    sqlitePath = join(dir, "backstop.db");
    configPath = join(dir, "backstop.config.json");
    node = await startBcoin();
    rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    wallet = createRigWallet(rpc, { random });
    await wallet.fund(40);
    workloadStart = (await rpc.call<number>("getblockcount")) + 1;

    for (const kind of ["p2wpkh", "p2pkh", "p2sh-p2wpkh", "p2tr", "p2wsh-multi"] as OwnerKind[]) {
      custody.push({ label: `single-${kind}`, kind: "single", owner: createOwner(kind, { random }) });
    }
    const hd: Array<[HdKind, number]> = [
      ["wpkh", 3],
      ["tr", 3],
      ["wsh-sortedmulti", 4],
      ["sh-wpkh", 2],
      ["pkh", 5],
    ];
    for (const [kind, gapLimit] of hd) {
      custody.push({ label: `hd-${kind}`, kind: "hd", account: createHdAccount(kind, { random }), gapLimit });
    }
    for (const c of custody) {
      truthScripts[c.label] =
        c.kind === "single"
          ? [c.owner.scriptHex]
          : [0, 1].flatMap((b) => Array.from({ length: MAX_INDEX }, (_, i) => c.account.owner(b, i).scriptHex));
    }
    await writeConfig(configPath, { sqlitePath });
    timings.setup = performance.now() - t0;
  });

  afterAll(async () => {
    console.log(`indexer-real-node seed ${SEED}: kills ${kills} (mid catch-up ${killsMidCatchUp}); timings ms`, timings);
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // ------------------------------------------------------------------ helpers

  function configObject(p: { sqlitePath: string; chain?: string; wallets?: unknown[]; rpcTimeoutMs?: number }) {
    return {
      store: { sqlitePath: p.sqlitePath },
      chains: {
        [CHAIN]: {
          chain: p.chain ?? "bitcoin-regtest",
          rpc: [{ env: "BTC_RPC" }],
          finalityDepth: FINALITY,
          pollIntervalMs: 100,
          rpcTimeoutMs: p.rpcTimeoutMs ?? 10_000,
        },
      },
      assets: { BTC: { chain: CHAIN, decimals: 8, native: true } },
      wallets:
        p.wallets ??
        custody.map((c) =>
          c.kind === "single"
            ? { label: c.label, chain: CHAIN, address: c.owner.address }
            : // The checksum is optional; give it on half of them so both paths run.
              {
                label: c.label,
                chain: CHAIN,
                descriptor: c.gapLimit % 2 ? `${c.account.descriptor}#${computeDescriptorChecksum(c.account.descriptor)}` : c.account.descriptor,
                gapLimit: c.gapLimit,
              },
        ),
    };
  }

  async function writeConfig(path: string, p: Parameters<typeof configObject>[0]) {
    await writeFile(path, JSON.stringify(configObject(p), null, 2));
  }

  type RunResult = { code: number | null; signal: NodeJS.Signals | null; stderr: string; killedAt?: number; ms: number };

  /** Runs `backstop index --chain btc --once`; with killAtHeight, SIGKILLs it once the stored cursor reaches that height. */
  async function runIndexer(p: { config?: string; rpcUrl?: string; killAtHeight?: number; killAfterMs?: number; timeoutMs?: number } = {}): Promise<RunResult> {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, "index", "--chain", CHAIN, "--once", "--config", p.config ?? configPath, "--log-format", "json"], {
      cwd: ROOT,
      env: childEnv(p.rpcUrl ?? node.authUrl),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
    child.stdout!.resume();
    let killedAt: number | undefined;
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
    let finished = false;
    void exit.then(() => (finished = true));
    const timeout = setTimeout(() => child.kill("SIGKILL"), p.timeoutMs ?? 60_000);
    if (p.killAfterMs !== undefined) {
      setTimeout(() => {
        if (!finished) {
          killedAt = readCursorHeight() ?? -1;
          child.kill("SIGKILL");
        }
      }, p.killAfterMs);
    }
    if (p.killAtHeight !== undefined) {
      while (!finished) {
        const h = readCursorHeight();
        if (h !== undefined && h >= p.killAtHeight) {
          killedAt = h;
          child.kill("SIGKILL");
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const { code, signal } = await exit;
    clearTimeout(timeout);
    return { code, signal, stderr, killedAt: signal === "SIGKILL" ? killedAt : undefined, ms: performance.now() - t0 };
  }

  /** The stored cursor, read through a separate read-only connection (WAL lets it read during writes). */
  function readCursorHeight(): number | undefined {
    if (!existsSync(sqlitePath)) return undefined;
    try {
      const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare("SELECT height FROM chain_cursors WHERE chain = ?").get(CHAIN) as { height: number } | undefined;
        return row?.height;
      } finally {
        db.close();
      }
    } catch {
      return undefined; // schema not created yet
    }
  }

  /**
   * Every table's rows, for "the store is unchanged" checks. The follower's health tables are left out: a
   * refused run records its error there on purpose (`status` shows it); healthOf() checks that record.
   */
  function dumpStore(path = sqlitePath): string {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).filter(
        (t) => t.name !== "chain_health" && t.name !== "provider_health",
      );
      return JSON.stringify(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]), (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    } finally {
      db.close();
    }
  }

  /** The follower's recorded state and last error (chain_health). */
  function healthOf(): { state: string; last_error_code: string | null } | undefined {
    const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    try {
      return db.prepare("SELECT state, last_error_code FROM chain_health WHERE chain = ?").get(CHAIN) as { state: string; last_error_code: string | null } | undefined;
    } finally {
      db.close();
    }
  }

  /** Runs the indexer to completion, then checks it against the truth. */
  async function indexAndCheck(step: string) {
    const r = await runIndexer();
    expect(r.code, `${step}: indexer failed:\n${r.stderr.slice(-3000)}`).toBe(0);
    timings[`index:${step}`] = Math.round(r.ms);
    await checkAgainstTruth(step, { exact: true });
  }

  /**
   * The oracle: at every height <= the stored cursor, loadBalances(atHeight) equals the truth for
   * every wallet; every stored header is the node's block at that height; no balance change above
   * the cursor. With exact, the cursor must be at the node's tip.
   */
  async function checkAgainstTruth(step: string, p: { exact: boolean }) {
    const t0 = performance.now();
    const truth = await computeTruth(rpc, truthScripts);
    const tip = truth.hashes.length - 1;
    const store = await openStore({ sqlitePath });
    try {
      const cursor = await loadCursor(store, CHAIN);
      if (!cursor) {
        expect(p.exact, `${step}: no cursor`).toBe(false);
        return;
      }
      if (p.exact) expect(cursor.height, `${step}: indexed height`).toBe(tip);
      expect(cursor.height).toBeLessThanOrEqual(tip);
      expect(cursor.hash, `${step}: cursor hash at ${cursor.height}`).toBe(truth.hashes[cursor.height]);
      for (const h of await loadHeaders(store, { chain: CHAIN, limit: 10_000 })) {
        expect(h.hash, `${step}: stored header ${h.height}`).toBe(truth.hashes[h.height]);
        expect(h.height).toBeLessThanOrEqual(cursor.height);
      }
      const latest = await loadBalances(store, { chain: CHAIN });
      for (const b of latest) expect(b.height, `${step}: balance row above the cursor`).toBeLessThanOrEqual(cursor.height);
      // Below the workload nothing custody-related exists: one query covers all those heights.
      const before = await loadBalances(store, { chain: CHAIN, atHeight: Math.min(workloadStart - 1, cursor.height) });
      expect(before.filter((b) => b.amount !== 0n), `${step}: balances before the workload`).toEqual([]);
      for (let h = workloadStart; h <= cursor.height; h++) {
        const rows = await loadBalances(store, { chain: CHAIN, atHeight: h });
        const indexed = new Map(rows.map((r) => [r.label, r.amount]));
        for (const c of custody) {
          const want = truth.balances[c.label]![h]!;
          const got = indexed.get(c.label) ?? 0n;
          if (got !== want) {
            throw new Error(`${step}: ${c.label} at height ${h} (${truth.hashes[h]}): indexed ${got}, truth ${want} (seed ${SEED})`);
          }
        }
      }
    } finally {
      await store.close();
    }
    timings[`check:${step}`] = Math.round(performance.now() - t0);
  }

  // ------------------------------------------------------------------ workload actions

  const singles = () => custody.filter((c): c is Extract<Custody, { kind: "single" }> => c.kind === "single");
  const hds = () => custody.filter((c): c is Extract<Custody, { kind: "hd" }> => c.kind === "hd");

  /** An address of an HD wallet the gap-limit rule makes visible now: highest used + 1..gapLimit. */
  async function nextHdOwner(c: Extract<Custody, { kind: "hd" }>, branch: number, p: { stretch?: boolean } = {}) {
    const { received } = await computeTruth(rpc, { [c.label]: truthScripts[c.label]! });
    let highest = -1;
    for (let i = 0; i < MAX_INDEX; i++) if (received.has(c.account.owner(branch, i).scriptHex)) highest = i;
    // stretch: the furthest visible index, to walk past the initial window quickly.
    const step = p.stretch ? c.gapLimit : random.int(1, c.gapLimit);
    const index = Math.min(highest + step, MAX_INDEX - 1);
    return c.account.owner(branch, index);
  }

  async function deposit() {
    const targets: RigOwner[] = [];
    for (let i = random.int(1, 4); i > 0; i--) {
      if (random.next() < 0.4) targets.push(random.pick(singles()).owner);
      else targets.push(await nextHdOwner(random.pick(hds()), 0, { stretch: random.next() < 0.5 }));
    }
    const unique = [...new Map(targets.map((t) => [t.scriptHex, t])).values()];
    return wallet.send({ from: [wallet.funder], to: unique.map((t) => ({ script: t.script, value: BigInt(random.int(2_000_000, 90_000_000)) })) });
  }

  /** A withdrawal to an outside address, change back to custody (HD: the change branch). */
  async function withdraw(c: Custody) {
    const from = c.kind === "single" ? [c.owner] : await hdOwnersWithCoins(c);
    const coins = await wallet.utxosOf(from);
    if (coins.length === 0) return undefined;
    const total = coins.reduce((s, u) => s + u.value, 0n);
    const amount = total / BigInt(random.int(3, 6));
    if (amount < 10_000n) return undefined;
    const change = c.kind === "single" ? c.owner : await nextHdOwner(c, 1);
    return wallet.send({ from, to: [{ script: wallet.miner.script, value: amount }], change });
  }

  async function consolidate(c: Extract<Custody, { kind: "hd" }>) {
    const from = await hdOwnersWithCoins(c);
    if ((await wallet.utxosOf(from)).length < 2) return undefined;
    return wallet.send({ from, to: [], change: await nextHdOwner(c, 1), all: true });
  }

  async function hdOwnersWithCoins(c: Extract<Custody, { kind: "hd" }>) {
    const truth = await computeTruth(rpc, { [c.label]: truthScripts[c.label]! });
    const scripts = new Set(truth.utxos[c.label]!.map((u) => u.scriptHex));
    const owners: RigOwner[] = [];
    for (const b of [0, 1]) for (let i = 0; i < MAX_INDEX; i++) if (scripts.has(c.account.owner(b, i).scriptHex)) owners.push(c.account.owner(b, i));
    return owners;
  }

  /** A deposit and a spend of that deposit in the same block (the spend matches an output of its own block). */
  async function depositAndSpendInOneBlock() {
    const c = random.pick(singles().filter((s) => s.owner.kind !== "p2tr"));
    const dep = await wallet.send({ from: [wallet.funder], to: [{ script: c.owner.script, value: 30_000_000n }] });
    const coins = outputsTo(dep.tx, c.owner);
    const hd = hds()[0]!;
    return wallet.send({ from: [c.owner], coins, to: [{ script: (await nextHdOwner(hd, 0)).script, value: 10_000_000n }], change: c.owner });
  }

  async function randomActions(n: number) {
    for (let i = 0; i < n; i++) {
      const r = random.next();
      if (r < 0.35) await deposit();
      else if (r < 0.6) await withdraw(random.pick(custody));
      else if (r < 0.72) await consolidate(random.pick(hds()));
      else if (r < 0.82) await withdraw(random.pick(custody.filter((c) => c.label.includes("multi") || c.label.includes("sortedmulti"))));
      else if (r < 0.92) await withdraw(random.pick(custody.filter((c) => c.label.includes("tr") || c.label.includes("p2tr"))));
      else await depositAndSpendInOneBlock();
      if (random.next() < 0.6) await wallet.mine(1);
    }
    await wallet.mine(1);
  }

  // ------------------------------------------------------------------ the scenario

  it("indexes a random custody workload with reorgs and kill -9, equal to the truth at every height", async () => {
    // 1. Activity before the first index run, so the first catch-up has custody data to crash in.
    await randomActions(8);
    // Every single-sig script type (P2PKH, P2SH-P2WPKH, P2WPKH, P2TR, P2WSH 2-of-3) receives and spends.
    await wallet.send({ from: [wallet.funder], to: singles().map((c) => ({ script: c.owner.script, value: 80_000_000n })) });
    await wallet.mine(1);
    for (const c of singles()) await withdraw(c);
    await wallet.mine(1);
    for (const c of hds()) {
      // Walk each HD wallet past its initial gap window: deposits at gap, 2*gap, 3*gap.
      for (let k = 0; k < 3; k++) {
        await wallet.send({ from: [wallet.funder], to: [{ script: (await nextHdOwner(c, 0, { stretch: true })).script, value: 5_000_000n }] });
        await wallet.mine(1);
      }
    }
    // Every HD wallet also pays out once, its change going to the change branch (branch 1).
    for (const c of hds()) await withdraw(c);
    await wallet.mine(1);

    // The workload did what it claims: every wallet saw money, every HD wallet was used past its
    // initial gap window on the receive branch and had change on branch 1, and coins left every
    // single-sig script type (P2TR and 2-of-3 included).
    // (Checked before any reorg, which may later drop some of these blocks; the per-height
    // comparison keeps covering them in every later round's history.)
    const final = await computeTruth(rpc, truthScripts);
    for (const c of custody) expect(final.balances[c.label]!.some((b) => b > 0n), c.label).toBe(true);
    for (const c of hds()) {
      const used = (b: number) => Array.from({ length: MAX_INDEX }, (_, i) => i).filter((i) => final.received.has(c.account.owner(b, i).scriptHex));
      expect(Math.max(...used(0)), `${c.label} receive branch`).toBeGreaterThanOrEqual(2 * c.gapLimit);
      expect(used(1).length, `${c.label} change branch`).toBeGreaterThan(0);
    }
    for (const c of singles()) {
      const series = final.balances[c.label]!;
      const decreased = series.some((b, h) => h > 0 && b < series[h - 1]!);
      expect(decreased, `${c.label} was spent from`).toBe(true);
    }
    // 2. First catch-up (~500 blocks) with kill -9 at random heights, then to completion.
    const tip = await rpc.call<number>("getblockcount");
    let killHeight = 0;
    for (let k = 0; k < 3; k++) {
      killHeight = random.int(Math.max(killHeight + 1, k === 0 ? 1 : workloadStart), tip - 1);
      const r = await runIndexer({ killAtHeight: killHeight });
      if (r.signal === "SIGKILL") {
        kills++;
        if (r.killedAt !== undefined && r.killedAt < tip) killsMidCatchUp++;
      } else {
        expect(r.code, r.stderr.slice(-3000)).toBe(0);
      }
      // Whatever instant the kill hit, what is stored is exact up to the stored cursor.
      await checkAgainstTruth(`after kill ${k}`, { exact: false });
    }
    await indexAndCheck("first catch-up");

    // 3. A reorg that drops a custody deposit.
    {
      const c = random.pick(singles());
      const before = (await computeTruth(rpc, truthScripts)).balances[c.label]!;
      await wallet.send({ from: [wallet.funder], to: [{ script: c.owner.script, value: 12_345_678n }] });
      await wallet.mine(1);
      await indexAndCheck("deposit to be dropped");
      const dropped = await wallet.reorg({ depth: 2, extra: 1 });
      const after = await computeTruth(rpc, truthScripts);
      expect(after.balances[c.label]!.at(-1)).toBe(before.at(-1));
      expect(after.hashes).not.toContain(dropped.dropped[0]);
      await indexAndCheck("reorg dropped a deposit");
    }

    // 4. A reorg that moves a spend to a later block (same txid, new height).
    {
      const c = hds().find((h) => h.label === "hd-wsh-sortedmulti")!;
      const spend = (await withdraw(c)) ?? (await withdraw(singles()[0]!))!;
      await wallet.mine(1);
      const spendHeight = await rpc.call<number>("getblockcount");
      await indexAndCheck("spend to be moved");
      await wallet.reorg({
        depth: 1,
        extra: 0,
        between: async () => {
          await wallet.mine(1); // an empty block first: the spend lands one block later
          await wallet.broadcast(spend.tx);
        },
      });
      const moved = await computeTruth(rpc, truthScripts);
      const blockAt = async (h: number) => (await rpc.fetchBlock(moved.hashes[h]!)).transactions!.map((t) => t.getId());
      expect(await blockAt(spendHeight)).not.toContain(spend.txid);
      expect(await blockAt(spendHeight + 1)).toContain(spend.txid);
      await indexAndCheck("reorg moved a spend");
    }

    // 4b. A conflicted spend (TESTING.md A5): custody coins spent by A to an outside address; the
    // reorg drops A and the new branch spends the same coins with B, to another custody wallet.
    {
      const from = singles().find((c) => c.owner.kind === "p2sh-p2wpkh")!;
      await wallet.send({ from: [wallet.funder], to: [{ script: from.owner.script, value: 25_000_000n }] });
      await wallet.mine(1);
      const a = (await withdraw(from))!;
      await wallet.mine(1);
      await indexAndCheck("spend to be conflicted");
      const to = singles().find((c) => c.owner.kind === "p2wpkh")!;
      let b: Awaited<ReturnType<typeof wallet.send>> | undefined;
      await wallet.reorg({
        depth: 1,
        extra: 1,
        between: async () => {
          b = await wallet.send({ from: [from.owner], coins: a.spent, to: [{ script: to.owner.script, value: 1_000_000n }], change: from.owner });
        },
      });
      const blocks = await Promise.all((await computeTruth(rpc, {})).hashes.slice(-3).map((h) => rpc.fetchBlock(h)));
      const ids = blocks.flatMap((blk) => blk.transactions!.map((t) => t.getId()));
      expect(ids).toContain(b!.txid);
      expect(ids).not.toContain(a.txid);
      await indexAndCheck("reorg replaced a spend by a conflicting one");
    }

    // 5. Random rounds: actions, sometimes a reorg (depth < finality), sometimes a kill during catch-up.
    for (let round = 0; round < 4; round++) {
      await randomActions(random.int(2, 5));
      if (random.next() < 0.5) {
        const depth = random.int(1, FINALITY - 2);
        await wallet.reorg({
          depth,
          extra: random.int(0, 2),
          between: async () => {
            if (random.next() < 0.5) await randomActions(1);
          },
        });
      }
      if (random.next() < 0.5) {
        // Mine a stretch so the restart has something to catch up on, and kill it in the middle.
        await wallet.mine(random.int(15, 40));
        const from = readCursorHeight() ?? 0;
        const to = await rpc.call<number>("getblockcount");
        const r = await runIndexer({ killAtHeight: random.int(from + 1, to - 1) });
        if (r.signal === "SIGKILL") {
          kills++;
          if (r.killedAt !== undefined && r.killedAt < to) killsMidCatchUp++;
        }
        await checkAgainstTruth(`round ${round} after kill`, { exact: false });
      }
      await indexAndCheck(`round ${round}`);
    }
    // 5b. Follow mode (no --once): reorgs happen while the indexer is polling the node, so they
    // are met as a parent-hash mismatch in the middle of catching up, not only at start.
    {
      const child = spawn(process.execPath, [BIN, "index", "--chain", CHAIN, "--config", configPath, "--log-format", "json"], {
        cwd: ROOT,
        env: childEnv(node.authUrl),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
      child.stdout!.resume();
      const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const caughtUp = async () => {
        const tip = await rpc.call<number>("getblockcount");
        for (let i = 0; i < 2400 && (readCursorHeight() ?? -1) < tip; i++) await new Promise((r) => setTimeout(r, 50));
        expect(readCursorHeight(), `follower did not reach ${tip}:\n${stderr.slice(-2000)}`).toBe(tip);
      };
      try {
        await caughtUp();
        for (let k = 0; k < 3; k++) {
          await randomActions(2);
          // The follower must hold the blocks the reorg replaces, or there is nothing to roll back.
          await caughtUp();
          await wallet.reorg({ depth: random.int(1, 3), extra: random.int(0, 2), between: () => randomActions(1) });
          await caughtUp();
        }
      } finally {
        child.kill("SIGTERM");
      }
      expect(await exit, stderr.slice(-2000)).toBe(0);
      expect(stderr).toMatch(/"msg":"reorg"/);
      await checkAgainstTruth("follow mode with reorgs", { exact: true });
    }

    // 6. A reorg while the indexer is down, crossing a kill: the restart re-validates its tip first.
    await wallet.reorg({ depth: 3, extra: 2, between: () => randomActions(1) });
    const r = await runIndexer({ killAfterMs: random.int(300, 1500) });
    if (r.signal === "SIGKILL") kills++;
    await indexAndCheck("reorg while down, killed restart");

    expect(kills).toBeGreaterThan(0);
    expect(killsMidCatchUp).toBeGreaterThan(0);
    // ~100 s on a quiet 2-core machine; a real node, several hundred blocks and 5-10 restarts.
  }, 600_000);

  // ------------------------------------------------------------------ bad input

  describe("bad input: a clear typed error, and the store unchanged", () => {
    it("malformed config: every problem reported with its path, nothing written", async () => {
      const before = dumpStore();
      const bad = join(dir, "bad.json");
      const hd = hds()[0]!;
      const body = hd.account.descriptor;
      const wrongChecksum = `${body}#${computeDescriptorChecksum(body).replace(/.$/, (c) => (c === "q" ? "p" : "q"))}`;
      const mainnetAddress = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
      await writeConfig(bad, {
        sqlitePath,
        wallets: [
          { label: "a", chain: CHAIN, descriptor: wrongChecksum },
          { label: "b", chain: CHAIN, address: mainnetAddress },
          { label: "c", chain: CHAIN, address: "not-an-address" },
        ],
      });
      const r = await runIndexer({ config: bad });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/CONFIG__/);
      expect(r.stderr).toMatch(/wallets\[0\]\.descriptor: invalid checksum/);
      expect(r.stderr).toMatch(/wallets\[1\]\.address: .*mainnet address, not a regtest one/);
      expect(r.stderr).toMatch(/wallets\[2\]\.address: /);
      await writeFile(bad, "{ this is not json");
      const r2 = await runIndexer({ config: bad });
      expect(r2.code).toBe(1);
      expect(r2.stderr).toMatch(/CONFIG__/);
      console.log(`malformed config -> ${r.stderr.trim()}\nnot JSON -> ${r2.stderr.trim()}`);
      expect(dumpStore()).toBe(before);
    });

    it("unreachable node: RPC error after retries, nothing written", async () => {
      const before = dumpStore();
      const closed = await new Promise<number>((res) => {
        const s = createServer();
        s.listen(0, "127.0.0.1", () => {
          const port = (s.address() as { port: number }).port;
          s.close(() => res(port));
        });
      });
      const cfg = join(dir, "unreachable.json");
      await writeConfig(cfg, { sqlitePath, rpcTimeoutMs: 1000 });
      const r = await runIndexer({ config: cfg, rpcUrl: `http://x:${node.pass}@127.0.0.1:${closed}/` });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error RPC__/);
      console.log(`unreachable node (${Math.round(r.ms)} ms) -> ${r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).join(" | ")}`);
      // The API key is a secret: never printed.
      expect(r.stderr).not.toContain(node.pass);
      expect(dumpStore()).toBe(before);
    });

    it("wrong network: a mainnet config against the regtest node is refused before anything is written", async () => {
      const before = dumpStore();
      const cfg = join(dir, "mainnet.json");
      await writeConfig(cfg, {
        sqlitePath,
        chain: "bitcoin",
        wallets: [{ label: "main", chain: CHAIN, address: "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" }],
      });
      const r = await runIndexer({ config: cfg });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error CHAIN__WRONG_NETWORK/);
      expect(healthOf()).toEqual({ state: "halted", last_error_code: "CHAIN__WRONG_NETWORK" });
      console.log(`wrong network -> ${r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).join(" | ")}`);
      expect(dumpStore()).toBe(before);
    });

    it("a node that lies about a block's parent hash: refused, store unchanged; the honest node then indexes it", async () => {
      await wallet.send({ from: [wallet.funder], to: [{ script: singles()[0]!.owner.script, value: 7_000_000n }] });
      const [liedAbout] = await wallet.mine(1);
      const before = dumpStore();
      const cursorBefore = readCursorHeight();
      const proxy = await startLyingProxy(node, liedAbout!);
      try {
        const r = await runIndexer({ rpcUrl: `http://x:${node.pass}@127.0.0.1:${proxy.port}/` });
        expect(proxy.lies()).toBeGreaterThan(0);
        expect(r.code, r.stderr.slice(-2000)).toBe(1);
        expect(r.stderr).toMatch(/error [A-Z_]+__[A-Z_]+/);
        console.log(`lying node -> ${r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).join(" | ")}`);
        expect(readCursorHeight()).toBe(cursorBefore);
        expect(dumpStore()).toBe(before);
      } finally {
        await new Promise((res) => proxy.server.close(res));
      }
      await indexAndCheck("after the lying node");
    });

    it("a reorg as deep as finality halts the indexer with a typed error, store unchanged (runs last)", async () => {
      await indexAndCheck("before the deep reorg");
      const before = dumpStore();
      await wallet.reorg({ depth: FINALITY, extra: 1 });
      const r = await runIndexer();
      expect(r.code, r.stderr.slice(-2000)).toBe(1);
      expect(r.stderr).toMatch(/error CHAIN__DEEP_REORG/);
      expect(healthOf()).toEqual({ state: "halted", last_error_code: "CHAIN__DEEP_REORG" });
      // `status --offline` shows it from the store alone (no node call): halted, the error, the tip it last read.
      const status = spawnSync(process.execPath, [BIN, "status", "--json", "--offline", "--config", configPath], { cwd: ROOT, env: childEnv("http://x:y@127.0.0.1:9/"), encoding: "utf8", timeout: 120_000 });
      expect(status.status, status.stderr).toBe(0);
      const [line] = JSON.parse(status.stdout) as Array<{ state: string; lastError: { code: string } | null; tip: number | null; lastSeen: { tip: number } | null; wallets: { active: number } }>;
      expect(line).toMatchObject({ state: "halted", lastError: { code: "CHAIN__DEEP_REORG" }, tip: null, wallets: { active: custody.length } });
      expect(line!.lastSeen!.tip).toBe(await rpc.call<number>("getblockcount"));
      console.log(`deep reorg -> ${r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).join(" | ")}`);
      expect(dumpStore()).toBe(before);
    });
  });
});

/** An HTTP proxy in front of bcoin that rewrites the previous-block hash in one block's raw bytes. */
async function startLyingProxy(node: BcoinNode, hash: string): Promise<{ server: Server; port: number; lies: () => number }> {
  let lies = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const upstream = await fetch(node.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: req.headers.authorization ?? "" },
      body,
    });
    let text = await upstream.text();
    try {
      const request = JSON.parse(body) as { method?: string; params?: unknown[] };
      if (request.method === "getblock" && request.params?.[0] === hash) {
        const answer = JSON.parse(text) as { result: string };
        // Header bytes 4..36 are the parent hash: replace them with a plausible-looking other hash.
        const raw = answer.result;
        answer.result = raw.slice(0, 8) + "ab".repeat(32) + raw.slice(72);
        text = JSON.stringify(answer);
        lies++;
      }
    } catch {
      // not JSON: pass through
    }
    res.writeHead(upstream.status, { "content-type": "application/json" });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port, lies: () => lies };
}
