import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { raiseAlertIn } from "../../src/alerts/raise-alert.js";
import { resolveConfig, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { startServeServer, type ServeServer } from "../../src/serve/create-serve-server.js";
import { openStore, type Store } from "../../src/store/index.js";
import { createTestKeys, gql, runCli } from "../serve/serve-helpers.js";

describe("alerts through the API (alerts query, acknowledgeAlert) and the CLI (alerts list, alerts ack)", () => {
  const { keys, config: apiKeys } = createTestKeys();
  let dir: string;
  let configPath: string;
  let store: Store;
  let server: ServeServer;
  let config: ResolvedConfig;
  const ids: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "backstop-alerts-api-"));
    configPath = join(dir, "backstop.config.json");
    const input = {
      store: { sqlitePath: join(dir, "backstop.db") },
      serve: { apiKeys },
      chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"] } },
      assets: { BTC: { chain: "btc", decimals: 8, native: true } },
      wallets: [{ label: "hot", chain: "btc", address: "bcrt1qdka0zsu3rpec5qd2zul6ne3r5d7aqvan7lhnh0" }],
      alerts: { rules: [{ name: "stranger", type: "unknown_counterparty", severity: "critical" }, { name: "reorgs", type: "reorg", severity: "warning" }] },
    };
    await writeFile(configPath, JSON.stringify(input));
    config = resolveConfig({ input, path: configPath, env: {} });
    store = await openStore({ sqlitePath: config.store.sqlitePath });
    await store.tx(async (db) => {
      for (let i = 0; i < 3; i++) {
        const a = await raiseAlertIn(db, store, { alerts: config.alerts, now: () => 1_790_000_000_000 + i * 1000 }, {
          rule: config.alerts.rules[0]!, status: "firing", finality: i === 2 ? "unfinalized" : "final", scope: { chain: "btc", wallet: "hot", asset: "BTC", extra: `x${i}` }, dedupeKey: `k${i}`,
          chain: "btc", wallet: "hot", asset: "BTC", txids: [`${i}`.repeat(64)], height: 100 + i, blockHash: "ab".repeat(32), summary: `hot sent ${i} BTC to a stranger`, values: { amount: String(BigInt(i) * 10n ** 30n) },
        });
        ids.push(a!.id);
      }
    });
    server = await startServeServer({ store, config, logger: createLogger({ level: "warn", format: "json" }) }, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const Q = `query($open: Boolean, $after: String) { alerts(first: 2, open: $open, after: $after) { nodes { id rule severity finality withdrawn txids height blockHash values incidentKey acknowledgedBy deliveries { sink } } pageInfo { endCursor hasNextPage } } }`;

  it("lists alerts newest first with keyset pages; values keep amounts above 2^64 exact", async () => {
    const p1 = await gql(server.url, keys.reader.key, Q);
    expect(p1.status).toBe(200);
    expect(p1.body.data.alerts.nodes.map((n: { id: string }) => n.id)).toEqual([ids[2], ids[1]]);
    expect(p1.body.data.alerts.nodes[0]).toMatchObject({ severity: "info", finality: "unfinalized", withdrawn: false, height: 102 });
    expect(JSON.parse(p1.body.data.alerts.nodes[1].values)).toEqual({ amount: "1000000000000000000000000000000" });
    const p2 = await gql(server.url, keys.reader.key, Q, { after: p1.body.data.alerts.pageInfo.endCursor });
    expect(p2.body.data.alerts.nodes.map((n: { id: string }) => n.id)).toEqual([ids[0]]);
    expect(p2.body.data.alerts.pageInfo.hasNextPage).toBe(false);
  });

  it("acknowledgeAlert needs alerts:write (403 for a read-only key, 401 without one), records who, and drops it from open", async () => {
    const M = `mutation($id: String!) { acknowledgeAlert(id: $id) { id acknowledgedBy acknowledgedAt } }`;
    expect((await gql(server.url, keys.reader.key, M, { id: ids[1] })).status).toBe(403);
    expect((await gql(server.url, undefined, M, { id: ids[1] })).status).toBe(401);
    const ok = await gql(server.url, keys.alertsOnly.key, M, { id: ids[1] });
    expect(ok.status).toBe(200);
    expect(ok.body.data.acknowledgeAlert).toMatchObject({ id: ids[1], acknowledgedBy: "api:alerts-bot" });
    const missing = await gql(server.url, keys.alertsOnly.key, M, { id: "alrt_nope" });
    expect(missing.body.errors[0].extensions.code).toBe("ALERTS__NOT_FOUND");
    const open = await gql(server.url, keys.reader.key, `{ alerts(first: 10, open: true) { nodes { id } } }`);
    expect(open.body.data.alerts.nodes.map((n: { id: string }) => n.id)).toEqual([ids[2], ids[0]]);
  });

  it("backstop alerts list [--open] [--json] and alerts ack <id>", async () => {
    const json = JSON.parse(await runCli(["--config", configPath, "alerts", "list", "--json"])) as { id: string; acknowledged_by: string | null }[];
    expect(json.map((a) => a.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(json[1]!.acknowledged_by).toBe("api:alerts-bot");
    const acked = await runCli(["--config", configPath, "alerts", "ack", ids[0]!, "--by", "oncall-alice"]);
    expect(acked).toMatch(new RegExp(`^acknowledged ${ids[0]} \\(stranger, incident inc_[0-9a-f]{32}\\) by oncall-alice at `));
    const text = await runCli(["--config", configPath, "alerts", "list", "--open"]);
    expect(text).toContain(ids[2]);
    expect(text).not.toContain(ids[0]);
    expect(text).toMatch(/info {5}firing {3}stranger \(unknown_counterparty\) {2}btc\/hot\/BTC @102 abababababababab… {2}UNFINALIZED/);
    expect(text).toContain("    hot sent 2 BTC to a stranger");
  });
});
