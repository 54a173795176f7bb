import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { resolveConfig, resolveSnapshotAssets, type ConfigInput, type ResolvedConfig } from "../../src/lib/config.js";
import { canonicalizeJson } from "../../src/reconcile/canonicalize-json.js";
import { buildJwks } from "../../src/reconcile/build-jwks.js";
import { createCheckpoint, loadCheckpointReadiness, loadPendingCheckpoints } from "../../src/reconcile/create-checkpoint.js";
import { formatCheckpointStatus } from "../../src/cli/status-command.js";
import { createSigningKey } from "../../src/reconcile/signing-key.js";
import { verifyCheckpoints } from "../../src/reconcile/verify-checkpoints.js";
import { runCheckpointRound } from "../../src/reconcile/follow-checkpoints.js";
import { loadCheckpoint, loadCheckpoints, loadHeaderPins, loadLiveCoverage, rollbackTo, saveBlock, saveFinalizedHeight, saveWallets, syncWalletStates, type Store } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";
import { createAlertReaders } from "../../src/alerts/create-alert-readers.js";
import { createHealthMemory, evaluateHealthRules } from "../../src/alerts/evaluate-health-rules.js";
import { loadAlerts } from "../../src/alerts/load-alerts.js";
import { resolveAlertsConfig } from "../../src/lib/alerts-config.js";

const T0 = 1_700_000_000;
const KEY = createSigningKey();
const USDC = "0x00000000000000000000000000000000000000c1";
const USDC18 = "0x00000000000000000000000000000000000000c2";
const STETH = "0x00000000000000000000000000000000000000c3";

function config(extra: Partial<ConfigInput> = {}, keyWindow = { notBefore: "2020-01-01T00:00:00Z" }): ResolvedConfig {
  return resolveConfig({
    path: "(test)",
    env: { CP_KEY: KEY.text },
    input: {
      // Bitcoin keeps the default window (6 blocks); the EVM chain's (its finality depth, 10) would outrun the test's blocks.
      chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"] }, eth: { chain: "anvil", rpc: ["http://127.0.0.1:1"], windowBlocks: 3 } },
      assets: {
        BTC_btc: { chain: "btc", native: true, decimals: 8, backs: "BTC" },
        ETH_eth: { chain: "eth", native: true, decimals: 18, backs: "ETH" },
        USDC_eth: { chain: "eth", address: USDC, decimals: 6, backs: "USDC" },
        USDC_bridged: { chain: "eth", address: USDC18, decimals: 18, backs: "USDC" },
        STETH_eth: { chain: "eth", address: STETH, decimals: 18 },
      },
      liabilityAssets: { BTC: { decimals: 8 }, ETH: { decimals: 18 }, USDC: { decimals: 6 }, EUR: { decimals: 2 } },
      checkpoints: { signingKey: { env: "CP_KEY" }, keys: [{ x: KEY.jwk.x, ...keyWindow }] },
      wallets: [
        { label: "cold-btc", chain: "btc", address: "bcrt1qcold" },
        { label: "hot-eth", chain: "eth", address: "0x00000000000000000000000000000000000000e1" },
        { label: "cold-eth", chain: "eth", address: "0x00000000000000000000000000000000000000e2" },
      ],
      ...extra,
    },
  });
}

const block = (chain: string, height: number, spacing: number, tag = "h") => ({
  chain, height, hash: `${chain}${tag}${height}`.padEnd(64, "0"), parentHash: height === 0 ? "0".repeat(64) : `${chain}${tag}${height - 1}`.padEnd(64, "0"), time: T0 + spacing * height,
});

