import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHealthMemory, evaluateHealthRules, type AlertReaders } from "../../src/alerts/evaluate-health-rules.js";
import { loadAlerts } from "../../src/alerts/load-alerts.js";
import { saveChainHealth, saveProviderHealth, type Store } from "../../src/store/index.js";
import { openTestStore } from "../helpers/stores.js";
import { buildAlertsConfig } from "./alert-fixtures.js";

const config = buildAlertsConfig({
  rules: [
    { name: "stalled", type: "indexer_stalled", severity: "error", forSeconds: 1 },
    { name: "halted", type: "chain_halted", severity: "error", forSeconds: 1 },
    { name: "lagging", type: "lag", severity: "warning", blocks: 5 },
    { name: "deep", type: "deep_reorg", severity: "critical" },
    { name: "prov-lag", type: "provider_lagging", severity: "warning" },
    { name: "prov-split", type: "provider_disagreement", severity: "critical" },
    { name: "coverage", type: "coverage_below", severity: "critical", asset: "BTC", bps: 10_000 },
    { name: "checkpoints", type: "checkpoint", severity: "critical" },
    { name: "silent", type: "silent_change", severity: "critical" },
  ],
});

describe("health rules and the readers interface (chain health as the follower stores it; reader rows in their documented shapes)", () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let clock = 1_800_000_000_000;
  const memory = createHealthMemory();
  let coverage = 10_500;
  const readers: AlertReaders = {
    loadLiveCoverage: async () => [{ asset: "BTC", coverageBps: coverage, reserves: 105n * 10n ** 8n, liabilities: 100n * 10n ** 8n, asOf: "2026-12-02T01:00:00Z" }],
    loadNewCheckpoints: async (_s, p) => [
      { seq: 1, digest: "sha256:aa", status: "ok", asOf: "2026-12-01T00:00:00Z" },
      { seq: 2, digest: "sha256:bb", status: "breach", asOf: "2026-12-02T00:00:00Z", assets: [{ asset: "BTC", status: "breach", coverageBps: 9_900 }] },
    ].filter((c) => c.seq > p.afterSeq),
    loadSilentChanges: async (_s, p) => (p.afterId ? [] : [{ id: "sc1", chain: "btc", wallet: "hot", asset: "BTC", height: 9, blockHash: "ff".repeat(32), expected: 100n, actual: 90n, kind: "balance_without_transaction" }]),
  };
  const tick = () => {
    clock += 10;
    return evaluateHealthRules(store, { alerts: config.alerts, now: () => clock, readers, memory });
  };
  /** What the last tick raised, sorted. */
  const lastTick = async () => (await loadAlerts(store, { limit: 1000 })).filter((a) => a.created_at_ms === clock).map((a) => `${a.rule}:${a.status}`).sort();
  const rules = async () => (await loadAlerts(store, { limit: 1000 })).map((a) => `${a.rule}:${a.status}`).reverse();

  beforeAll(async () => ({ store, dispose } = await openTestStore("sqlite")));
  afterAll(async () => dispose());

  it("fires and resolves each rule once per transition", async () => {
    await saveChainHealth(store, { chain: "btc", state: "following", node: { tip: 100, finalized: 94 }, indexedHeight: 100, blockStored: true });
    expect(await tick()).toBe(2); // the checkpoint breach and the silent change: news from the readers
    expect(await rules()).toEqual(["checkpoints:firing", "silent:firing"]);
    // The node's head stays at 100 for 2 s: chain_halted (once, however many ticks).
    clock += 2000;
    await tick();
    await tick();
    expect((await rules()).filter((r) => r.startsWith("halted"))).toEqual(["halted:firing"]);
    // The head moves to 110, our cursor stays: lag 10 > 5; our last block is old: stalled. The head moved: halted resolves.
    await saveChainHealth(store, { chain: "btc", node: { tip: 110, finalized: 104 } });
    await new Promise((r) => setTimeout(r, 1100)); // last_block_at ages on the database's clock
    await tick();
    expect(await lastTick()).toEqual(["halted:resolved", "lagging:firing", "stalled:firing"]);
    // A provider lags and another disagrees at a finalized height; coverage drops under 100%.
    await saveProviderHealth(store, { chain: "btc", host: "slow.example", lagging: true, tip: 90 });
    await saveProviderHealth(store, { chain: "btc", host: "liar.example", disagreement: { height: 90, hash: "bad".padEnd(64, "0"), expected: "good".padEnd(64, "0") } });
    coverage = 9_800;
    await tick();
    const latest = (await loadAlerts(store, { limit: 1000 })).filter((a) => a.created_at_ms === clock);
    expect(latest.map((a) => a.rule).sort()).toEqual(["coverage", "prov-lag", "prov-split"]);
    expect(latest.find((a) => a.rule === "prov-split")).toMatchObject({ height: 90, values: { provider: "liar.example", provider_hash: "bad".padEnd(64, "0"), our_hash: "good".padEnd(64, "0") } });
    expect(latest.find((a) => a.rule === "coverage")).toMatchObject({ severity: "critical", values: { coverage_bps: 9_800, threshold_bps: 10_000, reserves: "10500000000", live: true } });
    // The follower halts on a deep reorg.
    await saveChainHealth(store, { chain: "btc", state: "halted", error: { code: "CHAIN__DEEP_REORG", message: "reorg of depth 7 reaches final block 94" } });
    await tick();
    // A halted follower is not "stalled": that resolves, and the deep reorg fires.
    expect(await lastTick()).toEqual(["deep:firing", "stalled:resolved"]);
    expect((await loadAlerts(store, { limit: 1000 })).find((a) => a.rule === "deep")).toMatchObject({ severity: "critical", status: "firing", summary: expect.stringContaining("HALTED on a reorg beyond finality") });
    // Recovery: everything resolves, each once; the readers' one-off events are not raised again.
    await saveChainHealth(store, { chain: "btc", state: "following", indexedHeight: 110, blockStored: true });
    await saveProviderHealth(store, { chain: "btc", host: "slow.example", lagging: false });
    coverage = 10_100;
    await tick();
    await tick();
    const all = await rules();
    for (const r of ["lagging", "deep", "prov-lag", "coverage"]) expect(all.filter((x) => x.startsWith(`${r}:`)), r).toEqual([`${r}:firing`, `${r}:resolved`]);
    expect(all.filter((x) => x.startsWith("checkpoints:") || x.startsWith("silent:"))).toEqual(["checkpoints:firing", "silent:firing"]);
  });
});
