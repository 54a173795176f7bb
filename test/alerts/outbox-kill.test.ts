// kill -9 of the delivering process while deliveries are pending (some in flight): after a restart every alert is
// delivered at least once, with the same webhook-id and byte-identical body on every attempt; none lost.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { raiseAlertIn } from "../../src/alerts/raise-alert.js";
import { startAlertReceiver } from "../../src/devnet/alerts/start-alert-receiver.js";
import { openStore } from "../../src/store/index.js";
import { createSinkSecrets } from "./alert-fixtures.js";
import { buildKillConfig } from "./fixtures/kill-config.js";

const N = 60;

describe("kill -9 of Backstop while alert deliveries are pending", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  });

  it("delivers every alert at least once after a restart, ids stable, bodies byte-identical, none lost", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backstop-kill-"));
    const db = join(dir, "backstop.db");
    const { secret } = createSinkSecrets();
    const rx = await startAlertReceiver();
    // A slow receiver: every answer takes 150 ms, so the kill lands with deliveries in flight.
    rx.answer(() => ({ status: 204, delayMs: 150 }));
    const config = buildKillConfig({ rxUrl: rx.url, secret });
    const store = await openStore({ sqlitePath: db });
    const rule = config.alerts.rules[0]!;
    const ids: string[] = [];
    await store.tx(async (tx) => {
      for (let i = 0; i < N; i++) {
        const a = await raiseAlertIn(tx, store, { alerts: config.alerts, now: Date.now }, { rule, status: "firing", finality: "final", scope: { chain: "btc", extra: `to${i}` }, dedupeKey: `k${i}`, chain: "btc", summary: `alert ${i}`, values: { i } });
        ids.push(a!.id);
      }
    });
    await store.close();
    const start = () => {
      const c = spawn(process.execPath, ["--import", "tsx", "test/alerts/fixtures/run-outbox-worker.ts"], { env: { ...process.env, BACKSTOP_DB: db, RX_URL: rx.url, HOOK_SECRET: secret }, stdio: ["ignore", "pipe", "pipe"] });
      children.push(c);
      return c;
    };
    const first = start();
    await rx.waitFor(10, 30_000);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const atKill = rx.received.length;
    expect(atKill).toBeLessThan(N);
    const second = start();
    const until = Date.now() + 60_000;
    const seen = () => new Set(rx.received.map((r) => (JSON.parse(r.body) as { data: { id: string } }).data.id));
    while (seen().size < N && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    // Let the last answers land in the outbox before checking it.
    await new Promise((r) => setTimeout(r, 500));
    second.kill("SIGKILL");
    await new Promise((r) => second.once("exit", r));
    expect([...seen()].sort()).toEqual([...ids].sort());
    // Same message id ⇒ byte-identical body; each verifies.
    const byId = new Map<string, Set<string>>();
    for (const r of rx.received) {
      const id = r.headers["webhook-id"] as string;
      byId.set(id, (byId.get(id) ?? new Set()).add(r.body));
      expect(() => new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    }
    expect(byId.size).toBe(N);
    for (const bodies of byId.values()) expect(bodies.size).toBe(1);
    const duplicates = rx.received.length - N;
    console.log(`kill -9 after ${atKill} requests; ${rx.received.length} requests in all, ${duplicates} redelivered (at least once)`);
    const check = await openStore({ sqlitePath: db });
    const rows = await check.raw("SELECT status, count(*) AS n FROM alert_outbox GROUP BY status");
    await check.close();
    expect(rows).toEqual([{ status: "delivered", n: N }]);
    await rx.close();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
});
