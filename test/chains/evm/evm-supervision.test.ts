// Issue 9, item 6: a Ponder child that fails slowly (here: the node refuses its eth_getLogs, which Ponder
// retries without exiting) ends in a typed error the operator sees in `status`, not a silent wait.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvmIndexer } from "../../../src/chains/evm/create-evm-adapter.js";
import type { PonderSupervisor } from "../../../src/chains/evm/create-ponder-supervisor.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { isBackstopError } from "../../../src/lib/errors.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadChainHealthSummary } from "../../../src/store/index.js";
import { openTestStore } from "../../helpers/stores.js";
import { startEvmDevnet, type EvmDevnet } from "../../rig/evm.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "error", format: "json" });

describe("EVM supervision: a Ponder child failing slowly", () => {
  let dev: EvmDevnet;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "backstop-evm-sup-"));
    dev = await startEvmDevnet({ chainId: 31337 });
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("halts with EVM__PONDER_STALLED (recorded as the chain's last error) when Ponder stops advancing while the node is ahead", async () => {
    const token = await dev.deploy("TestToken", ["USDX", 6]);
    await dev.client.mine({ blocks: 3 });
    // A Transfer to the custody wallet: the block's bloom matches, so Ponder asks for its logs.
    await dev.write(token, "TestToken", "mint", [dev.accounts[1]!, 5n], dev.accounts[0]!);
    await dev.client.mine({ blocks: 3 });
    // The start-up check's eth_getLogs (a block range, no address) passes; Ponder's are refused.
    let refused = 0;
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      type Req = { id: unknown; method: string; params?: Array<{ address?: unknown; blockHash?: unknown }> };
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Req | Req[];
      const list = Array.isArray(body) ? body : [body];
      // Ponder's: by address (historical ranges) or by block hash (its realtime window: 30 blocks on anvil).
      if (list.some((r) => r.method === "eth_getLogs" && (r.params?.[0]?.address !== undefined || r.params?.[0]?.blockHash !== undefined))) {
        refused++;
        const errors = list.map((r) => ({ jsonrpc: "2.0", id: r.id, error: { code: -32000, message: "backend unavailable" } }));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(Array.isArray(body) ? errors : errors[0]));
        return;
      }
      const r = await fetch(dev.anvil.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) }).catch(() => null);
      res.writeHead(r?.status ?? 502, { "content-type": "application/json" });
      res.end(r ? await r.text() : "");
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const s = await openTestStore("sqlite");
    let sup: PonderSupervisor | undefined;
    const ac = new AbortController();
    const guard = setTimeout(() => ac.abort(), 240_000);
    try {
      const config = resolveConfig({
        path: "test",
        env: {},
        input: {
          store: { sqlitePath: s.params.sqlitePath },
          chains: { eth: { chain: "anvil", rpc: [url], startHeight: 1, pollIntervalMs: 200, finalityDepth: 5 } },
          assets: { ETH: { chain: "eth", decimals: 18, native: true }, USDX: { chain: "eth", decimals: 6, address: token } },
          wallets: [{ label: "hot", chain: "eth", address: dev.accounts[1] as Address }],
        },
      });
      const err = await createEvmIndexer({ config, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, "ponder"), ponderDatabase: "pglite", ponderStallMs: 60_000, onSupervisor: (x) => (sup = x) })
        .run({ signal: ac.signal })
        .then(() => undefined, (e: unknown) => e);
      expect(isBackstopError(err) && err.code, String((err as Error)?.message)).toBe("EVM__PONDER_STALLED");
      expect(refused).toBeGreaterThan(0);
      const health = await loadChainHealthSummary(s.store, { chains: ["eth"] });
      expect(health.get("eth")?.lastError).toMatch(/^EVM__PONDER_STALLED: Ponder for eth has not indexed a block for \d+ s/);
    } finally {
      clearTimeout(guard);
      await sup?.stop();
      await s.dispose();
      proxy.close();
    }
  }, 300_000);
});
