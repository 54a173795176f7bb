import { STORE_GAUGES } from "../lib/metrics.js";
import { loadChainStates, loadLiveCoverage, type Store } from "../store/index.js";
import { sqlNowMs } from "../store/db-clock.js";

/**
 * Sets the store-derived gauges (per chain: indexed and finalized height, the indexed block's time;
 * snapshots imported; checkpoints by status; live coverage; alerts; the outbox's oldest pending message) from one read snapshot, just before a scrape. Read at scrape time so every
 * serve process reports them, whichever process indexes.
 */
export async function refreshStoreMetrics(store: Store, p: { chains: readonly string[] }): Promise<void> {
  await store.read(async (q) => {
    const states = await loadChainStates(store, q, { chains: p.chains });
    for (const s of states) {
      const labels = { chain: s.chain };
      if (s.indexed) STORE_GAUGES.indexedHeight.set(labels, s.indexed.height);
      else STORE_GAUGES.indexedHeight.remove(labels);
      if (s.finalizedHeight !== null) STORE_GAUGES.finalizedHeight.set(labels, s.finalizedHeight);
      else STORE_GAUGES.finalizedHeight.remove(labels);
      if (s.indexed?.time != null) STORE_GAUGES.indexedBlockTime.set(labels, s.indexed.time);
      else STORE_GAUGES.indexedBlockTime.remove(labels);
    }
    const [snap] = await q.raw("SELECT count(*) AS n, max(imported_at) AS last FROM liability_snapshots");
    STORE_GAUGES.snapshotsImported.set(Number(snap?.n ?? 0));
    if (snap?.last) STORE_GAUGES.lastSnapshotImportedTime.set(Math.floor(Date.parse(String(snap.last)) / 1000));
    else STORE_GAUGES.lastSnapshotImportedTime.reset();

    // Checkpoints by status and the latest one's time.
    STORE_GAUGES.checkpoints.reset();
    for (const r of await q.raw("SELECT status, count(*) AS n FROM checkpoints GROUP BY status")) STORE_GAUGES.checkpoints.set({ status: String(r.status) }, Number(r.n));
    const [cp] = await q.raw("SELECT max(created_at_ms) AS last FROM checkpoints");
    if (cp?.last != null) STORE_GAUGES.lastCheckpointTime.set(Math.floor(Number(cp.last) / 1000));
    else STORE_GAUGES.lastCheckpointTime.reset();

    // Live coverage per liability asset (the reconciliation module's latest figures).
    STORE_GAUGES.liveCoverageBps.reset();
    for (const c of await loadLiveCoverage(q)) if (c.coverageBps !== null) STORE_GAUGES.liveCoverageBps.set({ asset: c.asset }, Number(c.coverageBps));

    // Alerts by rule and severity; the oldest undelivered outbox message's age.
    STORE_GAUGES.alerts.reset();
    STORE_GAUGES.alertsOpen.reset();
    const alertRows = await q.raw(
      // "open" as `alerts --open` (loadAlerts): firing, neither it nor its incident acknowledged, incident firing.
      `SELECT a.rule, a.severity, count(*) AS n,
         sum(CASE WHEN a.status = 'firing' AND a.ack_at_ms IS NULL AND i.status = 'firing' AND i.ack_at_ms IS NULL THEN 1 ELSE 0 END) AS open
       FROM alerts a JOIN alert_incidents i ON i.incident_key = a.incident_key WHERE a.state = 'active' GROUP BY a.rule, a.severity`,
    );
    for (const r of alertRows) {
      const labels = { rule: String(r.rule), severity: String(r.severity) };
      STORE_GAUGES.alerts.set(labels, Number(r.n));
      STORE_GAUGES.alertsOpen.set(labels, Number(r.open ?? 0));
    }
    const [ob] = await q.raw(`SELECT min(created_at_ms) AS oldest, ${sqlNowMs(store.dialect)} AS now_ms FROM alert_outbox WHERE status = 'pending'`);
    STORE_GAUGES.oldestUndeliveredAlertAge.set(ob?.oldest == null ? 0 : Math.max(0, (Number(ob.now_ms) - Number(ob.oldest)) / 1000));
  });
}
