// The running difference (issue 14, item 4) over real HTTP, on SQLite and Postgres: null before a liabilities
// snapshot exists; then, with a snapshot, a credited deposit, a withdrawal matched on chain and one still in
// flight, `runningDifference` carries exactly the figures `backstop status` prints (loadRunningDifference) and
// the hand-computed ones, with each chain's finalized height; a key without `read` is refused.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { resolveConfig, resolveMovementsConfig, resolveSnapshotAssets, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { importMovementRecords } from "../../src/reconcile/movements/import-movement-records.js";
import { loadRunningDifference } from "../../src/reconcile/movements/load-running-difference.js";
import { createMovementValidationContext } from "../../src/reconcile/movements/validate-movement-record.js";
import { startServeServer, type ServeServer } from "../../src/serve/create-serve-server.js";
import { openStore, saveBlock, saveFinalizedHeight, saveWallets, syncWalletStates, type Store } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS, type StoreKind } from "../helpers/stores.js";
import { BTC_ADDR } from "../reconcile/movements/movement-fixtures.js";
import { createTestKeys, gql } from "./serve-helpers.js";

const logger = createLogger({ level: process.env.TEST_LOG ?? "silent" });
const NOW = Date.now();
const T0 = Math.floor(NOW / 1000) - 100_000;
const QUERY = `{ runningDifference { source baseId baseAt heights { chain height }
  lines { asset baseLiabilities { value decimals display } deposits { value } withdrawals { value } liabilities { value display }
    reserves { value display } difference { value display } inFlight { value display } } } }`;

describe.each(STORE_KINDS)("GraphQL runningDifference (%s)", (kind: StoreKind) => {
  let writer: Awaited<ReturnType<typeof openTestStore>>;
  let reader: Store;
  let config: ResolvedConfig;
  let server: ServeServer;
  let dir: string;
  const { keys, config: apiKeys } = createTestKeys();
  const q = async (key = keys.reader.key) => gql(server.url, key, QUERY);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "backstop-gqlmv-"));
    writer = await openTestStore(kind);
    config = resolveConfig({
      path: "t.config.json",
      env: {},
      input: {
        store: { sqlitePath: writer.params.sqlitePath ?? join(dir, "unused.db") },
        serve: { apiKeys: apiKeys as never, rateLimitPerSecond: 100_000, rateLimitBurst: 100_000 },
        chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"] } },
        assets: { BTC: { chain: "btc", native: true, decimals: 8 } },
        wallets: [{ label: "cold", chain: "btc", address: "bcrt1qqurswpc8qurswpc8qurswpc8qurswpc8dxm0gk" }],
      },
    });
    const store = writer.store;
    const [cold] = await saveWallets(store, [{ chain: "btc", label: "cold", kind: "address", address: config.wallets[0]!.address! }]);
    await syncWalletStates(store, { chain: "btc", cursorHeight: null, configured: [{ walletId: cold!.id, birthday: null }], pendingReason: () => "x" });
    // 2 BTC in at height 3; 0.3 BTC out to a user at height 8 (its record matches it).
    for (let h = 0; h <= 10; h++) {
      await saveBlock(store, {
        block: { chain: "btc", height: h, hash: `h${h}`.padEnd(64, "0"), parentHash: h === 0 ? "0".repeat(64) : `h${h - 1}`.padEnd(64, "0"), time: T0 + 600 * h },
        changes: h === 3 ? [{ walletId: cold!.id, asset: "BTC", txid: "a".repeat(64), delta: 200_000_000n }] : h === 8 ? [{ walletId: cold!.id, asset: "BTC", txid: "b".repeat(64), delta: -30_000_000n }] : [],
        transfers: h === 8 ? [{ walletId: cold!.id, asset: "BTC", txid: "b".repeat(64), position: 0, direction: "out", amount: 30_000_000n, counterparty: BTC_ADDR, counterpartyWalletId: null }] : [],
      });
    }
    await saveFinalizedHeight(store, { chain: "btc", finalizedHeight: 9 });
    reader = await openStore(writer.params);
    server = await startServeServer({ store: reader, config, logger }, { port: 0, host: "127.0.0.1" });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await reader?.close();
    await writer?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("null before a snapshot; then the running difference per asset, equal to the status figures", async () => {
    const before = await q();
    expect(before.status, before.text).toBe(200);
    expect(before.body).toEqual({ data: { runningDifference: null } });

    const file = join(dir, "snap.csv");
    writeFileSync(file, "account_id,asset,amount\nu1,BTC,1\nu2,BTC,0.5\n");
    const asOfMs = (T0 + 600 * 2) * 1000;
    await importSnapshot({ store: writer.store, logger, now: () => new Date(NOW) }, { source: file, format: "csv", asOf: new Date(asOfMs).toISOString(), assets: resolveSnapshotAssets(config), snapshotId: "snap-1" });
    const at = (s: number) => new Date((T0 + s) * 1000).toISOString();
    const records = [
      { id: "d-1", kind: "deposit", chain: "btc", asset: "BTC", amount: "0.5", time: at(1900) },
      { id: "w-1", kind: "withdrawal", chain: "btc", asset: "BTC", amount: "0.3", counterparty: BTC_ADDR, txid: "b".repeat(64), time: at(4700) },
      { id: "w-2", kind: "withdrawal", chain: "btc", asset: "BTC", amount: "0.1", counterparty: BTC_ADDR, time: at(5000) },
      { id: "old", kind: "deposit", chain: "btc", asset: "BTC", amount: "7", time: at(100) }, // before the base: in the snapshot already
    ];
    await importMovementRecords({ store: writer.store, nowMs: () => NOW }, {
      bytes: Buffer.from(JSON.stringify(records)), format: "json", sourceName: "r.json", source: "http",
      validation: createMovementValidationContext(config, NOW), settings: resolveMovementsConfig(config), chains: ["btc"],
    });

    const r = await q();
    expect(r.status, r.text).toBe(200);
    expect(r.body.errors, r.text).toBeUndefined();
    const d = r.body.data.runningDifference;
    expect(d).toEqual({
      source: "liabilities_snapshot", baseId: "snap-1", baseAt: new Date(asOfMs).toISOString(), heights: [{ chain: "btc", height: 9 }],
      lines: [{
        asset: "BTC",
        baseLiabilities: { value: "150000000", decimals: 8, display: "1.5" },
        deposits: { value: "50000000" },
        withdrawals: { value: "30000000" },
        liabilities: { value: "170000000", display: "1.7" },
        reserves: { value: "170000000", display: "1.7" },
        difference: { value: "0", display: "0" },
        inFlight: { value: "10000000", display: "0.1" },
      }],
    });
    // The same figures `backstop status` and `movements difference` print.
    const direct = (await loadRunningDifference(writer.store, config))!;
    expect(direct.lines.map((l) => ({ ...l }))).toEqual([{
      asset: "BTC", baseLiabilities: 150_000_000n, deposits: 50_000_000n, withdrawals: 30_000_000n, liabilities: 170_000_000n,
      reserves: 170_000_000n, difference: 0n, inFlight: 10_000_000n,
    }]);

    // A key without `read` gets no data.
    const denied = await q(keys.metrics.key);
    expect(denied.body?.data?.runningDifference ?? null).toBeNull();
    expect(denied.status === 403 || (denied.body?.errors?.length ?? 0) > 0).toBe(true);
  });
});
