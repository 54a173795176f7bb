import { and, desc, eq, inArray, isNull, lt, or, type SQL } from "drizzle-orm";
import { BackstopError } from "../lib/errors.js";
import type { Store } from "../store/index.js";
import { buildAlertRecord } from "./raise-alert.js";
import type { AlertRecord } from "./types.js";

/** `alerts ack` / acknowledgeAlert named no stored alert. */
export class AlertNotFoundError extends BackstopError {
  override name = "AlertNotFoundError";
  constructor(p: { id: string }) {
    super("ALERTS__NOT_FOUND", `No alert with id ${JSON.stringify(p.id.slice(0, 80))}.`);
  }
}

/** An alert as listed: the record, its incident's status, and its deliveries per sink. */
export type ListedAlert = AlertRecord & {
  /** created_at in unix ms (the list's keyset position). */
  created_at_ms: number;
  incident_status: "firing" | "resolved";
  deliveries: { sink: string; event: string; status: string; attempts: number; last_error: string | null }[];
};

export type LoadAlertsParameters = {
  /** Only alerts of incidents still firing and not acknowledged, and not withdrawn. */
  open?: boolean;
  /** At most this many, newest first. Default 100. */
  limit?: number;
  /** Only alerts created before this one (paging: the last id of the previous page). */
  before?: { createdAtMs: number; id: string };
  chain?: string;
  /** Only this alert. */
  id?: string;
};

/** Lists stored alerts, newest first, with their incident's status and delivery state. */
export async function loadAlerts(store: Store, p: LoadAlertsParameters = {}): Promise<ListedAlert[]> {
  const { t } = store;
  const conds: SQL[] = [];
  if (p.open) conds.push(eq(t.alerts.state, "active"), eq(t.alertIncidents.status, "firing"), isNull(t.alertIncidents.ackAtMs), isNull(t.alerts.ackAtMs), eq(t.alerts.status, "firing"));
  if (p.chain) conds.push(eq(t.alerts.chain, p.chain));
  if (p.id) conds.push(eq(t.alerts.id, p.id));
  if (p.before) conds.push(or(lt(t.alerts.createdAtMs, p.before.createdAtMs), and(eq(t.alerts.createdAtMs, p.before.createdAtMs), lt(t.alerts.id, p.before.id)))!);
  const rows = await store.db
    .select({ a: t.alerts, incidentStatus: t.alertIncidents.status })
    .from(t.alerts)
    .innerJoin(t.alertIncidents, eq(t.alertIncidents.incidentKey, t.alerts.incidentKey))
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(t.alerts.createdAtMs), desc(t.alerts.id))
    .limit(Math.min(Math.max(p.limit ?? 100, 1), 1000));
  const ids = rows.map((r) => r.a.id);
  const outbox = ids.length ? await store.db.select().from(t.alertOutbox).where(inArray(t.alertOutbox.alertId, ids)) : [];
  return rows.map((r) => ({
    ...buildAlertRecord(r.a),
    created_at_ms: Number(r.a.createdAtMs),
    incident_status: r.incidentStatus as "firing" | "resolved",
    deliveries: outbox.filter((m) => m.alertId === r.a.id).map((m) => ({ sink: m.sink, event: m.event, status: m.status, attempts: Number(m.attempts), last_error: m.lastError })),
  }));
}

/**
 * Acknowledges an alert and its incident (who and when); an acknowledged incident leaves `--open`, and a
 * later firing reopens it. Idempotent: a second ack keeps the first one's time and author.
 * @throws AlertNotFoundError
 */
export async function saveAlertAck(store: Store, p: { id: string; by: string; nowMs?: number }): Promise<AlertRecord> {
  const { t } = store;
  const at = p.nowMs ?? Date.now();
  return store.tx(async (db) => {
    const [row] = await db.select().from(t.alerts).where(eq(t.alerts.id, p.id)).limit(1);
    if (!row) throw new AlertNotFoundError({ id: p.id });
    if (row.ackAtMs === null) await db.update(t.alerts).set({ ackAtMs: at, ackBy: p.by }).where(eq(t.alerts.id, p.id));
    await db.update(t.alertIncidents).set({ ackAtMs: at, ackBy: p.by }).where(and(eq(t.alertIncidents.incidentKey, row.incidentKey), isNull(t.alertIncidents.ackAtMs)));
    const [after] = await db.select().from(t.alerts).where(eq(t.alerts.id, p.id)).limit(1);
    return buildAlertRecord(after!);
  });
}
