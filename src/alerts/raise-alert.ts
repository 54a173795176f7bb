import { and, eq, inArray } from "drizzle-orm";
import type { ResolvedAlerts } from "../lib/alerts-config.js";
import type { Db, Store } from "../store/index.js";
import { computeIncidentKey, computeStableId } from "./compute-incident-key.js";
import type { AlertDraft, AlertEvent, AlertRecord } from "./types.js";

/** What raising an alert needs: the sinks, and the clock (unix ms). */
export type AlertsContext = { alerts: ResolvedAlerts; now: () => number };

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Builds the record delivered for an alert row (the `data` of a webhook body). */
export function buildAlertRecord(r: typeof import("../store/schema-sqlite.js").alerts.$inferSelect): AlertRecord {
  return {
    id: r.id,
    incident_key: r.incidentKey,
    rule: r.rule,
    type: r.type as AlertRecord["type"],
    severity: r.severity as AlertRecord["severity"],
    status: r.status as AlertRecord["status"],
    finality: r.finality as AlertRecord["finality"],
    state: r.state as AlertRecord["state"],
    chain: r.chain,
    wallet: r.wallet,
    asset: r.asset,
    txids: JSON.parse(r.txids) as string[],
    height: r.height === null ? null : Number(r.height),
    block_hash: r.blockHash,
    summary: r.summary,
    values: JSON.parse(r.details) as AlertRecord["values"],
    runbook: r.runbook,
    created_at: iso(Number(r.createdAtMs)),
    acknowledged_at: r.ackAtMs === null ? null : iso(Number(r.ackAtMs)),
    acknowledged_by: r.ackBy,
  };
}

/**
 * Writes outbox rows for an alert event, one per sink of its rule, INSIDE the caller's transaction. The
 * message id (`webhook-id`) is a hash of (alert, event, sink) and the body is fixed here, so every attempt
 * (after a crash too) sends the same id and the same bytes. The body is Standard Webhooks'
 * `{type, timestamp, data}`; Slack and PagerDuty messages are derived from it when sent.
 */
export async function enqueueAlertEventIn(db: Db, store: Store, ctx: AlertsContext, p: { record: AlertRecord; event: AlertEvent; sinks: readonly string[] }): Promise<number> {
  const { t } = store;
  const now = ctx.now();
  const body = JSON.stringify({ type: p.event, timestamp: iso(now), data: p.record });
  let n = 0;
  for (const sink of p.sinks) {
    if (!ctx.alerts.sinks.some((s) => s.name === sink)) continue;
    const id = computeStableId("msg", [p.record.id, p.event, sink]);
    const inserted = await db
      .insert(t.alertOutbox)
      .values({ id, alertId: p.record.id, incidentKey: p.record.incident_key, sink, event: p.event, body, status: "pending", attempts: 0, nextAttemptAtMs: now, createdAtMs: now })
      .onConflictDoNothing()
      .returning({ id: t.alertOutbox.id });
    n += inserted.length;
  }
  return n;
}

/**
 * Raises (or resolves) an alert INSIDE the caller's transaction: the incident (created, repeated, reopened or
 * resolved), the alert row and its outbox rows commit together with the block or step that raised them.
 * Returns the alert, or null when nothing was raised: the dedupe key exists already (the same movement), a
 * state rule's incident is already firing, or a resolve finds nothing firing.
 */
export async function raiseAlertIn(db: Db, store: Store, ctx: AlertsContext, d: AlertDraft): Promise<AlertRecord | null> {
  const { t } = store;
  const now = ctx.now();
  const incidentKey = computeIncidentKey(d);
  const [incident] = await db.select().from(t.alertIncidents).where(eq(t.alertIncidents.incidentKey, incidentKey)).limit(1);
  const firing = incident?.status === "firing";
  if (d.status === "resolved" && !firing) return null;
  // A state rule (no dedupe key) raises once per transition; a movement rule once per movement.
  if (d.dedupeKey === undefined && d.status === "firing" && firing) return null;
  const seq = Number(incident?.alertCount ?? 0) + 1;
  const dedupeKey = d.dedupeKey ?? `${incidentKey}#${seq}`;
  const [dup] = await db.select({ id: t.alerts.id }).from(t.alerts).where(eq(t.alerts.dedupeKey, dedupeKey)).limit(1);
  if (dup) return null;
  // An unfinalized movement is information until its block is final (then it is upgraded, not raised again).
  const severity = d.finality === "unfinalized" ? "info" : (d.severity ?? d.rule.severity);
  const id = computeStableId("alrt", [dedupeKey]);
  const row = {
    id, dedupeKey, incidentKey, rule: d.rule.name, type: d.rule.type, severity, status: d.status, finality: d.finality, state: "active",
    chain: d.chain ?? d.scope.chain ?? null, wallet: d.wallet ?? d.scope.wallet ?? null, asset: d.asset ?? d.scope.asset ?? null,
    txids: JSON.stringify(d.txids ?? []), height: d.height ?? null, blockHash: d.blockHash ?? null, summary: d.summary.slice(0, 1000),
    details: JSON.stringify(d.values), runbook: d.rule.runbook ?? null, createdAtMs: now, finalizedAtMs: null, withdrawnAtMs: null, ackAtMs: null, ackBy: null,
  };
  if (!incident) {
    await db.insert(t.alertIncidents).values({
      incidentKey, rule: d.rule.name, type: d.rule.type, severity, status: d.status, chain: row.chain, wallet: row.wallet, asset: row.asset,
      alertCount: 1, lastAlertId: id, openedAtMs: now, updatedAtMs: now,
    });
  } else {
    await db
      .update(t.alertIncidents)
      .set({
        status: d.status, severity, alertCount: seq, lastAlertId: id, updatedAtMs: now,
        resolvedAtMs: d.status === "resolved" ? now : null,
        // A reopened incident needs a new acknowledgement.
        ...(d.status === "firing" && !firing ? { openedAtMs: now, ackAtMs: null, ackBy: null } : {}),
      })
      .where(eq(t.alertIncidents.incidentKey, incidentKey));
  }
  await db.insert(t.alerts).values(row);
  const record = buildAlertRecord(row as typeof t.alerts.$inferSelect);
  await enqueueAlertEventIn(db, store, ctx, { record, event: d.status === "firing" ? "alert.firing" : "alert.resolved", sinks: d.rule.sinks });
  return record;
}

/** Loads active alerts of some incidents (inside a transaction), newest last. */
export async function loadIncidentAlertsIn(db: Db, store: Store, keys: readonly string[]) {
  const { t } = store;
  if (!keys.length) return [];
  return db.select().from(t.alerts).where(and(inArray(t.alerts.incidentKey, keys as string[]), eq(t.alerts.state, "active"))).orderBy(t.alerts.createdAtMs, t.alerts.id);
}
