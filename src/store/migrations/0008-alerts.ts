import type { Migration } from "./types.js";

/**
 * Alerts (issue 11):
 *
 * - `alert_incidents`: one row per incident key (a hash of rule and scope): repeats of a rule for the same
 *   scope group here, and a `resolved` alert closes it. `ack_*`: who acknowledged it and when.
 * - `alerts`: every alert raised, with its block (chain, height, hash), transactions, the values that crossed
 *   the threshold (JSON, amounts as base-unit strings), and `finality`: `unfinalized` (raised from a block
 *   above the finalized height: severity info) or `final`. `state` is `active`, or `withdrawn` when a
 *   rollback removed the block that raised it. `dedupe_key` is unique: the same movement is never raised twice.
 * - `alert_outbox`: one message per (alert event, sink), written in the transaction that raised the alert.
 *   `id` is the Standard Webhooks `webhook-id`; `body` the exact bytes sent on every attempt. `status`:
 *   pending, delivered, cancelled (withdrawn before delivery), failed (schedule exhausted or refused).
 * - `alert_sinks`: per sink, whether a receiver disabled it (HTTP 410) and when.
 * Times are unix ms.
 */
export const migration0008: Migration = {
  id: 8,
  name: "alerts",
  sqlite: [
    `CREATE TABLE alert_incidents (incident_key TEXT PRIMARY KEY, rule TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')), chain TEXT, wallet TEXT, asset TEXT, alert_count INTEGER NOT NULL,
      last_alert_id TEXT NOT NULL, opened_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, resolved_at_ms INTEGER,
      ack_at_ms INTEGER, ack_by TEXT)`,
    `CREATE TABLE alerts (id TEXT PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, incident_key TEXT NOT NULL REFERENCES alert_incidents(incident_key),
      rule TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
      finality TEXT NOT NULL CHECK (finality IN ('final', 'unfinalized', 'none')), state TEXT NOT NULL CHECK (state IN ('active', 'withdrawn')),
      chain TEXT, wallet TEXT, asset TEXT, txids TEXT NOT NULL, height INTEGER, block_hash TEXT, summary TEXT NOT NULL,
      details TEXT NOT NULL, runbook TEXT, created_at_ms INTEGER NOT NULL, finalized_at_ms INTEGER, withdrawn_at_ms INTEGER,
      ack_at_ms INTEGER, ack_by TEXT)`,
    `CREATE INDEX alerts_incident ON alerts (incident_key, created_at_ms)`,
    `CREATE INDEX alerts_chain_height ON alerts (chain, height)`,
    `CREATE INDEX alerts_created ON alerts (created_at_ms)`,
    `CREATE TABLE alert_outbox (id TEXT PRIMARY KEY, alert_id TEXT NOT NULL REFERENCES alerts(id), incident_key TEXT NOT NULL,
      sink TEXT NOT NULL, event TEXT NOT NULL, body TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'cancelled', 'failed')), attempts INTEGER NOT NULL,
      next_attempt_at_ms INTEGER NOT NULL, last_status INTEGER, last_error TEXT, created_at_ms INTEGER NOT NULL, delivered_at_ms INTEGER)`,
    `CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_at_ms)`,
    `CREATE INDEX alert_outbox_alert ON alert_outbox (alert_id)`,
    `CREATE TABLE alert_sinks (name TEXT PRIMARY KEY, disabled_at_ms INTEGER, disabled_reason TEXT)`,
  ],
  postgres: [
    `CREATE TABLE alert_incidents (incident_key TEXT PRIMARY KEY, rule TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')), chain TEXT, wallet TEXT, asset TEXT, alert_count BIGINT NOT NULL,
      last_alert_id TEXT NOT NULL, opened_at_ms BIGINT NOT NULL, updated_at_ms BIGINT NOT NULL, resolved_at_ms BIGINT,
      ack_at_ms BIGINT, ack_by TEXT)`,
    `CREATE TABLE alerts (id TEXT PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, incident_key TEXT NOT NULL REFERENCES alert_incidents(incident_key),
      rule TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
      finality TEXT NOT NULL CHECK (finality IN ('final', 'unfinalized', 'none')), state TEXT NOT NULL CHECK (state IN ('active', 'withdrawn')),
      chain TEXT, wallet TEXT, asset TEXT, txids TEXT NOT NULL, height BIGINT, block_hash TEXT, summary TEXT NOT NULL,
      details TEXT NOT NULL, runbook TEXT, created_at_ms BIGINT NOT NULL, finalized_at_ms BIGINT, withdrawn_at_ms BIGINT,
      ack_at_ms BIGINT, ack_by TEXT)`,
    `CREATE INDEX alerts_incident ON alerts (incident_key, created_at_ms)`,
    `CREATE INDEX alerts_chain_height ON alerts (chain, height)`,
    `CREATE INDEX alerts_created ON alerts (created_at_ms)`,
    `CREATE TABLE alert_outbox (id TEXT PRIMARY KEY, alert_id TEXT NOT NULL REFERENCES alerts(id), incident_key TEXT NOT NULL,
      sink TEXT NOT NULL, event TEXT NOT NULL, body TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'cancelled', 'failed')), attempts BIGINT NOT NULL,
      next_attempt_at_ms BIGINT NOT NULL, last_status BIGINT, last_error TEXT, created_at_ms BIGINT NOT NULL, delivered_at_ms BIGINT)`,
    `CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_at_ms)`,
    `CREATE INDEX alert_outbox_alert ON alert_outbox (alert_id)`,
    `CREATE TABLE alert_sinks (name TEXT PRIMARY KEY, disabled_at_ms BIGINT, disabled_reason TEXT)`,
  ],
};