describe.each(STORE_KINDS)("createCheckpoint on %s", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  const cfg = config();
  const ids: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), "backstop-cp-"));
  const logger = pino({ level: "silent" });

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore(kind));
    for (const chain of ["btc", "eth"]) {
      const rows = await saveWallets(store, cfg.wallets.filter((w) => w.chain === chain).map((w) => ({ chain, label: w.label, kind: "address" as const, address: w.address! })));
      for (const r of rows) ids[r.label] = r.id;
      await syncWalletStates(store, { chain, cursorHeight: null, configured: rows.map((r) => ({ walletId: r.id, birthday: null })), pendingReason: () => "x" });
    }
    // Bitcoin: a block every 600 s; 1.5 BTC at height 3, +0.25 BTC at height 12 (after the anchor: not counted).
    for (let h = 0; h <= 20; h++) {
      const changes = h === 3 ? [{ walletId: ids["cold-btc"]!, asset: "BTC_btc", txid: "a", delta: 150_000_000n }] : h === 12 ? [{ walletId: ids["cold-btc"]!, asset: "BTC_btc", txid: "b", delta: 25_000_000n }] : [];
      await saveBlock(store, { block: block("btc", h, 600), changes });
    }
    // EVM: a block every 300 s. USDC 6 decimals 1,000.5 USDC; bridged USDC 18 decimals 2.000000000000000001 (floors).
    for (let h = 0; h <= 30; h++) {
      const changes =
        h === 2 ? [
          { walletId: ids["hot-eth"]!, asset: "ETH_eth", txid: "c", delta: 10n ** 18n * 5n },
          { walletId: ids["hot-eth"]!, asset: "USDC_eth", txid: "d", delta: 1_000_500_000n },
          { walletId: ids["cold-eth"]!, asset: "USDC_bridged", txid: "e", delta: 2_000_000_000_000_000_001n },
          { walletId: ids["cold-eth"]!, asset: "STETH_eth", txid: "f", delta: 7n },
        ] : [];
      await saveBlock(store, { block: block("eth", h, 300), changes });
    }
    await saveFinalizedHeight(store, { chain: "btc", finalizedHeight: 10 });
    await saveFinalizedHeight(store, { chain: "eth", finalizedHeight: 20 });
    // Liabilities as of T0 + 6300 s: BTC 1.5 (covered exactly), ETH 6 (breach), USDC 1002.5 (covered: 1000.5 + 2.000000 floored), EUR 10 (unbacked).
    const file = join(dir, "liabilities.csv");
    writeFileSync(file, "account_id,asset,amount\nu1,BTC,1\nu2,BTC,0.5\nu1,ETH,6\nu2,USDC,1002.5\nu1,EUR,10\n");
    await importSnapshot({ store, logger, now: () => new Date((T0 + 100_000) * 1000) }, {
      source: file, format: "csv", asOf: new Date((T0 + 6300) * 1000).toISOString(), assets: resolveSnapshotAssets(cfg), snapshotId: "snap-1",
    });
  });
  afterAll(async () => {
    await dispose();
  });

  it("waits until every chain finalized past the snapshot's time (--no-wait fails)", async () => {
    const err = await createCheckpoint({ store, config: cfg }, { wait: false }).catch((e) => e);
    expect(err.code).toBe("CHECKPOINT__NOT_FINALIZED");
    expect(err.shortMessage).toContain("Not every chain has finalized");
    expect(err.metaMessages.join("\n")).toContain("btc: finalized 10");
    expect(await loadCheckpointReadiness({ store, config: cfg }, { snapshotId: "snap-1" })).toEqual({ state: "waiting", chains: [{ chain: "btc", finalized: 10 }, { chain: "eth", finalized: 20 }] });
  });

  it("provisional while the window after an anchor is not final: nothing is signed, --no-wait names the chain and heights", async () => {
    // Both chains finalized past T (anchors btc 10, eth 21), but Bitcoin's window (6 blocks) ends at 16.
    await saveFinalizedHeight(store, { chain: "btc", finalizedHeight: 15 });
    await saveFinalizedHeight(store, { chain: "eth", finalizedHeight: 25 });
    const err = await createCheckpoint({ store, config: cfg }, { wait: false }).catch((e) => e);
    expect(err.code).toBe("CHECKPOINT__PROVISIONAL");
    expect(err.shortMessage).toBe("The checkpoint of snapshot snap-1 is provisional: the window after an anchor is not final yet.");
    expect(err.metaMessages).toEqual(["  btc: anchor 10, window to 16, finalized 15"]);
    const round = await runCheckpointRound({ store, config: cfg, logger }, { checkpoints: true });
    expect(round.created).toEqual([]);
    expect(round.provisional).toEqual([{ snapshotId: "snap-1", chains: [{ chain: "btc", anchorHeight: 10, windowEnd: 16, finalized: 15 }] }]);
    expect(await loadCheckpoints(store)).toEqual([]);
    // What `checkpoint list` shows for it, read without writing.
    expect(await loadCheckpointReadiness({ store, config: cfg }, { snapshotId: "snap-1" })).toEqual({ state: "provisional", chains: [{ chain: "btc", anchorHeight: 10, windowEnd: 16, finalized: 15 }] });
    // And what `status` shows: no checkpoint yet, the snapshot provisional with the heights it waits for.
    const pending = await loadPendingCheckpoints({ store, config: cfg });
    expect(pending).toEqual([{ snapshotId: "snap-1", state: "provisional", chains: [{ chain: "btc", anchorHeight: 10, windowEnd: 16, finalized: 15 }] }]);
    expect(formatCheckpointStatus(undefined, pending, 0)).toBe("checkpoint   none yet\n             provisional  snapshot snap-1  btc@10 window to 16, finalized 15\n");
  });

  let firstBytes = "";
  it("anchors each chain by its rule, sums counted wallets exactly, scales decimals with a floored remainder", async () => {
    await saveFinalizedHeight(store, { chain: "btc", finalizedHeight: 18 });
    await saveFinalizedHeight(store, { chain: "eth", finalizedHeight: 25 });
    // Every window is final now: ready to sign, and `status` says so.
    expect(await loadPendingCheckpoints({ store, config: cfg })).toEqual([{ snapshotId: "snap-1", state: "ready" }]);
    let slept = 0;
    const r = await createCheckpoint({ store, config: cfg, sleep: async () => void slept++ }, {});
    expect(r.created).toBe(true);
    const d = r.signed.document;
    // Bitcoin: the first block after T0 + 6300 is 11 (T0 + 6600), so the anchor is 10; the deposit at 12 does not count.
    expect(d.anchors.map((a) => [a.chain, a.height, a.rule, a.ruleTime - T0, a.skewSeconds, a.anchored])).toEqual([
      ["btc", 10, "block-time", 6000, 300, true],
      ["eth", 21, "block-time", 6300, 0, true],
    ]);
    expect(d.status).toBe("breach");
    expect(d.version).toBe(2);
    expect(d.anchors.map((a) => a.window)).toEqual([{ blocks: 6, fromHeight: 4, toHeight: 16 }, { blocks: 3, fromHeight: 18, toHeight: 24 }]);
    // The 0.25 BTC deposit at 12 is inside Bitcoin's window after the anchor: a rise after, no drop, no flag.
    expect(d.flags).toEqual([]);
    const asset = (id: string) => d.assets.find((a) => a.asset === id)!;
    expect(asset("BTC").window).toEqual({ minReserves: "150000000", riseBefore: "0", dropAfter: "0", thresholdBps: 1000, windowDressing: false });
    expect(asset("BTC")).toMatchObject({ reserves: "150000000", liabilities: "150000000", surplus: "0", coverageBps: "10000", status: "covered" });
    expect(asset("ETH")).toMatchObject({ reserves: "5000000000000000000", surplus: "-1000000000000000000", coverageBps: "8333", status: "breach" });
    expect(asset("USDC")).toMatchObject({ reserves: "1002500000", liabilities: "1002500000", coverageBps: "10000", status: "covered" });
    expect(asset("USDC").backing).toEqual([
      { chain: "eth", chainAsset: "USDC_bridged", decimals: 18, amount: "2000000000000000001", scaled: "2000000", remainder: "1", wallets: 2, window: { min: "2000000000000000001", minHeight: 18, minScaled: "2000000", riseBefore: "0", dropAfter: "0" } },
      { chain: "eth", chainAsset: "USDC_eth", decimals: 6, amount: "1000500000", scaled: "1000500000", remainder: "0", wallets: 2, window: { min: "1000500000", minHeight: 18, minScaled: "1000500000", riseBefore: "0", dropAfter: "0" } },
    ]);
    expect(asset("EUR")).toMatchObject({ reserves: "0", coverageBps: "0", status: "breach", backing: [] });
    expect(d.unbacked).toEqual({ liabilityAssets: ["EUR"], chainAssets: ["STETH_eth"] });
    expect(d.scope).toMatchObject({ chains: ["btc", "eth"], assets: ["BTC", "ETH", "EUR", "USDC"], wallets: 3, addressSet: { entries: 3 } });
    expect(d.assurance).toBe("automated self-attestation, not an audit");
    expect(r.stored.signed).toBe(`${canonicalizeJson(r.signed)}\n`);
    expect(verifyCheckpoints([{ name: "1.json", text: r.stored.signed }], { jwks: buildJwks(cfg.checkpoints.keys) }).checked[0]!.seq).toBe(1);
    expect((await loadHeaderPins(store, { chain: "btc" })).map((x) => [x.height, x.reason])).toContainEqual([10, "checkpoint"]);
    firstBytes = r.stored.signed;
    const [latest] = await loadCheckpoints(store);
    expect(await loadPendingCheckpoints({ store, config: cfg })).toEqual([]);
    expect(formatCheckpointStatus(latest, [], latest!.createdAtMs + 61_000)).toBe(`checkpoint   latest 1 ${d.status}, snapshot snap-1, btc@10 eth@21, signed 61 s ago\n`);
  });

  it("the same snapshot again returns its standing checkpoint, byte for byte", async () => {
    const r = await createCheckpoint({ store, config: cfg }, { snapshotId: "snap-1" });
    expect(r.created).toBe(false);
    expect(r.stored.signed).toBe(firstBytes);
  });

  it("not_anchored when a chain's anchor is further from T than its maxAnchorSkew, and no coverage is published", async () => {
    const tight = config({ chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"], maxAnchorSkewSeconds: 299 }, eth: { chain: "anvil", rpc: ["http://127.0.0.1:1"], windowBlocks: 3 } } });
    // A second snapshot at the same time (another file): its checkpoint is seq 2, chained to 1.
    const file = join(dir, "l2.csv");
    writeFileSync(file, "account_id,asset,amount\nu1,BTC,1\n");
    await importSnapshot({ store, logger, now: () => new Date((T0 + 100_001) * 1000) }, { source: file, format: "csv", asOf: new Date((T0 + 6300) * 1000).toISOString(), assets: resolveSnapshotAssets(tight), snapshotId: "snap-2" });
    const r = await createCheckpoint({ store, config: tight }, { snapshotId: "snap-2" });
    expect(r.signed.document.status).toBe("not_anchored");
    expect(r.signed.document.anchors[0]).toMatchObject({ chain: "btc", skewSeconds: 300, maxSkewSeconds: 299, anchored: false });
    expect(r.signed.document.assets[0]).toMatchObject({ asset: "BTC", reserves: null, surplus: null, coverageBps: null, status: "not_anchored" });
    expect(r.signed.document.seq).toBe(2);
    expect(r.signed.document.previousDigest).toBe(JSON.parse(firstBytes).digest);
  });

  it("a reorg below a standing checkpoint's anchor supersedes it with a new one (invalidates), never an edit", async () => {
    // What a deep-reorg recovery leaves: the store rolled back below the anchor (21) and re-indexed another branch.
    await rollbackTo(store, { chain: "eth", height: 19 });
    for (let h = 20; h <= 30; h++) {
      const b = block("eth", h, 300, "r");
      if (h === 20) b.parentHash = block("eth", 19, 300).hash;
      await saveBlock(store, { block: b, changes: [] });
    }
    await saveFinalizedHeight(store, { chain: "eth", finalizedHeight: 25 });
    const r = await createCheckpoint({ store, config: cfg }, { snapshotId: "snap-1" });
    expect(r.created).toBe(true);
    expect(r.signed.document.invalidates).toBe(1);
    expect(r.signed.document.seq).toBe(3);
    expect(r.signed.document.anchors[1]!.hash).toBe(block("eth", 21, 300, "r").hash);
    const list = await loadCheckpoints(store);
    expect(list.map((c) => [c.seq, c.supersededBy, c.invalidates])).toEqual([[1, 3, null], [2, null, null], [3, null, 1]]);
    // The store refuses edits of the history.
    await expect(store.raw("UPDATE checkpoints SET status = 'covered' WHERE seq = 1")).rejects.toThrow(/append-only/);
    await expect(store.raw("DELETE FROM checkpoints WHERE seq = 1")).rejects.toThrow(/append-only/);
  });

  it("a reorg below the anchor during creation: the write is refused and the checkpoint is built again on the canonical block", async () => {
    const file = join(dir, "l3.csv");
    writeFileSync(file, "account_id,asset,amount\nu9,ETH,1\n");
    await importSnapshot({ store, logger, now: () => new Date((T0 + 100_002) * 1000) }, { source: file, format: "csv", asOf: new Date((T0 + 6300) * 1000).toISOString(), assets: resolveSnapshotAssets(cfg), snapshotId: "snap-3" });
    let reads = 0;
    const seen: string[] = [];
    const fetchAnchorBalances = async (q: { chain: string; height: number; hash: string; pairs: ReadonlyArray<{ wallet: string; asset: string }> }) => {
      seen.push(q.hash);
      if (reads++ === 0) {
        // Between the read and the write: the chain is rolled back below the anchor and re-indexed on branch "q".
        await rollbackTo(store, { chain: "eth", height: 19 });
        for (let h = 20; h <= 30; h++) {
          const b = block("eth", h, 300, "q");
          if (h === 20) b.parentHash = block("eth", 19, 300).hash;
          await saveBlock(store, { block: b, changes: [] });
        }
        await saveFinalizedHeight(store, { chain: "eth", finalizedHeight: 25 });
      }
      // The node agrees with the store (no discrepancy): the balances set at height 2.
      const wallets = await store.raw("SELECT id, address FROM wallets WHERE chain = 'eth'");
      return Promise.all(q.pairs.map(async (pair) => {
        const id = Number(wallets.find((w) => String(w.address) === pair.wallet)!.id);
        const [r] = await store.raw("SELECT balance_after FROM balance_changes WHERE wallet_id = ? AND asset = ? AND height <= ? ORDER BY height DESC, id DESC LIMIT 1", [id, pair.asset, q.height]);
        return r ? BigInt(String(r.balance_after)) : 0n;
      }));
    };
    const r = await createCheckpoint({ store, config: cfg, fetchAnchorBalances }, { snapshotId: "snap-3", wait: false });
    expect(seen).toEqual([block("eth", 21, 300, "r").hash, block("eth", 21, 300, "q").hash]);
    expect(r.signed.document.anchors.find((a) => a.chain === "eth")!.hash).toBe(block("eth", 21, 300, "q").hash);
    expect(r.signed.document.discrepancies).toEqual([]);
    const rows = await store.raw("SELECT hash FROM checkpoint_anchors WHERE seq = ? AND chain = 'eth'", [r.stored.seq]);
    expect(rows.map((x) => String(x.hash))).toEqual([block("eth", 21, 300, "q").hash]);
  });

  it("a reconciliation round (what `start` runs): nothing new to checkpoint, live coverage per liability asset at the finalized heights", async () => {
    const r = await runCheckpointRound({ store, config: cfg, now: () => 1234 }, { checkpoints: true });
    expect(r.created).toEqual([]);
    expect(r.waiting).toEqual([]);
    const live = await loadLiveCoverage(store);
    // The latest snapshot is snap-3 (same as-of, imported last): ETH 1 owed; reserves at eth's finalized 25.
    expect(live).toEqual([
      { asset: "ETH", snapshotId: "snap-3", decimals: 18, liabilities: 10n ** 18n, reserves: 5n * 10n ** 18n, coverageBps: 50_000n, status: "covered", heights: { btc: 18, eth: 25 }, computedAtMs: 1234, label: "live" },
    ]);
  });

  it("alerts read the stored checkpoints and live coverage: the breach checkpoint alerts once; live ETH coverage 50,000 bps is above a 10,000 bps threshold", async () => {
    const problems: string[] = [];
    const alerts = resolveAlertsConfig({
      input: { rules: [{ name: "cp", type: "checkpoint", severity: "critical" }, { name: "cov", type: "coverage_below", severity: "critical", asset: "ETH", bps: 60_000 }, { name: "cov-ok", type: "coverage_below", severity: "critical", asset: "ETH", bps: 10_000 }] },
      chains: ["btc", "eth"], assets: cfg.assets, liabilityAssets: Object.keys(cfg.liabilityAssets), walletLabels: cfg.wallets.map((w) => w.label), resolveEnv: () => "", problems,
    });
    expect(problems).toEqual([]);
    const memory = createHealthMemory();
    const evaluate = () => evaluateHealthRules(store, { alerts, now: () => 5678, readers: createAlertReaders(), memory });
    // One alert per stored checkpoint that is, or has an asset that is, not covered; plus the live coverage.
    const stored: Array<{ seq: number; digest: string; status: string }> = [];
    for (const c of await loadCheckpoints(store)) {
      const doc = JSON.parse((await loadCheckpoint(store, { seq: c.seq }))!.signed).document as { status: string; assets: { status: string }[] };
      if (doc.status !== "covered" || doc.assets.some((a) => a.status !== "covered")) stored.push(c);
    }
    expect(stored.length).toBeGreaterThan(1);
    expect(await evaluate()).toBe(stored.length + 1);
    expect(await evaluate()).toBe(0);
    const raised = await loadAlerts(store);
    const cps = raised.filter((a) => a.rule === "cp");
    expect(cps.map((a) => a.values.seq).sort()).toEqual(stored.map((c) => c.seq).sort());
    const cp = cps.find((a) => a.values.seq === stored[0]!.seq)!;
    expect(cp).toMatchObject({ type: "checkpoint", status: "firing", severity: "critical" });
    expect(cp.values).toMatchObject({ digest: stored[0]!.digest, status: stored[0]!.status });
    expect(cp.values.assets as string[]).toContain("ETH:breach:8333");
    // 50,000 bps live (5 ETH against 1 owed): below 60,000 fires, above 10,000 does not.
    expect(raised.find((a) => a.rule === "cov")).toMatchObject({ status: "firing", asset: "ETH", values: expect.objectContaining({ coverage_bps: 50_000, threshold_bps: 60_000, live: true }) });
    expect(raised.find((a) => a.rule === "cov-ok")).toBeUndefined();
  });

  it("refuses a signing key that is not published for the snapshot's time", async () => {
    const expired = config({}, { notBefore: "2020-01-01T00:00:00Z", notAfter: "2021-01-01T00:00:00Z" } as never);
    const err = await createCheckpoint({ store, config: expired }, { snapshotId: "snap-1" }).catch((e) => e);
    expect(err.code).toBe("CHECKPOINT__KEY_NOT_PUBLISHED");
  });
});
