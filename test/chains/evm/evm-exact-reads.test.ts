// Issue 9: exact native balances at every stored block and exact tokens at every full read, with no
// debug_*, trace_* or receipt method (the indexer runs through a proxy that refuses them all), silent token
// changes reported at the first full read after them, and every custody transaction or Transfer named.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvmIndexer } from "../../../src/chains/evm/create-evm-adapter.js";
import type { PonderSupervisor } from "../../../src/chains/evm/create-ponder-supervisor.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { isBackstopError } from "../../../src/lib/errors.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadBalanceLines, loadCursor, loadFullReadHeights, loadSilentChanges, loadUnattributedChanges, saveWallets } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { checkStoreAgainstNode, startEvmDevnet, type EvmDevnet } from "../../rig/evm.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "warn", format: "json" });
const SNAPSHOT = 5;
const REFUSED = /^(debug_|trace_)|^eth_getBlockReceipts$|^eth_getTransactionReceipt$/;

/** A JSON-RPC proxy that refuses `refuse` methods (error -32601) and counts every method it is asked for. */
async function startRefusingProxy(upstream: string, refuse: RegExp) {
  const calls = new Map<string, number>();
  const refused = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { id: unknown; method: string } | Array<{ id: unknown; method: string }>;
    const list = Array.isArray(body) ? body : [body];
    for (const r of list) calls.set(r.method, (calls.get(r.method) ?? 0) + 1);
    const bad = list.filter((r) => refuse.test(r.method));
    if (bad.length) {
      for (const r of bad) refused.set(r.method, (refused.get(r.method) ?? 0) + 1);
      const errors = list.map((r) => ({ jsonrpc: "2.0", id: r.id, error: { code: -32601, message: `the method ${r.method} does not exist/is not available` } }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(Array.isArray(body) ? errors : errors[0]));
      return;
    }
    const r = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) }).catch(() => null);
    res.writeHead(r?.status ?? 502, { "content-type": "application/json" });
    res.end(r ? await r.text() : "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, calls, refused, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("EVM exact reads without debug, trace or receipt methods (anvil)", () => {
  let dev: EvmDevnet;
  let dir: string;
  let proxy: Awaited<ReturnType<typeof startRefusingProxy>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "backstop-evm-exact-"));
    dev = await startEvmDevnet({ chainId: 31337 });
    proxy = await startRefusingProxy(dev.anvil.rpcUrl, REFUSED);
  });
  afterAll(async () => {
    await proxy?.close();
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(STORE_KINDS)("native exact at every stored block, tokens at every full read, silent changes and attribution (%s store)", async (kind) => {
    const [funder, c1, c2, ext] = dev.accounts as [Address, Address, Address, Address];
    const tx = async (p: Promise<Hex>) => {
      const hash = await p;
      const r = await dev.client.waitForTransactionReceipt({ hash });
      return { hash, block: Number(r.blockNumber) };
    };
    const start = Number(await dev.client.getBlockNumber({ cacheTime: 0 })) + 1;
    const USDX = await dev.deploy("TestToken", ["USDX", 6]);
    const REB = await dev.deploy("RebaseToken", ["REB", 18]);
    const BURN = await dev.deploy("BurnToken", ["BURN", 18]);
    const vault = await dev.deploy("ContractWallet", []);
    await tx(dev.write(USDX, "TestToken", "mint", [c1, 1_000_000_000n], funder));
    await tx(dev.write(REB, "RebaseToken", "mint", [c1, parseEther("5")], funder));
    await tx(dev.write(BURN, "BurnToken", "mint", [c2, parseEther("9")], funder));
    await tx(dev.client.sendTransaction({ account: funder, to: vault, value: parseEther("2"), chain: null }));
    const internal = await tx(dev.client.sendTransaction({ account: funder, to: c1, value: parseEther("3"), chain: null }));
    const usdx = await tx(dev.write(USDX, "TestToken", "transfer", [c2, 250_000_000n], c1)); // custody to custody
    const out = await tx(dev.client.sendTransaction({ account: c1, to: ext, value: parseEther("1"), chain: null }));
    // A beacon-withdrawal-like change: the balance moves between two blocks, no transaction at all. (Anvil
    // applies anvil_setBalance to the state of its latest block, even by hash: the indexer runs afterwards.)
    const before = await dev.client.getBalance({ address: c2 });
    const setAt = Number(await dev.client.getBlockNumber({ cacheTime: 0 }));
    await dev.client.request({ method: "anvil_setBalance" as never, params: [c2, `0x${(before + parseEther("32")).toString(16)}`] as never });
    await dev.client.mine({ blocks: 1 });
    const rebase = await tx(dev.write(REB, "RebaseToken", "rebase", [parseEther("1.1")], funder)); // no Transfer log
    const burn = await tx(dev.write(BURN, "BurnToken", "burnSilently", [c2, parseEther("4")], funder)); // no Transfer log
    const pay = await tx(dev.write(vault, "ContractWallet", "pay", [ext, parseEther("0.5")], funder)); // internal ETH out of a custody contract
    await dev.client.mine({ blocks: SNAPSHOT + 1 });
    const tip = Number(await dev.client.getBlockNumber({ cacheTime: 0 }));

    const s = await openTestStore(kind);
    let sup: PonderSupervisor | undefined;
    try {
      const config = resolveConfig({
        path: "test",
        env: s.params.databaseUrl ? { DATABASE_URL: s.params.databaseUrl, BACKSTOP_PG_SCHEMA: s.params.pgSchema } : {},
        input: {
          ...(s.params.sqlitePath ? { store: { sqlitePath: s.params.sqlitePath } } : {}),
          chains: { eth: { chain: "anvil", rpc: [proxy.url], startHeight: start, pollIntervalMs: 200, finalityDepth: 5, snapshotInterval: SNAPSHOT } },
          assets: {
            ETH: { chain: "eth", decimals: 18, native: true },
            USDX: { chain: "eth", decimals: 6, address: USDX },
            REB: { chain: "eth", decimals: 18, address: REB },
            BURN: { chain: "eth", decimals: 18, address: BURN },
          },
          wallets: [
            { label: "hot", chain: "eth", address: c1 },
            { label: "cold", chain: "eth", address: c2 },
            { label: "vault", chain: "eth", address: vault },
          ],
        },
      });
      proxy.calls.clear();
      proxy.refused.clear();
      await createEvmIndexer({ config, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, `ponder-${kind}`), ponderDatabase: "pglite", onSupervisor: (x) => (sup = x) }).run({ once: true });
      expect((await loadCursor(s.store, "eth"))?.height).toBe(tip);
      // Nobody even asked for a debug, trace or receipt method.
      expect(Object.fromEntries(proxy.refused)).toEqual({});
      expect([...proxy.calls.keys()].filter((m) => REFUSED.test(m))).toEqual([]);

      const wallets = await saveWallets(s.store, [
        { chain: "eth", label: "hot", kind: "address", address: c1 },
        { chain: "eth", label: "cold", kind: "address", address: c2 },
        { chain: "eth", label: "vault", kind: "address", address: vault },
      ]);
      const id = Object.fromEntries(wallets.map((w) => [w.label, w.id])) as Record<"hot" | "cold" | "vault", number>;
      const ws = wallets.map((w) => ({ id: w.id, address: w.address as Address }));
      // Native (and USDX, which moves on logs only): exact at every stored height.
      const native = await checkStoreAgainstNode({ store: s.store, chain: "eth", rpcUrl: dev.anvil.rpcUrl, fromHeight: start, toHeight: tip, wallets: ws, assets: [{ id: "ETH", token: null }, { id: "USDX", token: USDX }] });
      expect(native.heights).toBe(tip - start + 1);
      expect(native.mismatches).toEqual([]);
      // Silent tokens: exact at every full-read height.
      const fullReads = await loadFullReadHeights(s.store, { chain: "eth" });
      const expectedReads: number[] = [];
      for (let h = start; h <= tip; h += SNAPSHOT) expectedReads.push(h);
      expect(fullReads).toEqual(expectedReads);
      const full = new Set(fullReads);
      const tokens = await checkStoreAgainstNode({ store: s.store, chain: "eth", rpcUrl: dev.anvil.rpcUrl, fromHeight: start, toHeight: tip, wallets: ws, assets: [{ id: "REB", token: REB }, { id: "BURN", token: BURN }], skip: (_a, h) => !full.has(h) });
      expect(tokens.mismatches).toEqual([]);
      expect(tokens.checked).toBe(fullReads.length * 3 * 2);

      // Every silent change at the first full read after it, with both amounts and its block range.
      const firstReadAfter = (b: number) => fullReads.find((h) => h >= b)!;
      const silent = await loadSilentChanges(s.store, { chain: "eth" });
      expect(silent.map((x) => [x.walletId, x.asset, x.height, x.carried, x.observed])).toEqual([
        [id.hot, "REB", firstReadAfter(rebase.block), parseEther("5"), parseEther("5.5")],
        [id.cold, "BURN", firstReadAfter(burn.block), parseEther("9"), parseEther("5")],
      ]);
      for (const [x, b] of [[silent[0]!, rebase.block], [silent[1]!, burn.block]] as const) {
        expect(x.fromHeight).toBeLessThanOrEqual(b);
        expect(x.fromHeight).toBeGreaterThan(Math.max(...fullReads.filter((h) => h < b)));
      }
      expect(await loadSilentChanges(s.store, { sinceId: silent[0]!.id })).toEqual([silent[1]]);

      // Attribution: every top-level custody transaction and every Transfer names its transaction and counterparty.
      const legs = (await s.store.db.select().from(s.store.t.transfers)).map((l) => ({ ...l, height: Number(l.height) }));
      const leg = (txid: string, walletId: number) => legs.filter((l) => l.txid === txid && l.walletId === walletId).map((l) => [l.asset, l.direction, BigInt(l.amount), l.counterparty?.toLowerCase(), l.counterpartyWalletId]);
      expect(leg(internal.hash, id.hot)).toEqual([["ETH", "in", parseEther("3"), funder.toLowerCase(), null]]);
      expect(leg(out.hash, id.hot)).toEqual([["ETH", "out", parseEther("1"), ext.toLowerCase(), null]]);
      expect(leg(usdx.hash, id.hot)).toEqual([["USDX", "out", 250_000_000n, c2.toLowerCase(), id.cold]]);
      expect(leg(usdx.hash, id.cold)).toEqual([["USDX", "in", 250_000_000n, c1.toLowerCase(), id.hot]]);
      // What no visible transaction explains is stored unattributed, with the candidates.
      const un = await loadUnattributedChanges(s.store, { chain: "eth" });
      // (anvil_setBalance rewrites the state of its latest block: the node shows the change at that block.)
      const withdrawal = un.filter((u) => u.walletId === id.cold && u.delta === parseEther("32"));
      expect(withdrawal.map((u) => u.candidates)).toEqual([[]]);
      const withdrawalBlock = withdrawal[0]!.height;
      expect([setAt, setAt + 1]).toContain(withdrawalBlock);
      expect(un.filter((u) => u.height === pay.block).map((u) => [u.walletId, u.delta, u.candidates])).toEqual([[id.vault, -parseEther("0.5"), [pay.hash]]]);
      // c1's gas for its ETH send: unattributed (no receipt), the send named as the candidate.
      const gas = un.find((u) => u.height === out.block && u.walletId === id.hot)!;
      expect(gas.delta < 0n && gas.candidates).toEqual([out.hash]);
      // The balance change rows carry the txid where attributed.
      const changes = await s.store.db.select().from(s.store.t.balanceChanges);
      expect(changes.some((c) => c.txid === out.hash && c.walletId === id.hot && BigInt(c.delta) === -parseEther("1"))).toBe(true);
      expect(changes.filter((c) => Number(c.height) === withdrawalBlock && c.walletId === id.cold).map((c) => [c.asset, c.txid])).toEqual([["ETH", null]]);

      // `balances` reports when a token balance was last read in full.
      const lines = await loadBalanceLines(s.store, config, { chain: "eth" });
      const lastRead = fullReads[fullReads.length - 1]!;
      expect(new Set(lines.filter((l) => l.asset !== "ETH").map((l) => l.verifiedAt))).toEqual(new Set([lastRead]));
      expect(new Set(lines.filter((l) => l.asset === "ETH").map((l) => l.verifiedAt))).toEqual(new Set([tip]));
    } finally {
      await sup?.stop();
      await s.dispose();
    }
  }, 480_000);

  it("refuses at start with EVM__METHOD_UNAVAILABLE naming a method the node does not offer (eth_getLogs), before starting Ponder", async () => {
    const strict = await startRefusingProxy(dev.anvil.rpcUrl, /^eth_getLogs$/);
    const s = await openTestStore("sqlite");
    let sup: PonderSupervisor | undefined;
    try {
      const config = resolveConfig({
        path: "test",
        env: {},
        input: {
          store: { sqlitePath: s.params.sqlitePath },
          chains: { eth: { chain: "anvil", rpc: [strict.url], startHeight: 1, pollIntervalMs: 200, finalityDepth: 5 } },
          assets: { ETH: { chain: "eth", decimals: 18, native: true } },
          wallets: [{ label: "hot", chain: "eth", address: dev.accounts[1]! }],
        },
      });
      const err = await createEvmIndexer({ config, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, "ponder-refuse"), onSupervisor: (x) => (sup = x) }).run({ once: true }).catch((e: unknown) => e);
      expect(isBackstopError(err) && err.code).toBe("EVM__METHOD_UNAVAILABLE");
      expect((err as Error).message).toContain("eth_getLogs");
      expect(sup).toBeUndefined();
      expect(await loadCursor(s.store, "eth")).toBeUndefined();
    } finally {
      await s.dispose();
      await strict.close();
    }
  }, 60_000);
});
