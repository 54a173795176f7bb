import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertBlockSink } from "../../src/alerts/create-alert-block-sink.js";
import { loadAlerts } from "../../src/alerts/load-alerts.js";
import { addBlockEventSink, rollbackTo, saveBlock, saveWallets, type Store, type TransferInput } from "../../src/store/index.js";
import { STORE_KINDS, openTestStore } from "../helpers/stores.js";
import { buildAlertsConfig } from "./alert-fixtures.js";

const BTC = 100_000_000n;

const config = buildAlertsConfig({
  rules: [
    { name: "hot-outflow", type: "outflow", severity: "critical", asset: "BTC", above: "1", window: { blocks: 1 }, wallets: ["hot"], runbook: "https://runbooks.example.com/outflow" },
    { name: "stranger", type: "unknown_counterparty", severity: "critical", allowList: ["BCRT1QEXCHANGE"] },
    { name: "hot-over", type: "balance_above", severity: "warning", asset: "BTC", above: "100", wallets: ["hot"] },
    { name: "reorgs", type: "reorg", severity: "warning" },
  ],
  sinks: { hook: { type: "webhook", url: "https://hooks.example.com/backstop", secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } },
});

for (const kind of STORE_KINDS) {
  describe(`alert rules inside block transactions (${kind})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let hot: number;
    let cold: number;
    let tip = { height: 0, hash: "h0" };
    const hashOf = (h: number, fork: string) => `${fork}${String(h).padStart(6, "0")}`;
    const mine = async (p: { fork?: string; changes?: { walletId: number; delta: bigint; txid: string }[]; transfers?: TransferInput[] } = {}) => {
      const height = tip.height + 1;
      const hash = hashOf(height, p.fork ?? "a");
      await saveBlock(store, {
        block: { chain: "btc", height, hash, parentHash: tip.hash, time: 1_700_000_000 + height * 600 },
        changes: (p.changes ?? []).map((c) => ({ ...c, asset: "BTC" })),
        transfers: p.transfers ?? [],
        finalizedHeight: height - 6,
      });
      tip = { height, hash };
      return { height, hash };
    };
    const send = (walletId: number, to: string | number, amount: bigint, txid: string, position: number): { changes: { walletId: number; delta: bigint; txid: string }[]; transfers: TransferInput[] } => ({
      changes: [{ walletId, delta: -(amount + 1000n), txid }, ...(typeof to === "number" ? [{ walletId: to, delta: amount, txid }] : [])],
      transfers: [
        { walletId, asset: "BTC", txid, position, direction: "out", amount, counterparty: typeof to === "string" ? to : "bcrt1qcold", counterpartyWalletId: typeof to === "number" ? to : null },
        { walletId, asset: "BTC", txid, position: position + 1, direction: "fee", amount: 1000n, counterparty: null },
      ],
    });
    const outbox = async () => store.raw("SELECT alert_id, event, status, body FROM alert_outbox ORDER BY created_at_ms, id");

    beforeAll(async () => {
      ({ store, dispose } = await openTestStore(kind));
      [{ id: hot }, { id: cold }] = (await saveWallets(store, [
        { chain: "btc", label: "hot", kind: "address", address: "bcrt1qhot" },
        { chain: "btc", label: "cold", kind: "address", address: "bcrt1qcold" },
      ])) as unknown as [{ id: number }, { id: number }];
      await store.raw("INSERT INTO block_headers (chain, height, hash, parent_hash, time) VALUES ('btc', 0, 'h0', 'genesis', 1700000000)");
      await store.raw("INSERT INTO chain_cursors (chain, height, hash, finalized_height, updated_at) VALUES ('btc', 0, 'h0', 0, '2026-01-01T00:00:00Z')");
      addBlockEventSink(store, createAlertBlockSink({ config }));
    });
    afterAll(async () => dispose?.());

    it("raises an unfinalized outflow at info above the threshold (none under it), resolves it, and upgrades it once on finality", async () => {
      await mine({ changes: [{ walletId: hot, delta: 50n * BTC, txid: "dep1" }], transfers: [{ walletId: hot, asset: "BTC", txid: "dep1", position: 0, direction: "in", amount: 50n * BTC, counterparty: null }] });
      // Under the threshold: 0.99998 BTC out + fee = 0.99999 BTC: nothing.
      await mine(send(hot, "bcrt1qexchange", BTC - 2000n, "small", 0));
      expect(await loadAlerts(store)).toEqual([]);
      // Internal (hot → cold): not an outflow, not an unknown counterparty.
      await mine(send(hot, cold, 5n * BTC, "internal", 0));
      expect(await loadAlerts(store)).toEqual([]);
      const big = await mine(send(hot, "bcrt1qexchange", 2n * BTC, "big", 0));
      const [a] = await loadAlerts(store);
      expect(a).toMatchObject({
        rule: "hot-outflow", type: "outflow", severity: "info", finality: "unfinalized", status: "firing", state: "active", chain: "btc", wallet: "hot", asset: "BTC",
        txids: ["big"], height: big.height, block_hash: big.hash, runbook: "https://runbooks.example.com/outflow",
        values: { net_outflow: String(2n * BTC + 1000n), threshold: String(BTC), decimals: 8, window_from_height: big.height, window_to_height: big.height },
      });
      expect(a!.summary).toBe("hot: net outflow 2.00001 BTC within 1 block(s), above 1 BTC");
      expect(a!.incident_key).toMatch(/^inc_[0-9a-f]{32}$/);
      await mine();
      const after = await loadAlerts(store);
      expect(after.map((x) => [x.rule, x.status])).toEqual([["hot-outflow", "resolved"], ["hot-outflow", "firing"]]);
      expect(after[0]!.incident_key).toBe(a!.incident_key);
      // Six more blocks: the outflow's block is final. Upgraded to critical, delivered once as alert.finalized, not raised again.
      for (let i = 0; i < 6; i++) await mine();
      const final = (await loadAlerts(store)).filter((x) => x.id === a!.id)[0]!;
      expect(final).toMatchObject({ severity: "critical", finality: "final" });
      const events = (await outbox()).filter((m) => m.alert_id === a!.id).map((m) => m.event);
      expect(events).toEqual(["alert.firing", "alert.finalized"]);
      expect((await loadAlerts(store)).filter((x) => x.rule === "hot-outflow" && x.status === "firing")).toHaveLength(1);
    });

    it("raises unknown_counterparty for an outflow to an address that is neither custody nor allow-listed", async () => {
      const b = await mine(send(hot, "bcrt1qstranger", 1000n, "tostranger", 4));
      const [a] = (await loadAlerts(store)).filter((x) => x.rule === "stranger");
      expect(a).toMatchObject({ txids: ["tostranger"], height: b.height, severity: "info", finality: "unfinalized", values: { amount: "1000", counterparty: "bcrt1qstranger", position: 4 } });
      expect(a!.summary).toBe("hot sent 0.00001 BTC to bcrt1qstranger, which is neither a custody wallet nor on the allow-list");
    });

    it("withdraws an undelivered alert of a rolled-back block (its message is cancelled, never sent) and raises one reorg alert", async () => {
      const doomed = await mine({ ...send(hot, "bcrt1qthief", 3n * BTC, "theft", 0), fork: "a" });
      const raised = (await loadAlerts(store)).filter((x) => x.height === doomed.height);
      expect(raised.map((x) => x.rule).sort()).toEqual(["hot-outflow", "stranger"]);
      tip = { height: doomed.height - 1, hash: hashOf(doomed.height - 1, "a") };
      await rollbackTo(store, { chain: "btc", height: doomed.height - 1 });
      const after = await loadAlerts(store);
      for (const r of raised) expect(after.find((x) => x.id === r.id)).toMatchObject({ state: "withdrawn" });
      const msgs = (await outbox()).filter((m) => raised.some((r) => r.id === m.alert_id));
      expect(msgs.map((m) => m.status)).toEqual(["cancelled", "cancelled"]);
      const reorg = after.filter((x) => x.rule === "reorgs");
      expect(reorg).toHaveLength(1);
      expect(reorg[0]).toMatchObject({ values: { depth: 1, from_height: doomed.height, to_height: doomed.height - 1, withdrawn_alerts: expect.arrayContaining(raised.map((r) => r.id)) } });
      expect(reorg[0]!.summary).toMatch(/reorg of depth 1, .*2 alert\(s\) of removed blocks withdrawn/);
      // Open alerts never list a withdrawn one; the outflow incident is no longer firing.
      expect((await loadAlerts(store, { open: true })).some((x) => raised.some((r) => r.id === x.id))).toBe(false);
      // Mined again on the new branch: raised again (a new alert in the same incident), and never reported final for the dead block.
      const again = await mine({ ...send(hot, "bcrt1qthief", 3n * BTC, "theft", 0), fork: "b" });
      const re = (await loadAlerts(store)).filter((x) => x.height === again.height && x.state === "active");
      expect(re.map((x) => x.rule).sort()).toEqual(["hot-outflow", "stranger"]);
      expect(re.find((x) => x.rule === "stranger")!.incident_key).toBe(raised.find((x) => x.rule === "stranger")!.incident_key);
      for (let i = 0; i < 7; i++) await mine({ fork: "b" });
      for (const r of raised) expect((await loadAlerts(store, { limit: 1000 })).find((x) => x.id === r.id)).toMatchObject({ state: "withdrawn", finality: "unfinalized" });
    });

    it("a 30-block reorg is one incident with one alert, not 30", async () => {
      const from = tip.height;
      for (let i = 0; i < 30; i++) await mine({ ...send(hot, `bcrt1qdrain${i}`, 10_000n, `drain${i}`, 0), fork: "c" });
      const reorgsBefore = (await loadAlerts(store, { limit: 1000 })).filter((x) => x.rule === "reorgs");
      tip = { height: from, hash: hashOf(from, "b") };
      await rollbackTo(store, { chain: "btc", height: from });
      const all = await loadAlerts(store, { limit: 1000 });
      const reorgs = all.filter((x) => x.rule === "reorgs");
      expect(reorgs.length - reorgsBefore.length).toBe(1);
      expect(reorgs[0]!.values.depth).toBe(30);
      expect((reorgs[0]!.values.removed_hashes as string[]).length).toBe(30);
      // One incident for every reorg of the chain.
      expect(new Set(reorgs.map((x) => x.incident_key)).size).toBe(1);
      const [inc] = await store.raw("SELECT alert_count, status FROM alert_incidents WHERE incident_key = ?", [reorgs[0]!.incident_key]);
      expect({ count: Number(inc!.alert_count), status: inc!.status }).toEqual({ count: 2, status: "firing" });
      // The 30 drains' alerts were all withdrawn, none left active.
      expect(all.filter((x) => x.txids.some((t) => t.startsWith("drain")) && x.state === "active")).toEqual([]);
    });

    it("balance_above fires on crossing, once, and resolves when back", async () => {
      await mine({ changes: [{ walletId: hot, delta: 100n * BTC, txid: "whale" }], transfers: [{ walletId: hot, asset: "BTC", txid: "whale", position: 0, direction: "in", amount: 100n * BTC, counterparty: null }] });
      await mine({ changes: [{ walletId: hot, delta: 1n, txid: "dust" }], transfers: [{ walletId: hot, asset: "BTC", txid: "dust", position: 0, direction: "in", amount: 1n, counterparty: null }] });
      const over = (await loadAlerts(store)).filter((x) => x.rule === "hot-over");
      expect(over.map((x) => x.status)).toEqual(["firing"]);
      expect(over[0]!.values).toMatchObject({ threshold: String(100n * BTC) });
      await mine(send(hot, cold, 45n * BTC, "tocold", 0));
      expect((await loadAlerts(store)).filter((x) => x.rule === "hot-over").map((x) => x.status)).toEqual(["resolved", "firing"]);
    });
  });
}
