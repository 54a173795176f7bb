import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../src/chains/create-indexer.js";
import { validateChainConfig } from "../../src/chains/validate-chain-config.js";
import { startSolanaDemo } from "../../src/demo/solana.js";
import { formatUnits } from "../../src/lib/amounts.js";
import { resolveConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { loadBalances, openStore } from "../../src/store/index.js";

describe("the demo's Solana part", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-sol-demo-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("indexes SOL, SPL and Token-2022 custody balances from the wallets' birthday, ignoring the dropped fork", async () => {
    const logger = createLogger({ level: "silent" });
    const part = await startSolanaDemo({ dir, logger });
    const store = await openStore({ sqlitePath: join(dir, "demo.db") });
    try {
      const config = resolveConfig({ input: { chains: part.chains, assets: part.assets, liabilityAssets: part.liabilityAssets, wallets: part.wallets }, path: "(demo)", env: {} });
      expect(validateChainConfig(config)).toEqual([]);
      const indexer = createIndexer({ config, chainKey: "sol", store, logger });
      const table = async () => {
        const rows = await loadBalances(store, { chain: "sol" });
        return Object.fromEntries(rows.map((r) => [`${r.label} ${r.asset}`, formatUnits(r.amount, config.assets[r.asset]!.decimals)]));
      };
      const lines = await part.activity({ step: 0 });
      expect(lines.join("\n")).toMatch(/non-associated token account of sol-cold/);
      await indexer.run({ once: true });
      // 12 SOL in, 1.5 SOL out, two 5,000-lamport fees, plus the closed account's rent (Token-2022 + ImmutableOwner: 170 bytes).
      expect(await table()).toEqual({
        "sol-hot SOL": "10.50205408",
        "sol-hot USDC": "210000",
        "sol-hot PYUSD": "0",
        "sol-cold SOL": "30",
        "sol-cold USDC": "75000",
        "sol-cold PYUSD": "1000000",
      });
      await part.activity({ step: 1 });
      await indexer.run({ once: true });
      const after = await table();
      expect(after["sol-hot SOL"]).toBe("10.50205408"); // the 9 SOL deposit was on a dropped fork
      expect(after["sol-hot USDC"]).toBe("212000");
      expect(after["sol-cold SOL"]).toBe("29.749995");
    } finally {
      await store.close();
      await part.stop();
    }
  });
});
