import type { Migration } from "./types.js";

/**
 * The order in which alert messages were written (`alert_outbox.seq`). Message ids are stable hashes and
 * several messages share a millisecond, so (created_at_ms, id) did not give the order the alerts were
 * raised in; PagerDuty needs it (a `resolve` sent before the `trigger` it follows leaves the incident
 * open there) and Slack's coalescing sends the newest event of an incident. SQLite: the rowid, copied by
 * a trigger on insert (ALTER TABLE cannot add a column with a non-constant default); Postgres: a
 * sequence. Writers do not set it.
 */
export const migration0013: Migration = {
  id: 13,
  name: "outbox-order",
  sqlite: [
    "ALTER TABLE alert_outbox ADD COLUMN seq INTEGER",
    "UPDATE alert_outbox SET seq = rowid",
    `CREATE TRIGGER alert_outbox_seq AFTER INSERT ON alert_outbox WHEN NEW.seq IS NULL BEGIN
      UPDATE alert_outbox SET seq = NEW.rowid WHERE rowid = NEW.rowid;
    END`,
    "CREATE INDEX alert_outbox_pending ON alert_outbox (sink, status, incident_key, seq)",
  ],
  postgres: [
    "ALTER TABLE alert_outbox ADD COLUMN seq BIGSERIAL",
    "CREATE INDEX alert_outbox_pending ON alert_outbox (sink, status, incident_key, seq)",
  ],
};
