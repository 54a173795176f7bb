import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvmIndexer } from "../../../src/chains/evm/create-evm-adapter.js";
import { validateChainConfig } from "../../../src/chains/validate-chain-config.js";
import { resolveConfig, type ConfigInput } from "../../../src/lib/config.js";
import { isBackstopError } from "../../../src/lib/errors.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadCursor } from "../../../src/store/index.js";
import { openTestStore } from "../../helpers/stores.js";
import { startAnvil, startEvmDevnet, type EvmDevnet } from "../../rig/evm.js";

const logger = createLogger({ level: "silent", format: "json" });

function config(p: { rpcUrl: string; chain?: string; token?: string; wallet?: string; sqlitePath: string }) {
  const input: ConfigInput = {
    store: { sqlitePath: p.sqlitePath },
    chains: { eth: { chain: p.chain ?? "anvil", rpc: [p.rpcUrl], startHeight: 1 } },
    assets: {
      ETH: { chain: "eth", decimals: 18, native: true },
      ...(p.token ? { USDX: { chain: "eth", decimals: 6, address: p.token } } : {}),
    },
    wallets: [{ label: "hot", chain: "eth", address: p.wallet ?? "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" }],
  };
  return resolveConfig({ input, path: "test", env: {} });
}

async function expectNothingWritten(store: Awaited<ReturnType<typeof openTestStore>>["store"]) {
  expect(await loadCursor(store, "eth")).toBeUndefined();
  expect(await store.db.select().from(store.t.wallets)).toEqual([]);
}

describe("EVM indexer: bad input gives a clear error and writes nothing", () => {
  let dev: EvmDevnet;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "backstop-evm-bad-"));
    dev = await startEvmDevnet({ chainId: 31337 });
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an RPC on another chain (chain id)", async () => {
    const s = await openTestStore("sqlite");
    try {
      // chains/anvil-base.ts expects chain id 8453; this anvil is 31337.
      const cfg = config({ rpcUrl: dev.anvil.rpcUrl, chain: "anvil-base", sqlitePath: s.params.sqlitePath! });
      const err = await createEvmIndexer({ config: cfg, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, "p1") })
        .run({ once: true })
        .catch((e: unknown) => e);
      expect(isBackstopError(err) && err.code).toBe("CHAIN__WRONG_NETWORK");
      expect((err as Error).message.replace(dev.anvil.rpcUrl.replace("http://", ""), "HOST")).toMatchInlineSnapshot(`
        "The eth node at HOST is on another network: chain id 31337, expected 8453.
          Check the RPC URL; Backstop refuses to index a chain it cannot identify."
      `);
      expect(err).toMatchObject({ chain: "eth", context: { what: "chain id", expected: "8453", actual: "31337" } });
      await expectNothingWritten(s.store);
    } finally {
      await s.dispose();
    }
  });

  it("refuses a chain whose genesis hash differs (same chain id)", async () => {
    const s = await openTestStore("sqlite");
    // Another genesis timestamp gives another genesis block: same chain id, different chain.
    const a = await startAnvil({ chainId: 31337, genesisTimestamp: 1_600_000_000 });
    try {
      const cfg = config({ rpcUrl: a.rpcUrl, sqlitePath: s.params.sqlitePath! });
      const err = await createEvmIndexer({ config: cfg, chainKey: "eth", store: s.store, logger }).run({ once: true }).catch((e: unknown) => e);
      expect(isBackstopError(err) && err.code).toBe("CHAIN__WRONG_NETWORK");
      expect((err as Error).message).toContain("genesis hash");
      await expectNothingWritten(s.store);
    } finally {
      await a.stop();
      await s.dispose();
    }
  });

  it("refuses a token address without contract code", async () => {
    const s = await openTestStore("sqlite");
    try {
      const cfg = config({ rpcUrl: dev.anvil.rpcUrl, token: "0x000000000000000000000000000000000000dEaD", sqlitePath: s.params.sqlitePath! });
      const err = await createEvmIndexer({ config: cfg, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, "p2") })
        .run({ once: true })
        .catch((e: unknown) => e);
      expect(isBackstopError(err) && err.code).toBe("EVM__UNKNOWN_TOKEN");
      expect((err as Error).message).toMatchInlineSnapshot(`"Token USDX on eth at 0x000000000000000000000000000000000000dead: no contract code at this address."`);
      await expectNothingWritten(s.store);
    } finally {
      await s.dispose();
    }
  });

  it("rejects malformed wallet and token addresses with their config paths", async () => {
    const s = await openTestStore("sqlite");
    try {
      const bad = [
        { wallet: "0x70997970C51812dc3A010C7d01b50e0d17dc79c8", token: undefined, problem: "wallets[0].address" }, // bad checksum
        { wallet: "0x1234", token: undefined, problem: "wallets[0].address" },
        { wallet: "' OR 1=1--", token: undefined, problem: "wallets[0].address" },
        { wallet: undefined, token: "0xZZ00000000000000000000000000000000000000", problem: "assets.USDX.address" },
      ];
      for (const b of bad) {
        const cfg = config({ rpcUrl: dev.anvil.rpcUrl, wallet: b.wallet, token: b.token, sqlitePath: s.params.sqlitePath! });
        expect(validateChainConfig(cfg).join("\n")).toContain(b.problem);
        let err: unknown;
        try {
          createEvmIndexer({ config: cfg, chainKey: "eth", store: s.store, logger });
        } catch (e) {
          err = e;
        }
        expect(isBackstopError(err) && err.code).toBe("EVM__CONFIG");
        expect((err as Error).message).toContain(b.problem);
      }
      await expectNothingWritten(s.store);
    } finally {
      await s.dispose();
    }
  });

  it("accepts lowercase and checksummed addresses alike", () => {
    const cfg = config({ rpcUrl: dev.anvil.rpcUrl, wallet: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", token: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address, sqlitePath: "/tmp/unused.db" });
    expect(validateChainConfig(cfg)).toEqual([]);
  });
});
