// A version 2 checkpoint flagged window_dressing raises the `checkpoint` rule's alert (its default
// statuses include window_dressing) even though the document's status is `covered`: the alert readers
// report each flag as a status of its asset.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { createAlertReaders } from "../../src/alerts/create-alert-readers.js";
import { createHealthMemory, evaluateHealthRules } from "../../src/alerts/evaluate-health-rules.js";
import { loadAlerts } from "../../src/alerts/load-alerts.js";
import { buildCheckpointDocument } from "../../src/reconcile/build-checkpoint-document.js";
import { computeReserveWindow } from "../../src/reconcile/compute-reserve-window.js";
import { formatSignedCheckpoint, signCheckpoint } from "../../src/reconcile/sign-checkpoint.js";
import { createSigningKey, parseSigningKey } from "../../src/reconcile/signing-key.js";
import { saveBlock, saveCheckpoint, type Store } from "../../src/store/index.js";
import { openTestStore } from "../helpers/stores.js";
import { buildAlertsConfig } from "./alert-fixtures.js";

describe("a window_dressing flag alerts through the checkpoint rule", () => {
  let store: Store;
  let dispose: () => Promise<void>;
  const key = parseSigningKey(createSigningKey().text);
  const T = 1_767_225_600;
  const hash = "ab".repeat(32);
  const dir = mkdtempSync(join(tmpdir(), "backstop-wd-alert-"));

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore("sqlite"));
    writeFileSync(join(dir, "l.csv"), "account_id,asset,amount\nu1,BTC,1\n");
    await importSnapshot({ store }, { source: join(dir, "l.csv"), format: "csv", asOf: new Date(T * 1000).toISOString(), assets: { BTC: { decimals: 8 } }, snapshotId: "s1" });
    await saveBlock(store, { block: { chain: "btc", height: 100, hash, parentHash: "cd".repeat(32), time: T }, changes: [] });
    const total = 300_000_000n;
    const changes = [{ walletId: 1, asset: "BTC_btc", height: 100, txid: "in", delta: 200_000_000n }, { walletId: 1, asset: "BTC_btc", height: 101, txid: "out", delta: -200_000_000n }];
    const document = buildCheckpointDocument({
      seq: 1, previousDigest: null, invalidates: null,
      snapshot: { id: "s1", asOf: new Date(T * 1000).toISOString(), asOfTime: T, fileDigest: `sha256:${"ef".repeat(32)}`, root: "01".repeat(32), proofVersion: 2 },
      liabilities: [{ asset: "BTC", decimals: 8, total: 100_000_000n }],
      chainAssets: [{ id: "BTC_btc", chain: "btc", decimals: 8, backs: "BTC" }],
      chains: [{
        anchor: { chain: "btc", caip2: "bip122:0f9188f13cb7b2c71f2a335e3a4fc328", height: 100, hash, time: T, ruleTime: T, rule: "block-time", finality: "6 confirmations", skewSeconds: 0, maxSkewSeconds: 7200, anchored: true },
        totals: { BTC_btc: total }, countedWallets: 1, excluded: [], addressEntries: ["bcrt1qx"], discrepancies: [],
        window: { blocks: 3, walletLabels: new Map([[1, "cold"]]), assets: computeReserveWindow({ anchorHeight: 100, windowBlocks: 3, assets: ["BTC_btc"], anchorBalances: new Map([[1, new Map([["BTC_btc", total]])]]), changes }) },
      }],
      windowDressingBps: 1000,
    });
    expect(document.status).toBe("covered");
    const signed = signCheckpoint(document, key);
    await saveCheckpoint(store, { seq: 1, digest: signed.digest, previousDigest: null, snapshotId: "s1", status: document.status, invalidates: null, kid: key.jwk.kid, signed: formatSignedCheckpoint(signed), anchors: [{ chain: "btc", height: 100, hash }] });
  });
  afterAll(async () => {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the readers list the flag as a status of its asset, and the checkpoint rule fires once", async () => {
    const readers = createAlertReaders();
    const rows = await readers.loadNewCheckpoints(store, { afterSeq: 0 });
    expect(rows[0]!.status).toBe("covered");
    expect(rows[0]!.assets).toEqual([{ asset: "BTC", status: "covered", coverageBps: 30_000 }, { asset: "BTC", status: "window_dressing", coverageBps: null }]);
    const config = buildAlertsConfig({ rules: [{ name: "checkpoints", type: "checkpoint", severity: "critical" }] });
    const memory = createHealthMemory();
    expect(await evaluateHealthRules(store, { alerts: config.alerts, now: () => 1_800_000_000_000, readers, memory })).toBe(1);
    const [alert] = await loadAlerts(store);
    expect(alert).toMatchObject({ rule: "checkpoints", status: "firing", severity: "critical" });
    expect(alert!.summary).toContain("window_dressing");
    expect(alert!.values.assets).toEqual(["BTC:window_dressing:n/a"]);
  });
});
