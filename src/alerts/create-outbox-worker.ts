import { and, asc, eq, gt, inArray, lte, min } from "drizzle-orm";
import type { KeyObject } from "node:crypto";
import type { AlertSinkConfig, ResolvedAlerts } from "../lib/alerts-config.js";
import { isBackstopError } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { recordAlertDelivery } from "../lib/metrics.js";
import { postGuarded, SinkAddressRefusedError, type GuardedResponse, type ResolveHost } from "../lib/post-guarded.js";
import type { Store } from "../store/index.js";
import { buildPagerDutyEvent, buildSlackMessage, type AlertBody } from "./build-sink-messages.js";
import { computeRetryDelay, parseRetryAfter } from "./compute-retry-delay.js";
import { buildWebhookHeaders, createEd25519SigningKey } from "./sign-webhook.js";

export type CreateOutboxWorkerParameters = {
  store: Store;
  alerts: ResolvedAlerts;
  logger?: Logger;
  /** Clock, unix ms. Default Date.now. */
  now?: () => number;
  /** [0, 1) for retry jitter. Default Math.random. */
  random?: () => number;
  /** DNS for the SSRF guard (tests make a name resolve to loopback). Default the system resolver. */
  resolve?: ResolveHost;
  /** Messages sent at once, over all sinks. Default 8. */
  concurrency?: number;
};

/** The delivery worker: drains the outbox, retrying on the schedule; `run` polls until aborted. */
export type OutboxWorker = {
  /** One pass over the due messages; resolves when their attempts are done. Returns how many were attempted. */
  drainOnce(): Promise<number>;
  /** Polls every pollIntervalMs (or sooner after wake) until the signal aborts. */
  run(p: { signal: AbortSignal }): Promise<void>;
  /** Asks for a pass now (after a block commit: the alert it raised goes out without waiting for the poll). */
  wake(): void;
};

/** Slack's incoming webhooks take about one message per second per channel. */
const SLACK_INTERVAL_MS = 1100;

type Row = typeof import("../store/schema-sqlite.js").alertOutbox.$inferSelect;
type Outcome = { kind: "delivered" } | { kind: "retry"; retryAfterMs: number | null; error: string; status: number | null } | { kind: "disabled"; status: number } | { kind: "refused"; error: string };

/**
 * Creates the delivery worker. At least once: a message is marked delivered only after its receiver's 2xx,
 * so a crash (kill -9) at any instant leaves it pending, and the next process sends it again with the same
 * `webhook-id` and the same body bytes (receivers dedupe on the id). Redirects are failures; 410 disables the
 * sink (its pending messages fail, the reason is stored); 429/502/503/504 honour Retry-After; other failures
 * retry on the schedule (Standard Webhooks' by default) with jitter, then fail. Slack messages are coalesced
 * per incident (one message for the newest event of each incident) at most one per second per sink. PagerDuty
 * gets each incident's events one at a time, in the order they were raised (`seq`).
 */
