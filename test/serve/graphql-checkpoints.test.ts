// Checkpoints, live coverage, reserves and their metrics over real HTTP, on SQLite and Postgres, against
// a store with two snapshots and real signed checkpoints (createCheckpoint via runCheckpointRound):
// `checkpoints` / `checkpoint(seq)` equal `backstop checkpoint list/show --json` (the CLI as a child
// process), `coverage` equals the stored live rows, `reserves` equals the checkpoint's backing lines at
// the same heights and the hand-computed figures, and /metrics carries the new series with those values.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { resolveConfig, resolveSnapshotAssets, type ConfigInput, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { canonicalizeJson } from "../../src/reconcile/canonicalize-json.js";
import type { SignedCheckpoint } from "../../src/reconcile/checkpoint-document.js";
import { runCheckpointRound } from "../../src/reconcile/follow-checkpoints.js";
import { createSigningKey } from "../../src/reconcile/signing-key.js";
import { startServeServer, type ServeServer } from "../../src/serve/create-serve-server.js";
import { loadLiveCoverage, openStore, saveBlock, saveFinalizedHeight, saveWallets, syncWalletStates, type Store } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS, type StoreKind } from "../helpers/stores.js";
import { createTestKeys, gql, runCli } from "./serve-helpers.js";

const logger = createLogger({ level: process.env.TEST_LOG ?? "silent" });
const T0 = 1_700_000_000;
const KEY = createSigningKey();
const USDC = "0x00000000000000000000000000000000000000c1";
const USDC18 = "0x00000000000000000000000000000000000000c2";

function configInput(p: { sqlitePath: string; apiKeys: unknown[] }): ConfigInput {
  return {
    store: { sqlitePath: p.sqlitePath },
    serve: { apiKeys: p.apiKeys as never, rateLimitPerSecond: 100_000, rateLimitBurst: 100_000 },
    // Windows small enough that both snapshots' windows are final at the heights below (btc 15 + 3, eth 30 + 5).
    chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"], windowBlocks: 3 }, eth: { chain: "anvil", rpc: ["http://127.0.0.1:1"], windowBlocks: 5 } },
    assets: {
      BTC_btc: { chain: "btc", native: true, decimals: 8, backs: "BTC" },
      ETH_eth: { chain: "eth", native: true, decimals: 18, backs: "ETH" },
      USDC_eth: { chain: "eth", address: USDC, decimals: 6, backs: "USDC" },
      USDC_bridged: { chain: "eth", address: USDC18, decimals: 18, backs: "USDC" },
    },
    liabilityAssets: { BTC: { decimals: 8 }, ETH: { decimals: 18 }, USDC: { decimals: 6 }, EUR: { decimals: 2 } },
    checkpoints: { signingKey: { env: "CP_KEY" }, keys: [{ x: KEY.jwk.x, notBefore: "2020-01-01T00:00:00Z" }] },
    wallets: [
      { label: "cold-btc", chain: "btc", address: "bcrt1qqurswpc8qurswpc8qurswpc8qurswpc8dxm0gk" },
      { label: "hot-eth", chain: "eth", address: "0x00000000000000000000000000000000000000e1" },
      { label: "cold-eth", chain: "eth", address: "0x00000000000000000000000000000000000000e2" },
    ],
  };
}

const block = (chain: string, height: number, spacing: number) => ({
  chain, height, hash: `${chain}h${height}`.padEnd(64, "0"), parentHash: height === 0 ? "0".repeat(64) : `${chain}h${height - 1}`.padEnd(64, "0"), time: T0 + spacing * height,
});

const CHECKPOINT_FIELDS = `seq digest previousDigest snapshotId status invalidates supersededBy kid createdAt
  anchors { chain caip2 height hash time rule anchored }
  assets { asset liabilities { value decimals display } reserves { value decimals display } surplus { value } coverageBps status
    backing { chain chainAsset amount { value decimals } scaled { value decimals } remainder { value decimals } wallets } }
  document signature { alg kid x value } signed`;
const RESERVES = `query R($asset: String!) { reserves(asset: $asset) {
  asset total { value decimals display } heights { chain height }
  chains { chain atHeight chainAsset amount { value decimals display } scaled { value decimals display } remainder { value decimals } wallets } } }`;

