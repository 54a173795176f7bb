import type { Migration } from "./types.js";

const APPEND_ONLY_PG = `CREATE OR REPLACE FUNCTION backstop_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql`;

/**
 * Solvency checkpoints (issue 10), append-only:
 * - `checkpoints`: one row per signed checkpoint, `seq` 1, 2, 3... without gaps (the writer inserts
 *   max(seq) + 1 in the same transaction that reads it; a concurrent writer fails on the primary key).
 *   `signed` holds the published bytes (RFC 8785 envelope), `digest` its document's SHA-256, and
 *   `previous_digest` the digest of seq - 1 (unique: the chain cannot fork). A checkpoint later found
 *   invalid (its anchor reorganised away) is never edited: a new one carries `invalidates`. Triggers refuse
 *   UPDATE and DELETE on both tables.
 * - `checkpoint_anchors`: (seq, chain) → height and hash, for lookups and the reorg check.
 * - `live_coverage`: the latest unsigned live coverage per liability asset (not a checkpoint): reserves at
 *   the chains' finalized heights against the latest snapshot's liabilities. Rewritten in place.
 * No private key is ever stored: only the public key id (`kid`).
 */
export const migration0007: Migration = {
  id: 7,
  name: "checkpoints",
  sqlite: [
    `CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, previous_digest TEXT,
      snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id), status TEXT NOT NULL,
      invalidates INTEGER REFERENCES checkpoints(seq), kid TEXT NOT NULL, signed TEXT NOT NULL, created_at_ms INTEGER NOT NULL)`,
    `CREATE UNIQUE INDEX checkpoints_digest ON checkpoints (digest)`,
    `CREATE UNIQUE INDEX checkpoints_previous ON checkpoints (previous_digest)`,
    `CREATE INDEX checkpoints_snapshot ON checkpoints (snapshot_id, seq)`,
    `CREATE TABLE checkpoint_anchors (seq INTEGER NOT NULL REFERENCES checkpoints(seq), chain TEXT NOT NULL,
      height INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (seq, chain))`,
    `CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only'); END`,
    `CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only'); END`,
    `CREATE TRIGGER checkpoint_anchors_no_update BEFORE UPDATE ON checkpoint_anchors BEGIN SELECT RAISE(ABORT, 'checkpoint_anchors is append-only'); END`,
    `CREATE TRIGGER checkpoint_anchors_no_delete BEFORE DELETE ON checkpoint_anchors BEGIN SELECT RAISE(ABORT, 'checkpoint_anchors is append-only'); END`,
    `CREATE TABLE live_coverage (asset TEXT PRIMARY KEY, snapshot_id TEXT NOT NULL, decimals INTEGER NOT NULL,
      liabilities TEXT NOT NULL, reserves TEXT NOT NULL, coverage_bps TEXT, status TEXT NOT NULL, heights TEXT NOT NULL,
      computed_at_ms INTEGER NOT NULL)`,
  ],
  postgres: [
    `CREATE TABLE checkpoints (seq BIGINT PRIMARY KEY, digest TEXT NOT NULL, previous_digest TEXT,
      snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id), status TEXT NOT NULL,
      invalidates BIGINT REFERENCES checkpoints(seq), kid TEXT NOT NULL, signed TEXT NOT NULL, created_at_ms BIGINT NOT NULL)`,
    `CREATE UNIQUE INDEX checkpoints_digest ON checkpoints (digest)`,
    `CREATE UNIQUE INDEX checkpoints_previous ON checkpoints (previous_digest)`,
    `CREATE INDEX checkpoints_snapshot ON checkpoints (snapshot_id, seq)`,
    `CREATE TABLE checkpoint_anchors (seq BIGINT NOT NULL REFERENCES checkpoints(seq), chain TEXT NOT NULL,
      height BIGINT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (seq, chain))`,
    APPEND_ONLY_PG,
    `CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints FOR EACH ROW EXECUTE FUNCTION backstop_append_only()`,
    `CREATE TRIGGER checkpoint_anchors_append_only BEFORE UPDATE OR DELETE ON checkpoint_anchors FOR EACH ROW EXECUTE FUNCTION backstop_append_only()`,
    `CREATE TABLE live_coverage (asset TEXT PRIMARY KEY, snapshot_id TEXT NOT NULL, decimals INTEGER NOT NULL,
      liabilities NUMERIC(78,0) NOT NULL, reserves NUMERIC(78,0) NOT NULL, coverage_bps NUMERIC(78,0), status TEXT NOT NULL,
      heights TEXT NOT NULL, computed_at_ms BIGINT NOT NULL)`,
  ],
};