export function createOutboxWorker(p: CreateOutboxWorkerParameters): OutboxWorker {
  const { store } = p;
  const { t } = store;
  const now = p.now ?? Date.now;
  const random = p.random ?? Math.random;
  const d = p.alerts.delivery;
  const sinks = new Map(p.alerts.sinks.map((s) => [s.name, s]));
  const keys = new Map<string, KeyObject>();
  for (const s of p.alerts.sinks) if (s.type === "webhook" && s.signingKey) keys.set(s.name, createEd25519SigningKey(s.signingKey));
  const inFlight = new Set<string>();
  /** Sinks a receiver disabled during this process's passes (a 410 stops the rest of a pass at once). */
  const disabledNow = new Set<string>();
  const slackNextAt = new Map<string, number>();
  /** When each sink was last attempted (recovery probes). */
  const lastAttemptAt = new Map<string, number>();
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;

  async function send(sink: AlertSinkConfig, row: Row, bodies: Row[]): Promise<Outcome> {
    const guard = { allowInsecureLoopback: d.allowInsecureLoopback, timeoutMs: d.timeoutMs, maxResponseBytes: d.maxResponseBytes, resolve: p.resolve };
    let res: GuardedResponse;
    try {
      if (sink.type === "webhook") {
        const headers = buildWebhookHeaders({ id: row.id, timestampSeconds: Math.floor(now() / 1000), body: row.body, secret: sink.secret, signingKey: keys.get(sink.name) });
        res = await postGuarded(sink.url, { headers: { ...headers, "content-type": "application/json", "user-agent": "backstop-alerts" }, body: row.body }, guard);
      } else if (sink.type === "slack") {
        const msg = buildSlackMessage({ body: JSON.parse(row.body) as AlertBody, coalesced: bodies.length });
        res = await postGuarded(sink.url, { headers: { "content-type": "application/json" }, body: JSON.stringify(msg) }, guard);
      } else {
        const event = buildPagerDutyEvent({ body: JSON.parse(row.body) as AlertBody, routingKey: sink.routingKey });
        res = await postGuarded(sink.url, { headers: { "content-type": "application/json" }, body: JSON.stringify(event) }, guard);
      }
    } catch (err) {
      if (err instanceof SinkAddressRefusedError) return { kind: "refused", error: err.shortMessage };
      return { kind: "retry", retryAfterMs: null, error: isBackstopError(err) ? err.shortMessage : String(err), status: null };
    }
    if (res.status >= 200 && res.status < 300) return { kind: "delivered" };
    if (res.status === 410) return { kind: "disabled", status: 410 };
    const honours = [429, 502, 503, 504].includes(res.status);
    return { kind: "retry", status: res.status, retryAfterMs: honours ? parseRetryAfter(res.headers["retry-after"], now()) : null, error: res.status >= 300 && res.status < 400 ? `HTTP ${res.status} (redirects are not followed)` : `HTTP ${res.status}` };
  }

  async function settle(sink: AlertSinkConfig, rows: Row[], outcome: Outcome, probe = false): Promise<void> {
    const ids = rows.map((r) => r.id);
    const at = now();
    const log = { sink: sink.name, sink_type: sink.type, messages: ids.length, alert_id: rows[0]!.alertId, msg_id: rows[0]!.id };
    if (outcome.kind === "delivered") {
      const recovered = await store.tx(async (db) => {
        await db.update(t.alertOutbox).set({ status: "delivered", deliveredAtMs: at, lastStatus: 200, lastError: null }).where(inArray(t.alertOutbox.id, ids));
        // The receiver answers again: whatever waits for a later retry step is due now.
        return db.update(t.alertOutbox).set({ nextAttemptAtMs: at }).where(and(eq(t.alertOutbox.sink, sink.name), eq(t.alertOutbox.status, "pending"), gt(t.alertOutbox.nextAttemptAtMs, at))).returning({ id: t.alertOutbox.id });
      });
      if (recovered.length) {
        p.logger?.info({ msg: "alert sink answers again; its waiting messages are due now", sink: sink.name, messages: recovered.length });
        pendingWake = true;
      }
      for (const r of rows) recordAlertDelivery({ sink: sink.name, outcome: "delivered", seconds: (at - Number(r.createdAtMs)) / 1000 });
      p.logger?.debug({ msg: "alert delivered", ...log });
      return;
    }
    if (outcome.kind === "disabled" || outcome.kind === "refused") {
      const reason = outcome.kind === "disabled" ? "the receiver answered 410 Gone: sink disabled" : outcome.error;
      if (outcome.kind === "disabled") disabledNow.add(sink.name);
      await store.tx(async (db) => {
        if (outcome.kind === "disabled") {
          await db.insert(t.alertSinks).values({ name: sink.name, disabledAtMs: at, disabledReason: reason }).onConflictDoUpdate({ target: t.alertSinks.name, set: { disabledAtMs: at, disabledReason: reason } });
          await db.update(t.alertOutbox).set({ status: "failed", lastError: reason, lastStatus: 410 }).where(and(eq(t.alertOutbox.sink, sink.name), eq(t.alertOutbox.status, "pending")));
        } else await db.update(t.alertOutbox).set({ status: "failed", lastError: reason }).where(inArray(t.alertOutbox.id, ids));
      });
      recordAlertDelivery({ sink: sink.name, outcome: outcome.kind });
      p.logger?.error({ msg: outcome.kind === "disabled" ? "alert sink disabled by its receiver (410)" : "alert sink address refused", ...log, error: reason });
      return;
    }
    if (probe) {
      // A failed probe leaves the message's own schedule as it was.
      await store.tx(async (db) => {
        await db.update(t.alertOutbox).set({ lastError: `${outcome.error} (recovery probe)`, lastStatus: outcome.status }).where(inArray(t.alertOutbox.id, ids));
      });
      recordAlertDelivery({ sink: sink.name, outcome: "retry" });
      return;
    }
    await store.tx(async (db) => {
      for (const r of rows) {
        // `attempts` already counts this one (counted before the request).
        const attempts = Number(r.attempts);
        const delay = computeRetryDelay({ attempts, schedule: d.retryScheduleMs, retryAfterMs: outcome.retryAfterMs, random });
        await db.update(t.alertOutbox)
          .set(delay === null ? { status: "failed", lastError: `${outcome.error}; retry schedule exhausted after ${attempts} attempts`, lastStatus: outcome.status } : { nextAttemptAtMs: at + delay, lastError: outcome.error, lastStatus: outcome.status })
          // Still pending only: a rollback may have cancelled it while it was in flight.
          .where(and(eq(t.alertOutbox.id, r.id), eq(t.alertOutbox.status, "pending")));
      }
    });
    recordAlertDelivery({ sink: sink.name, outcome: "retry" });
    p.logger?.warn({ msg: "alert delivery failed, will retry", ...log, status: outcome.status, error: outcome.error });
  }

  async function attempt(sink: AlertSinkConfig, rows: Row[], probe = false): Promise<void> {
    if (disabledNow.has(sink.name)) return;
    const ids = rows.map((r) => r.id);
    for (const id of ids) inFlight.add(id);
    lastAttemptAt.set(sink.name, now());
    try {
      // Counted before the request: a receiver may get it even if we die before we hear back (a probe is not counted).
      if (!probe) {
        await store.tx(async (db) => {
          for (const r of rows) await db.update(t.alertOutbox).set({ attempts: Number(r.attempts) + 1 }).where(eq(t.alertOutbox.id, r.id));
        });
      }
      const newest = rows[rows.length - 1]!;
      const outcome = await send(sink, newest, rows);
      await settle(sink, rows.map((r) => ({ ...r, attempts: Number(r.attempts) + (probe ? 0 : 1) })), outcome, probe).catch((err) => {
        p.logger?.error({ msg: "alert outbox not updated (the message will be sent again)", sink: sink.name, error: isBackstopError(err) ? err.shortMessage : String(err) });
      });
    } finally {
      for (const id of ids) inFlight.delete(id);
    }
  }

  async function drainOnce(): Promise<number> {
    const at = now();
    const due = await store.db.select().from(t.alertOutbox).where(and(eq(t.alertOutbox.status, "pending"), lte(t.alertOutbox.nextAttemptAtMs, at))).orderBy(asc(t.alertOutbox.seq)).limit(500);
    const disabled = new Set((await store.db.select().from(t.alertSinks)).filter((s) => s.disabledAtMs !== null).map((s) => s.name));
    // PagerDuty: an incident's events go one at a time in the order they were raised (a `resolve` that
    // overtook its `trigger` would leave the incident open there), so only the oldest pending message of
    // each (sink, incident) may go, due or not; the next goes once it is delivered or failed.
    const pagerDuty = [...sinks.values()].filter((s) => s.type === "pagerduty").map((s) => s.name);
    const heads = new Map<string, number>();
    if (pagerDuty.length && due.some((r) => pagerDuty.includes(r.sink))) {
      const rows = await store.db.select({ sink: t.alertOutbox.sink, incidentKey: t.alertOutbox.incidentKey, head: min(t.alertOutbox.seq) }).from(t.alertOutbox)
        .where(and(inArray(t.alertOutbox.sink, pagerDuty), eq(t.alertOutbox.status, "pending"))).groupBy(t.alertOutbox.sink, t.alertOutbox.incidentKey);
      for (const h of rows) heads.set(`${h.sink}\u0000${h.incidentKey}`, Number(h.head));
    }
    const jobs: { sink: AlertSinkConfig; rows: Row[]; probe?: boolean }[] = [];
    const slackGroups = new Map<string, Row[]>();
    const orphans: Row[] = [];
    /** PagerDuty incidents with a due message behind their head. */
    const behind = new Set<string>();
    for (const r of due) {
      if (inFlight.has(r.id)) continue;
      const sink = sinks.get(r.sink);
      if (!sink || disabled.has(r.sink)) {
        orphans.push(r);
        continue;
      }
      const k = `${r.sink}\u0000${r.incidentKey}`;
      if (sink.type === "slack") slackGroups.set(k, [...(slackGroups.get(k) ?? []), r]);
      else if (sink.type === "pagerduty") {
        if (heads.get(k) !== Number(r.seq)) {
          behind.add(k);
          continue;
        }
        jobs.push({ sink, rows: [r] });
      } else jobs.push({ sink, rows: [r] });
    }
    if (orphans.length) {
      await store.tx(async (db) => {
        await db.update(t.alertOutbox).set({ status: "failed", lastError: "sink removed from the config or disabled by its receiver" }).where(inArray(t.alertOutbox.id, orphans.map((r) => r.id)));
      });
    }
    // Slack: one message per incident (its newest event), one message per sink per second.
    for (const [k, rows] of slackGroups) {
      const name = k.split("\u0000")[0]!;
      if ((slackNextAt.get(name) ?? 0) > at) continue;
      slackNextAt.set(name, at + SLACK_INTERVAL_MS);
      jobs.push({ sink: sinks.get(name)!, rows });
    }
    // Recovery probes: a sink with messages waiting but none due gets its oldest one early, every probeIntervalMs.
    const busy = new Set(jobs.map((j) => j.sink.name));
    for (const sink of sinks.values()) {
      if (busy.has(sink.name) || disabled.has(sink.name) || at - (lastAttemptAt.get(sink.name) ?? 0) < d.probeIntervalMs) continue;
      const [oldest] = await store.db.select().from(t.alertOutbox).where(and(eq(t.alertOutbox.sink, sink.name), eq(t.alertOutbox.status, "pending"))).orderBy(asc(t.alertOutbox.seq)).limit(1);
      if (oldest && !inFlight.has(oldest.id)) jobs.push({ sink, rows: [oldest], probe: true });
    }
    const limit = p.concurrency ?? 8;
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const j = jobs[next++]!;
        await attempt(j.sink, j.rows, j.probe);
      }
    }));
    // A head that went out in this pass lets the message behind it go: the next pass runs at once.
    if (jobs.some((j) => j.sink.type === "pagerduty" && behind.has(`${j.sink.name}\u0000${j.rows[0]!.incidentKey}`))) pendingWake = true;
    return jobs.length;
  }

  return {
    drainOnce,
    wake() {
      pendingWake = true;
      wakeUp?.();
    },
    async run({ signal }) {
      while (!signal.aborted) {
        try {
          await drainOnce();
        } catch (err) {
          p.logger?.warn({ msg: "alert outbox pass failed", error: isBackstopError(err) ? err.shortMessage : String(err) });
        }
        if (pendingWake) {
          pendingWake = false;
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, d.pollIntervalMs);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            wakeUp = undefined;
            resolve();
          }
          wakeUp = done;
          signal.addEventListener("abort", done, { once: true });
        });
        pendingWake = false;
      }
    },
  };
}
