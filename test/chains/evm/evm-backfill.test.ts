// Issue 8 item 2 on EVM: a wallet added to a store that already indexes its chain is backfilled exactly, for
// that wallet alone, before it counts. ~200 blocks are indexed with wallet A; wallet B received ETH and a
// token at height ~50 and moved some later (to A and outside); B is added with a birthday 40 blocks in and
// the indexer restarted: B is `pending` while its backfill runs (seen from inside its own RPC batches), then
// `active`; its stored native balance equals the node's at every stored height >= its birthday, its token
// balance at every height (the token moves on logs only) and so at every full read and the cursor; its legs
// name their transactions; A is unaffected. Before the change B stayed pending ("EVM backfill not available").
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvmIndexer } from "../../../src/chains/evm/create-evm-adapter.js";
import type { PonderSupervisor } from "../../../src/chains/evm/create-ponder-supervisor.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadBalances, loadCursor, loadFullReadHeights, loadSilentChanges, loadWalletStates, saveWallets, type Store, type WalletStatus } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { checkStoreAgainstNode, startEvmDevnet, type EvmDevnet } from "../../rig/evm.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "warn", format: "json" });
const SNAPSHOT = 20;
const REFUSED = /^(debug_|trace_)|^eth_getBlockReceipts$|^eth_getTransactionReceipt$/;

