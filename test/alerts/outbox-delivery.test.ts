import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOutboxWorker } from "../../src/alerts/create-outbox-worker.js";
import { raiseAlertIn } from "../../src/alerts/raise-alert.js";
import { computeWebhookPublicKey } from "../../src/alerts/sign-webhook.js";
import { verifyWebhook } from "../../src/alerts/verify-webhook.js";
import type { AlertDraft } from "../../src/alerts/types.js";
import { startAlertReceiver, type AlertReceiver } from "../../src/devnet/alerts/start-alert-receiver.js";
import type { ResolvedConfig } from "../../src/lib/config.js";
import type { Store } from "../../src/store/index.js";
import { openTestStore } from "../helpers/stores.js";
import { buildAlertsConfig, createSinkSecrets } from "./alert-fixtures.js";

const keys = createSinkSecrets();
const ROUTING_KEY = "R0123456789abcdef0123456789abcde".slice(0, 32);

describe("alert delivery through the outbox to real HTTP receivers on loopback", () => {
  let rx: AlertReceiver;
  let store: Store;
  let dispose: () => Promise<void>;
  let config: ResolvedConfig;
  let seq = 0;

  const raise = async ({ rule: ruleName, ...p }: Omit<Partial<AlertDraft>, "rule"> & { rule?: string } = {}) => {
    const rule = config.alerts.rules.find((r) => r.name === (ruleName ?? "stranger"))!;
    return store.tx((db) =>
      raiseAlertIn(db, store, { alerts: config.alerts, now: Date.now }, {
        rule, status: "firing", finality: "final", scope: { chain: "btc", wallet: "hot", asset: "BTC", extra: `cp${seq}` }, dedupeKey: `d${seq++}`,
        chain: "btc", wallet: "hot", asset: "BTC", txids: ["ab".repeat(32)], height: 7, blockHash: "cd".repeat(32), summary: "hot sent 1 BTC to a stranger", values: { amount: "100000000" },
        ...p,
      } as AlertDraft),
    );
  };

  beforeAll(async () => {
    rx = await startAlertReceiver();
  });
  afterAll(async () => rx.close());
  beforeEach(async () => {
    ({ store, dispose } = await openTestStore("sqlite"));
    rx.received.length = 0;
    rx.answer(undefined);
    config = buildAlertsConfig({
      rules: [
        { name: "stranger", type: "unknown_counterparty", severity: "critical", sinks: ["hook"], runbook: "https://runbooks.example.com/stranger" },
        { name: "paged", type: "unknown_counterparty", severity: "error", sinks: ["pd", "slack"] },
      ],
      sinks: {
        hook: { type: "webhook", url: `${rx.url}/hooks/backstop`, secret: { env: "HOOK_SECRET" }, signingKey: { env: "HOOK_SIGNING_KEY" } },
        slack: { type: "slack", url: { env: "SLACK_URL" } },
        pd: { type: "pagerduty", routingKey: { env: "PD_KEY" }, url: `${rx.url}/v2/enqueue` },
      },
      delivery: { allowInsecureLoopback: true, retryScheduleMs: [0, 100, 150, 200], timeoutMs: 400, pollIntervalMs: 20 },
    }, { HOOK_SECRET: keys.secret, HOOK_SIGNING_KEY: keys.signingKey, SLACK_URL: `${rx.url}/slack/T000/B000/XXXX`, PD_KEY: ROUTING_KEY });
  });
  afterEach(async () => dispose());

  const runUntil = async (pred: () => Promise<boolean>, ms = 8000, worker = createOutboxWorker({ store, alerts: config.alerts })) => {
    const abort = new AbortController();
    const run = worker.run({ signal: abort.signal });
    const until = Date.now() + ms;
    try {
      while (!(await pred())) {
        if (Date.now() > until) throw new Error("condition not reached");
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      abort.abort();
      await run;
    }
  };
  const statuses = async () => (await store.raw("SELECT status, attempts, last_error, last_status FROM alert_outbox ORDER BY created_at_ms")) as { status: string; attempts: number; last_error: string | null }[];

  it("every signature verifies with the standardwebhooks reference library (v1) and Ed25519 (v1a); a tampered body or an old timestamp fails", async () => {
    const alert = await raise();
    await createOutboxWorker({ store, alerts: config.alerts }).drainOnce();
    const [req] = await rx.waitFor(1);
    expect(req!.path).toBe("/hooks/backstop");
    const headers = req!.headers as Record<string, string>;
    expect(headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=* v1a,[A-Za-z0-9+/]+=*$/);
    const body = new Webhook(keys.secret).verify(req!.body, headers) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(body.type).toBe("alert.firing");
    expect(body.data).toMatchObject({ id: alert!.id, incident_key: alert!.incident_key, rule: "stranger", severity: "critical", status: "firing", chain: "btc", wallet: "hot", asset: "BTC", height: 7, block_hash: "cd".repeat(32), txids: ["ab".repeat(32)], runbook: "https://runbooks.example.com/stranger", values: { amount: "100000000" } });
    expect(verifyWebhook({ headers, body: req!.body, publicKey: computeWebhookPublicKey(keys.signingKey) })).toEqual({ ok: true, scheme: "v1a" });
    expect(verifyWebhook({ headers, body: req!.body, secret: keys.secret })).toEqual({ ok: true, scheme: "v1" });
    const tampered = req!.body.replace("100000000", "1");
    expect(() => new Webhook(keys.secret).verify(tampered, headers)).toThrow("No matching signature found");
    expect(verifyWebhook({ headers, body: tampered, publicKey: computeWebhookPublicKey(keys.signingKey) })).toMatchObject({ ok: false });
    expect(() => new Webhook(createSinkSecrets().secret).verify(req!.body, headers)).toThrow("No matching signature found");
    // A message signed 10 minutes ago (a replay) is refused by the library's 5-minute tolerance.
    await raise();
    await store.raw("UPDATE alert_outbox SET next_attempt_at_ms = 0 WHERE status = 'pending'");
    await createOutboxWorker({ store, alerts: config.alerts, now: () => Date.now() - 600_000 }).drainOnce();
    const [, old] = await rx.waitFor(2);
    expect(() => new Webhook(keys.secret).verify(old!.body, old!.headers as Record<string, string>)).toThrow("Message timestamp too old");
  });

  it("retries a 500 and a timeout on the schedule with the same id and byte-identical body, then delivers", async () => {
    await raise();
    let n = 0;
    rx.answer(() => (++n === 1 ? { status: 500, body: "oops" } : n === 2 ? "hang" : { status: 200 }));
    await runUntil(async () => (await statuses())[0]!.status === "delivered");
    expect(rx.received).toHaveLength(3);
    expect(new Set(rx.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(new Set(rx.received.map((r) => r.body)).size).toBe(1);
    for (const r of rx.received) expect(() => new Webhook(keys.secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    expect((await statuses())[0]).toMatchObject({ status: "delivered", attempts: 3 });
    // The schedule: 100 ms (±20%) after the 500, the timeout of 400 ms, 150 ms (±20%) after it.
    const gap1 = rx.received[1]!.atMs - rx.received[0]!.atMs;
    const gap2 = rx.received[2]!.atMs - rx.received[1]!.atMs;
    expect(gap1).toBeGreaterThanOrEqual(80);
    expect(gap2).toBeGreaterThanOrEqual(400 + 120 - 30);
  });

  it("honours Retry-After on 429 beyond the schedule", async () => {
    await raise();
    let n = 0;
    rx.answer(() => (++n === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 204 }));
    await runUntil(async () => (await statuses())[0]!.status === "delivered");
    expect(rx.received[1]!.atMs - rx.received[0]!.atMs).toBeGreaterThanOrEqual(990);
  });

  it("a 410 disables the endpoint: its pending messages fail with the reason, nothing more is sent to it", async () => {
    await raise();
    await raise();
    rx.answer(() => ({ status: 410 }));
    const w = createOutboxWorker({ store, alerts: config.alerts, concurrency: 1 });
    await w.drainOnce();
    expect(rx.received).toHaveLength(1);
    expect((await statuses()).map((s) => s.status)).toEqual(["failed", "failed"]);
    expect((await statuses())[1]!.last_error).toMatch(/410 Gone: sink disabled/);
    await raise();
    await w.drainOnce();
    expect(rx.received).toHaveLength(1);
    const [sink] = await store.raw("SELECT name, disabled_reason FROM alert_sinks");
    expect(sink).toMatchObject({ name: "hook" });
  });

  it("does not follow a redirect (it is a failure, retried), and caps the response read", async () => {
    await raise();
    let n = 0;
    rx.answer(() => (++n === 1 ? { status: 302, headers: { location: `${rx.url}/elsewhere` } } : { status: 200, body: "x".repeat(5_000_000) }));
    await runUntil(async () => (await statuses())[0]!.status === "delivered");
    expect(rx.received.map((r) => r.path)).toEqual(["/hooks/backstop", "/hooks/backstop"]);
  });

  it("PagerDuty Events v2: trigger and resolve with dedup_key = the incident key; Slack: one coalesced message per incident", async () => {
    const scope = { chain: "btc", wallet: "hot", asset: "BTC", extra: "same" };
    const first = await raise({ rule: "paged", scope, dedupeKey: "p1" });
    await raise({ rule: "paged", scope, dedupeKey: "p2", summary: "again" });
    await raise({ rule: "paged", scope, status: "resolved", dedupeKey: "p3", summary: "resolved" });
    await runUntil(async () => (await statuses()).every((s) => s.status === "delivered"));
    const pd = rx.received.filter((r) => r.path === "/v2/enqueue").map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(pd.map((e) => e.event_action)).toEqual(["trigger", "trigger", "resolve"]);
    for (const e of pd) expect(e).toMatchObject({ routing_key: ROUTING_KEY, dedup_key: first!.incident_key });
    expect(pd[0]).toMatchObject({ payload: { severity: "error", source: "backstop:btc", class: "unknown_counterparty", component: "hot", group: "BTC" } });
    const slack = rx.received.filter((r) => r.path.startsWith("/slack/"));
    expect(slack).toHaveLength(1);
    const text = (JSON.parse(slack[0]!.body) as { text: string }).text;
    expect(text).toContain("RESOLVED paged: resolved");
    expect(text).toContain("3 updates coalesced");
    expect(text).toContain(first!.incident_key);
  });
  it("PagerDuty gets an incident's events one at a time in the order raised, a retried trigger holding back the resolve behind it", async () => {
    const scope = { chain: "btc", wallet: "hot", asset: "BTC", extra: "ordered" };
    // Raised within a millisecond or two: their ids are hashes, so only the write order tells which came first.
    await raise({ rule: "paged", scope, dedupeKey: "o1", summary: "first" });
    await raise({ rule: "paged", scope, dedupeKey: "o2", summary: "second" });
    await raise({ rule: "paged", scope, status: "resolved", dedupeKey: "o3", summary: "resolved" });
    let n = 0;
    const answered: number[] = [];
    rx.answer((r) => {
      if (!r.path.startsWith("/v2/")) return { status: 200, body: "ok" };
      const i = n++;
      answered[i] = r.atMs + (i === 0 ? 0 : 150);
      return i === 0 ? { status: 500 } : { status: 202, body: "{}", delayMs: 150 };
    });
    await runUntil(async () => (await statuses()).every((s) => s.status === "delivered"));
    const pd = rx.received.filter((r) => r.path === "/v2/enqueue");
    const events = pd.map((r) => JSON.parse(r.body) as { event_action: string; payload?: { summary: string } });
    expect(events.map((e) => `${e.event_action}:${e.payload?.summary ?? ""}`)).toEqual(["trigger:paged: first", "trigger:paged: first", "trigger:paged: second", "resolve:"]);
    // Each request was sent only after the one before it had its answer.
    for (let i = 1; i < pd.length; i++) expect(pd[i]!.atMs).toBeGreaterThanOrEqual(answered[i - 1]! - 5);
  });
});
