// TESTING.md J4 against a real node (bcoin regtest), SQLite and Postgres: an outsider sprays 2,400 dust outputs
// (600 sat, below the configured 0.00001 BTC floor) over the custody wallets in two transactions of one block,
// next to a recorded deposit and a deposit nobody credited. Every dust output is an `unexplained_inflow` with the
// flag `dust`; through the alert pipeline they are ONE incident at info for the asset and window, while the
// uncredited real deposit is its own warning; the recorded one is matched.
import { afterEach, describe, expect, it } from "vitest";
import { createAlertReaders } from "../../../src/alerts/create-alert-readers.js";
import { createHealthMemory, evaluateHealthRules } from "../../../src/alerts/evaluate-health-rules.js";
import { loadAlerts } from "../../../src/alerts/load-alerts.js";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { resolveConfig, resolveMovementsConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { createMovementSink } from "../../../src/reconcile/movements/create-movement-sink.js";
import { importMovementRecords } from "../../../src/reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../../../src/reconcile/movements/match-movements.js";
import { createMovementValidationContext } from "../../../src/reconcile/movements/validate-movement-record.js";
import { addBlockEventSink, loadMovementOutcomes } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { buildAlertsConfig } from "../../alerts/alert-fixtures.js";
import { createOwner, createRandom, createRigRpc, createRigWallet, startBcoin, type BcoinNode } from "../../rig/bitcoin.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
const CHAIN = "btc";
const PER_TX = 1_200;

describe("dust to custody on bcoin regtest (J4)", () => {
  let node: BcoinNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  it.each(STORE_KINDS)("2,400 dust outputs are one info incident per asset and window (%s)", async (kind) => {
    const random = createRandom(4040);
    const hot = createOwner("p2pkh", { random });
    const cold = createOwner("p2pkh", { random });
    const outsider = createOwner("p2pkh", { random });
    node = await startBcoin();
    const rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    const wallet = createRigWallet(rpc, { random });
    await wallet.mine(4, outsider); // one coin per transaction below (their change is unconfirmed)
    await wallet.mine(100);
    const s = await openTestStore(kind);
    let now = Date.now();
    try {
      const config = resolveConfig({
        path: "test",
        env: s.params.databaseUrl ? { DATABASE_URL: s.params.databaseUrl, BACKSTOP_PG_SCHEMA: s.params.pgSchema } : {},
        input: {
          ...(s.params.sqlitePath ? { store: { sqlitePath: s.params.sqlitePath } } : {}),
          chains: { [CHAIN]: { chain: "bitcoin-regtest", rpc: [node.authUrl], pollIntervalMs: 100 } },
          assets: { BTC: { chain: CHAIN, decimals: 8, native: true } },
          wallets: [{ label: "hot", chain: CHAIN, address: hot.address }, { label: "cold", chain: CHAIN, address: cold.address }],
          movements: { graceSeconds: 600, slaSeconds: 3600, dustFloors: { BTC: "0.00001" }, dustWindowSeconds: 3600 },
        },
      });
      const settings = resolveMovementsConfig(config);
      addBlockEventSink(s.store, createMovementSink({ settings, chains: [CHAIN], now: () => now }));
      const index = () => createIndexer({ config, chainKey: CHAIN, store: s.store, logger }).run({ once: true });
      const tick = () => s.store.tx((db) => matchMovementsIn(s.store, db, { settings, chains: [CHAIN], nowMs: now }));

      // One block: two dust sprays (1,200 outputs each, alternating hot and cold), a deposit the platform
      // credits and one it does not.
      const spray = () => Array.from({ length: PER_TX }, (_, i) => ({ script: (i % 2 ? cold : hot).script, value: 600n }));
      const a = await wallet.send({ from: [outsider], to: spray(), fee: 200_000n });
      const b = await wallet.send({ from: [outsider], to: spray(), fee: 200_000n });
      const credited = await wallet.send({ from: [outsider], to: [{ script: hot.script, value: 50_000_000n }] });
      const uncredited = await wallet.send({ from: [outsider], to: [{ script: cold.script, value: 20_000_000n }] });
      await wallet.mine(7); // 6 confirmations: final
      await index();
      await importMovementRecords({ store: s.store, nowMs: () => now }, {
        bytes: Buffer.from(`id,kind,chain,asset,amount,counterparty,txid,time\nd-1,deposit,${CHAIN},BTC,0.5,,${credited.txid},${new Date(now).toISOString()}\n`),
        format: "csv", sourceName: "d.csv", source: "file", validation: createMovementValidationContext(config, now), settings, chains: [CHAIN],
      });
      now += 601_000;
      await tick();

      const rows = await loadMovementOutcomes(s.store, { currentOnly: true });
      const dust = rows.filter((r) => r.txid === a.txid || r.txid === b.txid);
      expect(dust).toHaveLength(2 * PER_TX);
      expect(dust.every((r) => r.outcome === "unexplained_inflow" && r.severity === "info" && r.flags[0] === "dust" && r.chainAmount === 600n)).toBe(true);
      expect(new Set(dust.map((r) => r.flags[1])).size).toBe(1);
      expect(rows.find((r) => r.txid === uncredited.txid)).toMatchObject({ outcome: "unexplained_inflow", severity: "warning", flags: [], chainAmount: 20_000_000n });
      expect(rows.find((r) => r.subject === "record:d-1")).toMatchObject({ outcome: "matched", txid: credited.txid });

      // The alert pipeline: a rule on unexplained inflows raises two incidents, not 2,401.
      const alerts = buildAlertsConfig({ rules: [{ name: "inflows", type: "movement", severity: "warning", outcomes: ["unexplained_inflow"] }] }).alerts;
      const memory = createHealthMemory();
      let raised = 0;
      for (let i = 0; i < 8; i++) raised += await evaluateHealthRules(s.store, { alerts, now: () => now, readers: createAlertReaders(), memory });
      expect(raised).toBe(2);
      const list = await loadAlerts(s.store);
      expect(list.map((x) => x.severity).sort()).toEqual(["info", "warning"]);
      expect(list.find((x) => x.severity === "info")!.summary).toMatch(/^unexplained_inflow: dust below the floor to custody \(BTC on btc, window from /);
    } finally {
      await s.dispose();
    }
  });
});