/** A forwarding JSON-RPC proxy that counts methods and calls `onBatch` (awaited) before forwarding a JSON-RPC batch. */
async function startProxy(upstream: string) {
  const calls = new Map<string, number>();
  let onBatch: ((methods: string[]) => Promise<void>) | undefined;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { method: string } | Array<{ method: string }>;
    const list = Array.isArray(body) ? body : [body];
    for (const r of list) calls.set(r.method, (calls.get(r.method) ?? 0) + 1);
    if (Array.isArray(body) && onBatch) await onBatch(list.map((r) => r.method)).catch(() => undefined);
    const r = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) }).catch(() => null);
    res.writeHead(r?.status ?? 502, { "content-type": "application/json" });
    res.end(r ? await r.text() : "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    setOnBatch: (f: typeof onBatch) => (onBatch = f),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("EVM: a wallet added later is backfilled exactly before it counts (anvil)", () => {
  let dev: EvmDevnet;
  let dir: string;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let start: number;
  let firstTip: number;
  let tip: number;
  let USDX: Address;
  let a: Address;
  let b: Address;
  const tx: Record<string, Hex> = {};

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "backstop-evm-backfill-"));
    dev = await startEvmDevnet({ chainId: 31337 });
    proxy = await startProxy(dev.anvil.rpcUrl);
    const [funder, wa, wb, ext] = dev.accounts as [Address, Address, Address, Address];
    a = wa;
    b = wb;
    const head = async () => Number(await dev.client.getBlockNumber({ cacheTime: 0 }));
    const mineTo = async (h: number) => {
      const n = h - (await head());
      if (n > 0) await dev.client.mine({ blocks: n });
    };
    const send = async (p: Promise<Hex>) => {
      const hash = await p;
      await dev.client.waitForTransactionReceipt({ hash });
      return hash;
    };
    start = (await head()) + 1;
    USDX = await dev.deploy("TestToken", ["USDX", 6]);
    await send(dev.write(USDX, "TestToken", "mint", [a, 5_000_000_000n], funder));
    await send(dev.client.sendTransaction({ account: funder, to: a, value: parseEther("7"), chain: null }));
    // B: nothing before its birthday (start + 40); funds at ~50, moves later.
    await mineTo(start + 49);
    tx.ethIn = await send(dev.client.sendTransaction({ account: funder, to: b, value: parseEther("5"), chain: null }));
    tx.usdxIn = await send(dev.write(USDX, "TestToken", "mint", [b, 1_000_000_000n], funder));
    await mineTo(start + 99);
    tx.ethOut = await send(dev.client.sendTransaction({ account: b, to: ext, value: parseEther("1"), chain: null }));
    await mineTo(start + 129);
    tx.usdxToA = await send(dev.write(USDX, "TestToken", "transfer", [a, 300_000_000n], b));
    await mineTo(start + 159);
    tx.aToB = await send(dev.client.sendTransaction({ account: a, to: b, value: parseEther("0.5"), chain: null }));
    tx.usdxOut = await send(dev.write(USDX, "TestToken", "transfer", [ext, 50_000_000n], b));
    await mineTo(start + 199);
    firstTip = await head();
    // After the first run: B moves again (the follower indexes it once B counts).
    await mineTo(firstTip + 2);
    tx.late = await send(dev.client.sendTransaction({ account: funder, to: b, value: parseEther("0.25"), chain: null }));
    await dev.client.mine({ blocks: 3 });
    tip = await head();
  }, 240_000);
  afterAll(async () => {
    await proxy?.close();
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(STORE_KINDS)("B pending until backfilled, then exact from its birthday; A unaffected (%s store)", async (kind) => {
    const s = await openTestStore(kind);
    let sup: PonderSupervisor | undefined;
    const birthday = start + 40;
    const config = (withB: boolean) =>
      resolveConfig({
        path: "test",
        env: s.params.databaseUrl ? { DATABASE_URL: s.params.databaseUrl, BACKSTOP_PG_SCHEMA: s.params.pgSchema } : {},
        input: {
          ...(s.params.sqlitePath ? { store: { sqlitePath: s.params.sqlitePath } } : {}),
          chains: { eth: { chain: "anvil", rpc: [proxy.url], startHeight: start, pollIntervalMs: 200, finalityDepth: 5, snapshotInterval: SNAPSHOT } },
          assets: { ETH: { chain: "eth", decimals: 18, native: true }, USDX: { chain: "eth", decimals: 6, address: USDX } },
          wallets: [{ label: "A", chain: "eth", address: a }, ...(withB ? [{ label: "B", chain: "eth", address: b, birthday }] : [])],
        },
      });
    const ponderDir = path.join(dir, `ponder-${kind}`);
    const stateOfB = async (store: Store): Promise<WalletStatus | undefined> => (await loadWalletStates(store, { chain: "eth" })).find((w) => w.label === "B");
    try {
      await createEvmIndexer({ config: config(false), chainKey: "eth", store: s.store, logger }, { ponderDir, ponderDatabase: "pglite", onSupervisor: (x) => (sup = x) }).run({ once: true, to: firstTip });
      await sup?.stop();
      sup = undefined;
      expect((await loadCursor(s.store, "eth"))?.height).toBe(firstTip);
      const [wa] = await saveWallets(s.store, [{ chain: "eth", label: "A", kind: "address", address: a }]);
      const rowsOfA = async () => (await s.store.db.select().from(s.store.t.balanceChanges)).filter((r) => Number(r.walletId) === wa!.id && Number(r.height) <= firstTip).map((r) => [Number(r.height), r.asset, r.txid, BigInt(r.delta), BigInt(r.balanceAfter)]);
      const aBefore = await rowsOfA();

      // Restart with B: while its backfill reads the node (JSON-RPC batches), B is pending and not counted.
      const seen: Array<{ state: string; reason: string | null }> = [];
      proxy.setOnBatch(async (methods) => {
        if (!methods.includes("eth_getBlockByNumber") && !methods.includes("eth_call")) return;
        const w = await stateOfB(s.store);
        if (w) seen.push({ state: w.state, reason: w.reason });
      });
      proxy.calls.clear();
      await createEvmIndexer({ config: config(true), chainKey: "eth", store: s.store, logger }, { ponderDir, ponderDatabase: "pglite", onSupervisor: (x) => (sup = x) }).run({ once: true });
      proxy.setOnBatch(undefined);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((x) => x.state === "pending" && /backfilled/.test(x.reason ?? ""))).toBe(true);
      expect([...proxy.calls.keys()].filter((m) => REFUSED.test(m))).toEqual([]);

      const wb = (await stateOfB(s.store))!;
      expect(wb).toMatchObject({ state: "active", source: "rescan", exactFrom: birthday, birthday, activeHeight: tip });
      expect((await loadCursor(s.store, "eth"))?.height).toBe(tip);

      const ids = await saveWallets(s.store, [
        { chain: "eth", label: "A", kind: "address", address: a },
        { chain: "eth", label: "B", kind: "address", address: b },
      ]);
      const [idA, idB] = ids.map((w) => w.id) as [number, number];
      // B: native and USDX exact at every stored height from its birthday to the tip (USDX moves on logs only).
      const exactB = await checkStoreAgainstNode({ store: s.store, chain: "eth", rpcUrl: dev.anvil.rpcUrl, fromHeight: birthday, toHeight: tip, wallets: [{ id: idB, address: b }], assets: [{ id: "ETH", token: null }, { id: "USDX", token: USDX }] });
      expect(exactB.heights).toBe(tip - birthday + 1);
      expect(exactB.mismatches).toEqual([]);
      const fullReads = await loadFullReadHeights(s.store, { chain: "eth", fromHeight: birthday });
      expect(fullReads.length).toBeGreaterThan(5);
      const atReads = new Map((await Promise.all([...fullReads, firstTip].map(async (h) => [h, (await loadBalances(s.store, { chain: "eth", atHeight: h })).find((x) => x.walletId === idB && x.asset === "USDX")?.amount ?? 0n] as const))));
      expect(atReads.get(firstTip)).toBe(1_000_000_000n - 300_000_000n - 50_000_000n);
      expect(await loadSilentChanges(s.store, { chain: "eth" })).toEqual([]);
      // Only heights where B's balance changed are written, with the indexer's attribution.
      const rowsB = (await s.store.db.select().from(s.store.t.balanceChanges)).filter((r) => Number(r.walletId) === idB);
      expect(rowsB.every((r) => Number(r.height) >= birthday && BigInt(r.delta) !== 0n)).toBe(true);
      expect(rowsB.filter((r) => r.asset === "ETH" && r.txid !== null).map((r) => r.txid)).toEqual(expect.arrayContaining([tx.ethIn, tx.ethOut, tx.aToB, tx.late]));
      const legs = (await s.store.db.select().from(s.store.t.transfers)).filter((l) => Number(l.walletId) === idB);
      const leg = (txid: string) => legs.filter((l) => l.txid === txid).map((l) => [l.asset, l.direction, BigInt(l.amount), l.counterpartyWalletId === null ? null : Number(l.counterpartyWalletId)]);
      expect(leg(tx.ethIn!)).toEqual([["ETH", "in", parseEther("5"), null]]);
      expect(leg(tx.aToB!)).toEqual([["ETH", "in", parseEther("0.5"), idA]]);
      expect(leg(tx.usdxIn!)).toEqual([["USDX", "in", 1_000_000_000n, null]]);
      expect(leg(tx.usdxToA!)).toEqual([["USDX", "out", 300_000_000n, idA]]);

      // A: its rows up to the first cursor untouched, and exact at every height.
      expect(await rowsOfA()).toEqual(aBefore);
      const exactA = await checkStoreAgainstNode({ store: s.store, chain: "eth", rpcUrl: dev.anvil.rpcUrl, fromHeight: start, toHeight: tip, wallets: [{ id: idA, address: a }], assets: [{ id: "ETH", token: null }, { id: "USDX", token: USDX }] });
      expect(exactA.mismatches).toEqual([]);
    } finally {
      await sup?.stop();
      await s.dispose();
    }
  }, 600_000);
});
