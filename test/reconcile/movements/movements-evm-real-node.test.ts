// Movement reconciliation on EVM against a real node (anvil) through the real indexer (Ponder), SQLite and
// Postgres. Workload from the custody wallet `hot`: a recorded withdrawal (matched by txid); a recorded
// withdrawal whose transaction reverts on chain (ETH sent to a contract without a payable entry: status 0,
// gas spent, the value never leaves) — TESTING.md J8; and an outflow nobody recorded to an address that shares
// its first and last 4 hex characters with the recorded user's (address poisoning, J5). The indexer reads no
// receipts: the failed transaction is recognised from the wallet's gas-only native change naming it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvmIndexer } from "../../../src/chains/evm/create-evm-adapter.js";
import type { PonderSupervisor } from "../../../src/chains/evm/create-ponder-supervisor.js";
import { resolveConfig, resolveMovementsConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { createMovementSink } from "../../../src/reconcile/movements/create-movement-sink.js";
import { importMovementRecords } from "../../../src/reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../../../src/reconcile/movements/match-movements.js";
import { createMovementValidationContext } from "../../../src/reconcile/movements/validate-movement-record.js";
import { addBlockEventSink, loadBalances, loadMovementOutcomes } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { startEvmDevnet, type EvmDevnet } from "../../rig/evm.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "warn", format: "json" });

describe("movements on anvil: a failed withdrawal (J8) and address poisoning (J5)", () => {
  let dev: EvmDevnet;
  let dir: string;
  let token: Address;
  const tx = {} as Record<"fund" | "ok" | "failed" | "poison", Hex>;
  let hot: Address;
  const user = "0x1234aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5678" as Address;
  const lookAlike = "0x1234bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb5678" as Address;
  let gasOfFailed = 0n;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "backstop-movements-evm-"));
    dev = await startEvmDevnet({ chainId: 31337 });
    const [funder, h] = dev.accounts as [Address, Address];
    hot = h;
    token = await dev.deploy("TestToken", ["USDX", 6]);
    tx.fund = await dev.client.sendTransaction({ account: funder, to: hot, value: parseEther("10"), chain: null });
    await dev.client.mine({ blocks: 1 });
    tx.ok = await dev.client.sendTransaction({ account: hot, to: user, value: parseEther("0.5"), chain: null });
    await dev.client.mine({ blocks: 1 });
    // TestToken has no receive/fallback: the call reverts, the gas is spent, the 1 ETH stays (explicit gas: no estimate).
    tx.failed = await dev.client.sendTransaction({ account: hot, to: token, value: parseEther("1"), gas: 100_000n, chain: null });
    await dev.client.mine({ blocks: 1 });
    const receipt = await dev.client.getTransactionReceipt({ hash: tx.failed });
    expect(receipt.status).toBe("reverted");
    gasOfFailed = receipt.gasUsed * receipt.effectiveGasPrice;
    tx.poison = await dev.client.sendTransaction({ account: hot, to: lookAlike, value: parseEther("0.25"), chain: null });
    await dev.client.mine({ blocks: 8 }); // past the finality depth (4)
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(STORE_KINDS)("matched by txid; failed on chain → missing_on_chain naming it, its gas explained; poisoning → unknown_counterparty (%s)", async (kind) => {
    const s = await openTestStore(kind);
    let sup: PonderSupervisor | undefined;
    try {
      let now = Date.now();
      const config = resolveConfig({
        path: "test",
        env: s.params.databaseUrl ? { DATABASE_URL: s.params.databaseUrl, BACKSTOP_PG_SCHEMA: s.params.pgSchema } : {},
        input: {
          ...(s.params.sqlitePath ? { store: { sqlitePath: s.params.sqlitePath } } : {}),
          chains: { eth: { chain: "anvil", rpc: [dev.anvil.rpcUrl], startHeight: 1, pollIntervalMs: 200, finalityDepth: 4 } },
          assets: { ETH: { chain: "eth", decimals: 18, native: true } },
          wallets: [{ label: "hot", chain: "eth", address: hot }],
          movements: { graceSeconds: 600, slaSeconds: 3600, feeCeilings: { ETH: "0.01" } },
        },
      });
      const settings = resolveMovementsConfig(config);
      addBlockEventSink(s.store, createMovementSink({ settings, chains: ["eth"], now: () => now }));
      const iso = new Date(now).toISOString();
      await importMovementRecords({ store: s.store, nowMs: () => now }, {
        bytes: Buffer.from([
          { id: "d-fund", kind: "deposit", chain: "eth", asset: "ETH", amount: "10", txid: tx.fund, time: iso },
          { id: "w-ok", kind: "withdrawal", chain: "eth", asset: "ETH", amount: "0.5", counterparty: user, txid: tx.ok, time: iso },
          { id: "w-failed", kind: "withdrawal", chain: "eth", asset: "ETH", amount: "1", counterparty: token.toLowerCase(), txid: tx.failed, time: iso },
        ].map((r) => JSON.stringify(r)).join("\n")),
        format: "ndjson", sourceName: "ledger.ndjson", source: "file",
        validation: createMovementValidationContext(config, now), settings, chains: ["eth"],
      });
      await createEvmIndexer({ config, chainKey: "eth", store: s.store, logger }, { ponderDir: path.join(dir, `ponder-${kind}`), ponderDatabase: "pglite", onSupervisor: (x) => (sup = x) }).run({ once: true });
      const tick = () => s.store.tx((db) => matchMovementsIn(s.store, db, { settings, chains: ["eth"], nowMs: now }));
      await tick();
      const current = async () => Object.fromEntries((await loadMovementOutcomes(s.store, { currentOnly: true })).map((r) => [r.subject, r]));
      let c = await current();
      expect(c["record:w-ok"]).toMatchObject({ outcome: "matched", txid: tx.ok, chainAmount: parseEther("0.5"), counterparty: user.toLowerCase() });
      // J8 at once (a failed transaction will not confirm later): the record names it, the gas is the only custody outflow.
      const failedBlock = Number((await dev.client.getTransactionReceipt({ hash: tx.failed! })).blockNumber);
      expect(c["record:w-failed"]).toMatchObject({ outcome: "missing_on_chain", severity: "error", txid: tx.failed, height: failedBlock, flags: ["failed_on_chain"], chainAmount: gasOfFailed });
      expect(c[`leg:eth:${tx.failed}:gas`]).toMatchObject({ outcome: "matched", recordId: "w-failed", chainAmount: gasOfFailed, direction: "out", flags: ["failed_on_chain", "transaction_cost"] });
      expect(c[`leg:eth:${tx.poison}:0`]).toMatchObject({ outcome: "pending", counterparty: lookAlike.toLowerCase() });

      // Past the grace period (final already): the poisoning outflow names the recorded user it imitates.
      now += 601_000;
      await tick();
      c = await current();
      expect(c[`leg:eth:${tx.poison}:0`]).toMatchObject({
        outcome: "unknown_counterparty", severity: "critical", chainAmount: parseEther("0.25"), counterparty: lookAlike.toLowerCase(), flags: [`looks_like:${user.toLowerCase()}`],
      });
      // After the SLA nothing changes: still the failed transaction's row, no second incident.
      const rows = (await loadMovementOutcomes(s.store)).length;
      now += 3_600_000;
      await tick();
      expect((await loadMovementOutcomes(s.store)).length).toBe(rows);
      expect(Object.values(await current()).map((r) => [r.subject, r.outcome]).sort()).toEqual([
        ["record:d-fund", "matched"], ["record:w-ok", "matched"], ["record:w-failed", "missing_on_chain"], [`leg:eth:${tx.failed}:gas`, "matched"], [`leg:eth:${tx.poison}:0`, "unknown_counterparty"],
      ].sort());
      // The node agrees: the 1 ETH never left (the balance is 10 − 0.5 − 0.25 − every gas).
      const [bal] = await loadBalances(s.store, { chain: "eth" });
      expect(bal!.amount).toBe(await dev.client.getBalance({ address: hot }));
    } finally {
      await sup?.stop();
      await s.dispose();
    }
  });
});
