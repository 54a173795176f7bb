import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEther, type Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvmIndexer } from "../../../src/chains/evm/create-evm-adapter.js";
import type { PonderSupervisor } from "../../../src/chains/evm/create-ponder-supervisor.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { isBackstopError } from "../../../src/lib/errors.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadBalanceLines } from "../../../src/cli/balances-command.js";
import { loadBalances, loadCursor, saveWallets } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { checkStoreAgainstNode, startAnvil, startEvmDevnet, type EvmDevnet } from "../../rig/evm.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "warn", format: "json" });
const SNAPSHOT = 4;

describe("EVM indexer on Ponder against anvil", () => {
  let dev: EvmDevnet;
  let dir: string;
  let tokens: { USDX: Address; FEE: Address; REB: Address; fwd: Address };
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "backstop-evm-"));
    dev = await startEvmDevnet({ chainId: 31337 });
    tokens = {
      USDX: await dev.deploy("TestToken", ["USDX", 6]),
      FEE: await dev.deploy("FeeToken", ["FEE", 18, dev.accounts[9]]),
      REB: await dev.deploy("RebaseToken", ["REB", 18]),
      fwd: await dev.deploy("Forwarder", []),
    };
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(STORE_KINDS)("mirrors exact balances of ETH, a plain, a fee-on-transfer and a rebasing token, incl. internal ETH transfers (%s store)", async (kind) => {
    const [funder, c1, c2, ext] = dev.accounts as [Address, Address, Address, Address];
    const w = (token: Address, name: "TestToken" | "FeeToken" | "RebaseToken", fn: string, args: unknown[], from: Address) => dev.write(token, name, fn, args, from);
    // Workload: deposits, withdrawals, custody-to-custody, gas-only, internal ETH, fee, rebase.
    await w(tokens.USDX, "TestToken", "mint", [c1, 1_000_000_000n], funder);
    await w(tokens.FEE, "FeeToken", "mint", [funder, parseEther("100")], funder);
    await w(tokens.FEE, "FeeToken", "transfer", [c2, parseEther("10")], funder);
    await w(tokens.REB, "RebaseToken", "mint", [c1, parseEther("5")], funder);
    await dev.client.sendTransaction({ account: funder, to: c1, value: parseEther("3"), chain: null });
    await w(tokens.USDX, "TestToken", "transfer", [c2, 250_000_000n], c1);
    await w(tokens.USDX, "TestToken", "transfer", [ext, 1_000_000n], c2);
    await dev.client.sendTransaction({ account: c1, to: ext, value: 0n, chain: null }); // gas only
    await dev.write(tokens.fwd, "Forwarder", "forward", [c2], funder, parseEther("0.5")); // internal ETH
    await w(tokens.REB, "RebaseToken", "rebase", [parseEther("1.1")], funder); // no Transfer log
    await w(tokens.FEE, "FeeToken", "transfer", [c1, parseEther("1")], c2);
    await dev.client.mine({ blocks: 3 });

    const sqlite = await openTestStore(kind);
    let sup: PonderSupervisor | undefined;
    try {
      const config = resolveConfig({
        path: "test",
        env: sqlite.params.databaseUrl ? { DATABASE_URL: sqlite.params.databaseUrl, BACKSTOP_PG_SCHEMA: sqlite.params.pgSchema } : {},
        input: {
          ...(sqlite.params.sqlitePath ? { store: { sqlitePath: sqlite.params.sqlitePath } } : {}),
          chains: { eth: { chain: "anvil", rpc: [dev.anvil.rpcUrl], startHeight: 1, pollIntervalMs: 200, finalityDepth: 5, snapshotInterval: SNAPSHOT } },
          assets: {
            ETH: { chain: "eth", decimals: 18, native: true },
            USDX: { chain: "eth", decimals: 6, address: tokens.USDX },
            FEE: { chain: "eth", decimals: 18, address: tokens.FEE },
            REB: { chain: "eth", decimals: 18, address: tokens.REB },
          },
          wallets: [
            { label: "hot", chain: "eth", address: c1 },
            { label: "cold", chain: "eth", address: c2 },
          ],
        },
      });
      const indexer = createEvmIndexer({ config, chainKey: "eth", store: sqlite.store, logger }, { ponderDir: path.join(dir, `ponder-${kind}`), ponderDatabase: "pglite", onSupervisor: (s) => (sup = s) });
      await indexer.run({ once: true });
      const tip = Number(await dev.client.getBlockNumber({ cacheTime: 0 }));
      const cursor = await loadCursor(sqlite.store, "eth");
      expect(cursor?.height).toBe(tip);
      const wallets = await saveWallets(sqlite.store, [
        { chain: "eth", label: "hot", kind: "address", address: c1 },
        { chain: "eth", label: "cold", kind: "address", address: c2 },
      ]);
      const result = await checkStoreAgainstNode({
        store: sqlite.store,
        chain: "eth",
        rpcUrl: dev.anvil.rpcUrl,
        fromHeight: 1,
        toHeight: tip,
        wallets: wallets.map((x) => ({ id: x.id, address: x.address as Address })),
        assets: [
          { id: "ETH", token: null },
          { id: "USDX", token: tokens.USDX },
          { id: "FEE", token: tokens.FEE },
          { id: "REB", token: tokens.REB },
        ],
        // A silent rebase is only visible at snapshot heights (every SNAPSHOT blocks from startHeight).
        skip: (asset, h) => asset === "REB" && (h - 1) % SNAPSHOT !== 0,
      });
      expect(result.heights).toBe(tip);
      expect(result.mismatches).toEqual([]);
      const status = await indexer.fetchStatus();
      expect(status).toEqual({ tip, indexed: tip, finalized: tip - 5 + 1 });

      // A wallet added to the indexed chain: pending with its reason, never counted, until its backfill
      // (evm-backfill.test.ts). (The run stops right after the follower synced its wallets: before the backfill.)
      const later = { ...config, wallets: [...config.wallets, { label: "later", chain: "eth", address: dev.accounts[4]!, gapLimit: 20 }] };
      const ac = new AbortController();
      await createEvmIndexer({ config: later, chainKey: "eth", store: sqlite.store, logger, observer: { onHead: () => ac.abort() } }, { ponderDir: path.join(dir, `ponder-${kind}-later`), ponderDatabase: "pglite" }).run({ once: true, signal: ac.signal });
      const lines = await loadBalanceLines(sqlite.store, later, { chain: "eth" });
      expect(lines.filter((l) => l.wallet === "later").map((l) => [l.state, l.counted, l.amount, l.reason])).toEqual(
        ["ETH", "USDX", "FEE", "REB"].map(() => ["pending", false, null, expect.stringMatching(/^added to an indexed chain: it counts once backfilled from height \d+ to the cursor$/)]),
      );
      expect(lines.filter((l) => l.wallet !== "later").every((l) => l.state === "active" && l.counted)).toBe(true);
    } finally {
      await sup?.stop(); // a `once` run leaves Ponder running for the next round
      await sqlite.dispose();
    }
  }, 480_000);

  it("reorg while Backstop is down: a shallow one is rolled back and re-mirrored, a moved deposit counts from its new block, one deeper than finality halts", async () => {
    const [funder, c1] = dev.accounts as [Address, Address];
    const s = await openTestStore("sqlite");
    let sup: PonderSupervisor | undefined;
    try {
      const config = resolveConfig({
        path: "test",
        env: {},
        input: {
          store: { sqlitePath: s.params.sqlitePath },
          chains: { eth: { chain: "anvil", rpc: [dev.anvil.rpcUrl], startHeight: 1, pollIntervalMs: 200, finalityDepth: 4 } },
          assets: { ETH: { chain: "eth", decimals: 18, native: true } },
          wallets: [{ label: "hot", chain: "eth", address: c1 }],
        },
      });
      const make = () => createEvmIndexer({ config, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, "ponder-reorg"), onSupervisor: (x) => (sup = x) });
      await dev.client.sendTransaction({ account: funder, to: c1, value: parseEther("7"), chain: null });
      await dev.client.mine({ blocks: 6 });
      await make().run({ once: true });
      await sup?.stop();
      // Down: the deposit block is 7 deep; a depth-2 reorg replaces only empty blocks.
      await dev.client.request({ method: "anvil_reorg" as never, params: [2, []] as never });
      await dev.client.sendTransaction({ account: funder, to: c1, value: parseEther("1"), chain: null });
      await make().run({ once: true });
      await sup?.stop();
      const tip = Number(await dev.client.getBlockNumber({ cacheTime: 0 }));
      const head = await dev.client.getBlock({ blockNumber: BigInt(tip) });
      expect(await loadCursor(s.store, "eth")).toMatchObject({ height: tip, hash: head.hash });
      const [wallet] = await saveWallets(s.store, [{ chain: "eth", label: "hot", kind: "address", address: c1 }]);
      const r = await checkStoreAgainstNode({ store: s.store, chain: "eth", rpcUrl: dev.anvil.rpcUrl, fromHeight: 1, toHeight: tip, wallets: [{ id: wallet!.id, address: c1 }], assets: [{ id: "ETH", token: null }] });
      expect(r.mismatches).toEqual([]);

      // TESTING.md A2: a reorg that MOVES a mirrored custody deposit to a later block. Backstop saw the
      // deposit at height d; the new branch (depth 3 < finality 4) carries the same signed transaction
      // one block later. The balance at d must return to the pre-deposit value, and count it from d + 1.
      const moved = await dev.client.sendTransaction({ account: funder, to: c1, value: parseEther("2"), chain: null });
      const d = (await dev.client.waitForTransactionReceipt({ hash: moved })).blockNumber;
      await dev.client.mine({ blocks: 2 });
      await make().run({ once: true });
      await sup?.stop();
      const rawTx = await dev.client.request({ method: "eth_getRawTransactionByHash" as never, params: [moved] as never });
      await dev.client.request({ method: "anvil_reorg" as never, params: [3, [[rawTx, 1]]] as never });
      expect((await dev.client.getTransactionReceipt({ hash: moved })).blockNumber).toBe(d + 1n);
      await make().run({ once: true });
      await sup?.stop();
      const tip2 = Number(await dev.client.getBlockNumber({ cacheTime: 0 }));
      const r2 = await checkStoreAgainstNode({ store: s.store, chain: "eth", rpcUrl: dev.anvil.rpcUrl, fromHeight: 1, toHeight: tip2, wallets: [{ id: wallet!.id, address: c1 }], assets: [{ id: "ETH", token: null }] });
      expect(r2.mismatches).toEqual([]);
      const at = async (h: bigint) => (await loadBalances(s.store, { chain: "eth", atHeight: Number(h), walletId: wallet!.id }))[0]?.amount ?? 0n;
      expect((await at(d + 1n)) - (await at(d))).toBe(parseEther("2"));

      // Down again: a reorg deeper than finality (6 > 4) must stop the chain, not be rolled back silently.
      const before = await loadCursor(s.store, "eth");
      await dev.client.request({ method: "anvil_reorg" as never, params: [6, []] as never });
      const err = await make().run({ once: true }).catch((e: unknown) => e);
      expect(isBackstopError(err) && err.code).toBe("CHAIN__DEEP_REORG");
      expect(await loadCursor(s.store, "eth")).toEqual(before);
    } finally {
      await sup?.stop();
      await s.dispose();
    }
  }, 480_000);

  it("stops with CHAIN__WRONG_NETWORK when the provider switches chains mid-run, rolling nothing back", async () => {
    const [, c1] = dev.accounts as [Address, Address];
    // Same chain id, another genesis: only the genesis hash tells them apart.
    const other = await startAnvil({ chainId: 31337, genesisTimestamp: 1_600_000_000 });
    await fetch(other.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_mine", params: ["0x40"] }) });
    let upstream = dev.anvil.rpcUrl;
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const r = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) }).catch(() => null);
      res.writeHead(r?.status ?? 502, { "content-type": "application/json" });
      res.end(r ? await r.text() : "");
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const s = await openTestStore("sqlite");
    let sup: PonderSupervisor | undefined;
    const ac = new AbortController();
    try {
      const config = resolveConfig({
        path: "test",
        env: {},
        input: {
          store: { sqlitePath: s.params.sqlitePath },
          chains: { eth: { chain: "anvil", rpc: [proxyUrl], startHeight: 1, pollIntervalMs: 200, finalityDepth: 4 } },
          assets: { ETH: { chain: "eth", decimals: 18, native: true } },
          wallets: [{ label: "hot", chain: "eth", address: c1 }],
        },
      });
      const indexer = createEvmIndexer({ config, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, "ponder-switch"), identityCheckMs: 300, onSupervisor: (x) => (sup = x) });
      const running = indexer.run({ signal: ac.signal }).then(() => undefined, (e: unknown) => e);
      const tip = Number(await dev.client.getBlockNumber({ cacheTime: 0 }));
      for (let i = 0; i < 900 && (await loadCursor(s.store, "eth"))?.height !== tip; i++) await new Promise((r) => setTimeout(r, 200));
      const before = await loadCursor(s.store, "eth");
      expect(before?.height).toBe(tip);
      upstream = other.rpcUrl;
      const timeout = setTimeout(() => ac.abort(), 120_000);
      const err = await running;
      clearTimeout(timeout);
      expect(isBackstopError(err) && err.code).toBe("CHAIN__WRONG_NETWORK");
      expect((err as Error).message).toContain("genesis hash");
      expect(await loadCursor(s.store, "eth")).toEqual(before);
    } finally {
      ac.abort();
      await sup?.stop();
      await s.dispose();
      proxy.close();
      await other.stop();
    }
  }, 480_000);
});