describe.each(STORE_KINDS)("GraphQL checkpoints, coverage, reserves and their metrics (%s)", (kind: StoreKind) => {
  let writer: Awaited<ReturnType<typeof openTestStore>>;
  let reader: Store;
  let config: ResolvedConfig;
  let server: ServeServer;
  let dir: string;
  let cliArgs: string[];
  let cliEnv: Record<string, string | undefined>;
  const { keys, config: apiKeys } = createTestKeys();
  const ids: Record<string, number> = {};
  /** `reserves` answers taken while the finalized heights were the first checkpoint's anchors. */
  const early: Record<string, any> = {};

  const q = async (query: string, variables?: Record<string, unknown>) => {
    const r = await gql(server.url, keys.reader.key, query, variables);
    expect(r.status, r.text).toBe(200);
    expect(r.body.errors, r.text).toBeUndefined();
    return r.body.data;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "backstop-gqlcp-"));
    writer = await openTestStore(kind);
    const input = configInput({ sqlitePath: writer.params.sqlitePath ?? join(dir, "unused.db"), apiKeys });
    config = resolveConfig({ input, path: "cp.config.json", env: { CP_KEY: KEY.text } });
    const store = writer.store;
    for (const chain of ["btc", "eth"]) {
      const rows = await saveWallets(store, config.wallets.filter((w) => w.chain === chain).map((w) => ({ chain, label: w.label, kind: "address" as const, address: w.address! })));
      for (const r of rows) ids[r.label] = r.id;
      await syncWalletStates(store, { chain, cursorHeight: null, configured: rows.map((r) => ({ walletId: r.id, birthday: null })), pendingReason: () => "x" });
    }
    // Bitcoin, a block every 600 s: 1.5 BTC at 3, +0.25 BTC at 12 (after the first checkpoint's anchor).
    for (let h = 0; h <= 20; h++) {
      const changes = h === 3 ? [{ walletId: ids["cold-btc"]!, asset: "BTC_btc", txid: "a", delta: 150_000_000n }] : h === 12 ? [{ walletId: ids["cold-btc"]!, asset: "BTC_btc", txid: "b", delta: 25_000_000n }] : [];
      await saveBlock(store, { block: block("btc", h, 600), changes });
    }
    // EVM, a block every 300 s: 5 ETH, 1,000.5 USDC (6 decimals) and 2.000000000000000001 bridged USDC (18: floors, remainder 1) at 2; +1 ETH at 25.
    for (let h = 0; h <= 40; h++) {
      const changes =
        h === 2 ? [
          { walletId: ids["hot-eth"]!, asset: "ETH_eth", txid: "c", delta: 10n ** 18n * 5n },
          { walletId: ids["hot-eth"]!, asset: "USDC_eth", txid: "d", delta: 1_000_500_000n },
          { walletId: ids["cold-eth"]!, asset: "USDC_bridged", txid: "e", delta: 2_000_000_000_000_000_001n },
        ] : h === 25 ? [{ walletId: ids["cold-eth"]!, asset: "ETH_eth", txid: "g", delta: 10n ** 18n }] : [];
      await saveBlock(store, { block: block("eth", h, 300), changes });
    }
    // Finalized at the heights snap-1's checkpoint will anchor on (btc 10, eth 21).
    await saveFinalizedHeight(store, { chain: "btc", finalizedHeight: 10 });
    await saveFinalizedHeight(store, { chain: "eth", finalizedHeight: 21 });
    const importAt = async (id: string, asOf: number, csv: string) => {
      const file = join(dir, `${id}.csv`);
      writeFileSync(file, csv);
      await importSnapshot({ store, logger, now: () => new Date((T0 + 100_000) * 1000) }, { source: file, format: "csv", asOf: new Date(asOf * 1000).toISOString(), assets: resolveSnapshotAssets(config), snapshotId: id });
    };
    await importAt("snap-1", T0 + 6300, "account_id,asset,amount\nu1,BTC,1\nu2,BTC,0.5\nu1,ETH,6\nu2,USDC,1002.5\nu1,EUR,10\n");
    reader = await openStore(writer.params);
    server = await startServeServer({ store: reader, config, logger }, { port: 0, host: "127.0.0.1" });
    for (const asset of ["BTC", "ETH", "USDC"]) early[asset] = (await q(RESERVES, { asset })).reserves;
    // Then finality moves on, a second snapshot arrives, and one reconciliation round signs both and stores live coverage.
    await saveFinalizedHeight(store, { chain: "btc", finalizedHeight: 18 });
    await saveFinalizedHeight(store, { chain: "eth", finalizedHeight: 35 });
    await importAt("snap-2", T0 + 9000, "account_id,asset,amount\nu1,BTC,2\nu1,ETH,5.5\nu2,USDC,1002.5\n");
    const round = await runCheckpointRound({ store, config, now: () => 1_800_000_000_000 }, { checkpoints: true });
    expect(round.created.map((c) => c.stored.seq)).toEqual([1, 2]);
    const cfgFile = join(dir, "backstop.config.json");
    writeFileSync(cfgFile, JSON.stringify(input));
    cliArgs = ["--config", cfgFile];
    cliEnv = { CP_KEY: KEY.text, ...(kind === "postgres" ? { DATABASE_URL: writer.params.databaseUrl, BACKSTOP_PG_SCHEMA: writer.params.pgSchema } : { DATABASE_URL: "", BACKSTOP_PG_SCHEMA: "" }) };
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await reader?.close();
    await writer?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("checkpoints(first, after) pages without skipping or repeating and equals `backstop checkpoint list --json`", async () => {
    const nodes: any[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const d = await q(`query C($after: String) { checkpoints(first: 1, after: $after) { nodes { ${CHECKPOINT_FIELDS} } pageInfo { endCursor hasNextPage } } }`, { after });
      nodes.push(...d.checkpoints.nodes);
      after = d.checkpoints.pageInfo.endCursor;
      if (!d.checkpoints.pageInfo.hasNextPage) break;
    }
    const list = JSON.parse(await runCli([...cliArgs, "checkpoint", "list", "--json"], cliEnv)) as any[];
    expect(list.map((c) => c.seq)).toEqual([1, 2]);
    expect(nodes.map((n) => ({
      seq: n.seq, digest: n.digest, previousDigest: n.previousDigest, snapshotId: n.snapshotId, status: n.status, invalidates: n.invalidates,
      supersededBy: n.supersededBy, kid: n.kid, createdAtMs: Date.parse(n.createdAt), anchors: n.anchors.map((a: any) => ({ chain: a.chain, height: a.height, hash: a.hash })),
    }))).toEqual(list);
    expect(nodes.map((n) => n.anchors.map((a: any) => [a.chain, a.height]))).toEqual([[["btc", 10], ["eth", 21]], [["btc", 15], ["eth", 30]]]);
    // A cursor past the end: an empty page; a foreign cursor: refused.
    const end = await q(`query C($after: String) { checkpoints(first: 5, after: $after) { nodes { seq } pageInfo { hasNextPage endCursor } } }`, { after });
    expect(end.checkpoints).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const bad = await gql(server.url, keys.reader.key, `{ checkpoints(after: "eyJ4Ijox") { nodes { seq } } }`);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe("SERVE__INVALID_ARGUMENT");
  });

  it("checkpoint(seq) has the published bytes of `backstop checkpoint show --json`, its document, digest and signature", async () => {
    for (const seq of [1, 2]) {
      const shown = await runCli([...cliArgs, "checkpoint", "show", String(seq), "--json"], cliEnv);
      const c = (await q(`query C($seq: Int!) { checkpoint(seq: $seq) { ${CHECKPOINT_FIELDS} } }`, { seq })).checkpoint;
      expect(c.signed).toBe(shown);
      const published = JSON.parse(shown) as SignedCheckpoint;
      expect(c.document).toBe(canonicalizeJson(published.document));
      expect(`sha256:${createHash("sha256").update(c.document, "utf8").digest("hex")}`).toBe(c.digest);
      expect(c.digest).toBe(published.digest);
      expect(c.signature).toEqual(published.signature);
      expect(c.status).toBe(published.document.status);
      expect(c.assets.map((a: any) => [a.asset, a.liabilities.value, a.reserves?.value ?? null, a.surplus?.value ?? null, a.coverageBps, a.status])).toEqual(
        published.document.assets.map((a) => [a.asset, a.liabilities, a.reserves, a.surplus, a.coverageBps, a.status]),
      );
    }
    expect((await q(`{ checkpoint(seq: 99) { seq } }`)).checkpoint).toBeNull();
  });

  it("reserves(asset) equals the checkpoint's per-chain backing at the same heights, exactly", async () => {
    const cp1 = JSON.parse((await q(`{ checkpoint(seq: 1) { signed } }`)).checkpoint.signed) as SignedCheckpoint;
    for (const asset of ["BTC", "ETH", "USDC"]) {
      const r = early[asset];
      const entry = cp1.document.assets.find((a) => a.asset === asset)!;
      expect(r.asset).toBe(asset);
      expect(r.heights).toEqual(cp1.document.anchors.filter((a) => entry.backing.some((b) => b.chain === a.chain)).map((a) => ({ chain: a.chain, height: a.height })));
      expect(r.total.value).toBe(entry.reserves);
      expect(r.chains.map((c: any) => ({
        chain: c.chain, chainAsset: c.chainAsset, decimals: c.amount.decimals, amount: c.amount.value, scaled: c.scaled.value, remainder: c.remainder.value, wallets: c.wallets,
      }))).toEqual(entry.backing.map(({ window: _w, ...b }) => b)); // the reserve window is the checkpoint's own, not a reserves figure
      for (const c of r.chains) expect(c.atHeight).toBe(cp1.document.anchors.find((a) => a.chain === c.chain)!.height);
    }
    // The figures themselves (a wrong sum or scaling fails here even if checkpoints shared the bug).
    expect(early.BTC.total).toEqual({ value: "150000000", decimals: 8, display: "1.5" });
    expect(early.USDC.total).toEqual({ value: "1002500000", decimals: 6, display: "1002.5" });
    expect(early.USDC.chains.find((c: any) => c.chainAsset === "USDC_bridged")).toMatchObject({ scaled: { value: "2000000", decimals: 6 }, remainder: { value: "1", decimals: 18 }, amount: { display: "2.000000000000000001" } });
    expect(early.ETH.total.value).toBe(String(5n * 10n ** 18n));
  });

  it("coverage equals the stored live rows, and reserves at today's finalized heights equal them", async () => {
    const rows = await loadLiveCoverage(writer.store);
    expect(rows.map((r) => r.asset)).toEqual(["BTC", "ETH", "USDC"]); // snap-2 (the latest) has no EUR
    const d = await q(`{ coverage { asset snapshotId liabilities { value decimals } reserves { value decimals display } coverageBps status heights { chain height } computedAt label } }`);
    expect(d.coverage).toEqual(rows.map((r) => ({
      asset: r.asset, snapshotId: r.snapshotId, liabilities: { value: r.liabilities.toString(), decimals: r.decimals },
      reserves: { value: r.reserves.toString(), decimals: r.decimals, display: expect.any(String) }, coverageBps: r.coverageBps?.toString() ?? null, status: r.status,
      heights: Object.entries(r.heights).sort().map(([chain, height]) => ({ chain, height })), computedAt: new Date(r.computedAtMs).toISOString(), label: "live",
    })));
    expect(d.coverage.find((c: any) => c.asset === "BTC")).toMatchObject({ snapshotId: "snap-2", reserves: { value: "175000000", display: "1.75" }, coverageBps: "8750", status: "breach" });
    expect(d.coverage.find((c: any) => c.asset === "ETH")).toMatchObject({ reserves: { value: String(6n * 10n ** 18n) }, coverageBps: "10909", status: "covered" });
    for (const asset of ["BTC", "ETH", "USDC"]) {
      const r = (await q(RESERVES, { asset })).reserves;
      const live = rows.find((x) => x.asset === asset)!;
      expect(r.total.value).toBe(live.reserves.toString());
      expect(Object.fromEntries(r.heights.map((h: any) => [h.chain, h.height]))).toEqual(Object.fromEntries(Object.entries(live.heights).filter(([c]) => r.heights.some((h: any) => h.chain === c))));
    }
    expect((await q(RESERVES, { asset: "BTC" })).reserves.heights).toEqual([{ chain: "btc", height: 18 }]);
    // An asset with no backing: zero over no chain; an unknown one: refused.
    expect((await q(RESERVES, { asset: "EUR" })).reserves).toEqual({ asset: "EUR", total: { value: "0", decimals: 2, display: "0" }, heights: [], chains: [] });
    const bad = await gql(server.url, keys.reader.key, RESERVES, { asset: "DOGE" });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe("SERVE__INVALID_ARGUMENT");
  });

  it("/metrics carries checkpoints by status, the last one's time, live coverage bps, alerts by rule and severity, the oldest undelivered alert's age", async () => {
    const now = Date.now();
    const s = writer.store;
    await s.raw(`INSERT INTO alert_incidents (incident_key, rule, type, severity, status, alert_count, last_alert_id, opened_at_ms, updated_at_ms) VALUES
      ('i1', 'big-outflow', 'outflow', 'critical', 'firing', 2, 'a2', ?, ?), ('i2', 'reorgs', 'reorg', 'info', 'firing', 2, 'a4', ?, ?)`, [now, now, now, now]);
    const alert = (id: string, inc: string, rule: string, sev: string, state: string, ack: number | null) =>
      s.raw(`INSERT INTO alerts (id, dedupe_key, incident_key, rule, type, severity, status, finality, state, txids, summary, details, created_at_ms, ack_at_ms)
        VALUES (?, ?, ?, ?, 'x', ?, 'firing', 'final', ?, '[]', 's', '{}', ?, ?)`, [id, id, inc, rule, sev, state, now, ack]);
    await alert("a1", "i1", "big-outflow", "critical", "active", now);
    await alert("a2", "i1", "big-outflow", "critical", "active", null);
    await alert("a3", "i2", "reorgs", "warning", "withdrawn", null);
    await alert("a4", "i2", "reorgs", "info", "active", null);
    await s.raw(`INSERT INTO alert_outbox (id, alert_id, incident_key, sink, event, body, status, attempts, next_attempt_at_ms, created_at_ms) VALUES
      ('o1', 'a1', 'i1', 'hook', 'alert.firing', '{}', 'delivered', 1, 0, ?), ('o2', 'a2', 'i1', 'hook', 'alert.firing', '{}', 'pending', 3, 0, ?),
      ('o3', 'a4', 'i2', 'hook', 'alert.firing', '{}', 'pending', 0, 0, ?)`, [now - 900_000, now - 120_000, now - 5_000]);

    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.metrics.key}` } });
    expect(res.status).toBe(200);
    const families = parsePrometheusTextFormat(await res.text());
    const family = (name: string) => families.find((f) => f.name === name);
    const value = (name: string, labels: Record<string, string> = {}) => {
      const m = family(name)?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
      return m?.value === undefined ? undefined : Number(m.value);
    };
    const list = JSON.parse(await runCli([...cliArgs, "checkpoint", "list", "--json"], cliEnv)) as Array<{ status: string; createdAtMs: number }>;
    const byStatus: Record<string, number> = {};
    for (const c of list) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
    expect(Object.fromEntries(family("backstop_checkpoints")!.metrics.map((m) => [m.labels!.status, Number(m.value)]))).toEqual(byStatus);
    expect(value("backstop_checkpoint_last_created_timestamp_seconds")).toBe(Math.floor(Math.max(...list.map((c) => c.createdAtMs)) / 1000));
    const live = await loadLiveCoverage(writer.store);
    expect(Object.fromEntries(family("backstop_live_coverage_bps")!.metrics.map((m) => [m.labels!.asset, Number(m.value)]))).toEqual(
      Object.fromEntries(live.filter((l) => l.coverageBps !== null).map((l) => [l.asset, Number(l.coverageBps)])),
    );
    expect(value("backstop_live_coverage_bps", { asset: "BTC" })).toBe(8750);
    expect(value("backstop_alerts", { rule: "big-outflow", severity: "critical" })).toBe(2);
    expect(value("backstop_alerts_open", { rule: "big-outflow", severity: "critical" })).toBe(1);
    expect(value("backstop_alerts", { rule: "reorgs", severity: "info" })).toBe(1);
    expect(value("backstop_alerts", { rule: "reorgs", severity: "warning" })).toBeUndefined(); // withdrawn
    const age = value("backstop_alert_oldest_undelivered_age_seconds")!;
    expect(age).toBeGreaterThanOrEqual(119);
    expect(age).toBeLessThan(180);
    for (const f of families) expect(f.name).toMatch(/^backstop_[a-z0-9_]+$/);
    expect(JSON.stringify(families)).not.toContain("0x00000000000000000000000000000000000000e1");

    // Nothing pending: the age is 0.
    await s.raw("UPDATE alert_outbox SET status = 'delivered'");
    const again = parsePrometheusTextFormat(await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.metrics.key}` } })).text());
    expect(Number(again.find((f) => f.name === "backstop_alert_oldest_undelivered_age_seconds")!.metrics[0]!.value)).toBe(0);
  });
});
