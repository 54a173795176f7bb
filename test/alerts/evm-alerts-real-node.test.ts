// Alert rules on a real EVM node (anvil), indexed by the real EVM follower (Ponder), delivered by the real
// outbox worker to a real HTTP receiver on loopback, every signature checked by the standardwebhooks
// library: a large ETH withdrawal from a custody wallet to an address nobody listed raises `outflow` and
// `unknown_counterparty` naming its transaction; a small payment to an allow-listed exchange raises nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { parseEther, type Address, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAlerts } from "../../src/alerts/load-alerts.js";
import { startAlertService, type AlertService } from "../../src/alerts/start-alert-service.js";
import { createEvmIndexer } from "../../src/chains/evm/create-evm-adapter.js";
import type { PonderSupervisor } from "../../src/chains/evm/create-ponder-supervisor.js";
import { startAlertReceiver, type AlertReceiver } from "../../src/devnet/alerts/start-alert-receiver.js";
import { resolveConfig, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { openTestStore } from "../helpers/stores.js";
import { startEvmDevnet, type EvmDevnet } from "../rig/evm.js";
import { createSinkSecrets } from "./alert-fixtures.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "warn", format: "json" });
const keys = createSinkSecrets();
type Body = { type: string; data: { rule: string; txids: string[]; values: Record<string, unknown> } };

describe("alerts on a real EVM node (anvil through the EVM follower), delivered to a real receiver", () => {
  let dev: EvmDevnet;
  let dir: string;
  let rx: AlertReceiver;
  let test: Awaited<ReturnType<typeof openTestStore>>;
  let config: ResolvedConfig;
  let service: AlertService;
  let hot: Address;
  let exchange: Address;
  let stranger: Address;
  let start: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "backstop-alerts-evm-"));
    dev = await startEvmDevnet({ chainId: 31337 });
    [, hot, exchange, stranger] = dev.accounts as [Address, Address, Address, Address];
    start = Number(await dev.client.getBlockNumber({ cacheTime: 0 })) + 1;
    rx = await startAlertReceiver();
    test = await openTestStore("sqlite");
    config = resolveConfig({
      path: "test",
      env: { HOOK_SECRET: keys.secret },
      input: {
        store: { sqlitePath: test.params.sqlitePath! },
        chains: { eth: { chain: "anvil", rpc: [dev.anvil.rpcUrl], startHeight: start, pollIntervalMs: 200, finalityDepth: 3 } },
        assets: { ETH: { chain: "eth", decimals: 18, native: true } },
        wallets: [{ label: "hot", chain: "eth", address: hot }],
        alerts: {
          rules: [
            { name: "hot-outflow", type: "outflow", severity: "critical", asset: "ETH", above: "1", wallets: ["hot"] },
            { name: "stranger", type: "unknown_counterparty", severity: "critical", allowList: [exchange] },
          ],
          sinks: { hook: { type: "webhook", url: `${rx.url}/hook`, secret: { env: "HOOK_SECRET" } } },
          delivery: { allowInsecureLoopback: true, timeoutMs: 2000 },
        },
      },
    });
    service = startAlertService({ config, store: test.store, logger });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await test?.dispose();
    await rx?.close();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a 2 ETH withdrawal to an unknown address raises outflow and unknown_counterparty with its txid; 0.5 ETH to the allow-listed exchange raises nothing", async () => {
    const send = async (to: Address, eth: string): Promise<Hex> => {
      const hash = await dev.client.sendTransaction({ account: hot, to, value: parseEther(eth), chain: null });
      await dev.client.waitForTransactionReceipt({ hash });
      return hash;
    };
    const small = await send(exchange, "0.5");
    const large = await send(stranger, "2");
    await dev.client.mine({ blocks: 5 });
    let sup: PonderSupervisor | undefined;
    try {
      await createEvmIndexer({ config, chainKey: "eth", store: test.store, logger }, { ponderDir: path.join(dir, "ponder"), ponderDatabase: "pglite", onSupervisor: (x) => (sup = x) }).run({ once: true });
    } finally {
      await sup?.stop();
    }
    for (let i = 0; i < 100 && (await test.store.raw("SELECT 1 FROM alert_outbox WHERE status = 'pending' LIMIT 1")).length; i++) {
      await service.worker.drainOnce();
      await new Promise((r) => setTimeout(r, 50));
    }
    const raised = (await loadAlerts(test.store)).filter((a) => a.state === "active" && a.status === "firing");
    const byRule = (rule: string) => raised.filter((a) => a.rule === rule);
    expect(byRule("hot-outflow")).toHaveLength(1);
    expect(byRule("hot-outflow")[0]).toMatchObject({ chain: "eth", wallet: "hot", asset: "ETH", txids: [large] });
    expect(byRule("stranger")).toHaveLength(1);
    expect(byRule("stranger")[0]).toMatchObject({ chain: "eth", wallet: "hot", asset: "ETH", txids: [large] });
    expect(raised.flatMap((a) => a.txids)).not.toContain(small);
    // Delivered, and every delivery verifies with the Standard Webhooks reference library.
    const wh = new Webhook(keys.secret);
    const delivered = rx.received.filter((r) => r.path === "/hook").map((r) => wh.verify(r.body, r.headers as Record<string, string>) as Body);
    expect(delivered.map((b) => b.data.rule).sort()).toEqual(expect.arrayContaining(["hot-outflow", "stranger"]));
    expect(delivered.every((b) => !b.data.txids.includes(small))).toBe(true);
  }, 240_000);
});
