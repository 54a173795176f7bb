import type { Migration } from "./types.js";

/**
 * Liabilities snapshots (issue 5). A snapshot is written in ONE transaction (all or nothing),
 * so no staging rows ever exist outside it. Per-account rows are private: they leave the
 * store only inside that account's own inclusion proof.
 * - liability_snapshots: one row per imported file; `identity_hash` (file bytes + as-of) makes
 *   re-imports no-ops; `root`/`assets` are public.
 * - liability_totals: per-asset totals (public), exact (TEXT / NUMERIC(78,0)).
 * - liability_accounts: one row per account in leaf order: verbatim id, normalised key (lookup),
 *   nonce and the balance vector exactly as committed in the leaf (u128 big-endian per asset,
 *   BLOB/BYTEA: the leaf's bytes, never a float).
 * - liability_tree_nodes: the tree's levels from `base_level` up (about 2 records per 1024
 *   accounts); a proof recomputes its own chunk of 1024 leaves and reads the rest from here.
 * SQLite: the two bulk tables are WITHOUT ROWID (the primary key is the table: one B-tree less to
 * write per account).
 */
export const migration0002: Migration = {
  id: 2,
  name: "liabilities",
  sqlite: [
    `CREATE TABLE liability_snapshots (id TEXT PRIMARY KEY, as_of TEXT NOT NULL, as_of_ms INTEGER NOT NULL,
      format TEXT NOT NULL, content_hash TEXT NOT NULL, identity_hash TEXT NOT NULL, root TEXT NOT NULL,
      row_count INTEGER NOT NULL, account_count INTEGER NOT NULL, tree_height INTEGER NOT NULL,
      base_level INTEGER NOT NULL, assets TEXT NOT NULL, imported_at TEXT NOT NULL)`,
    `CREATE UNIQUE INDEX liability_snapshots_identity ON liability_snapshots (identity_hash)`,
    `CREATE INDEX liability_snapshots_as_of ON liability_snapshots (as_of_ms)`,
    `CREATE TABLE liability_totals (snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id),
      asset TEXT NOT NULL, position INTEGER NOT NULL, decimals INTEGER NOT NULL, total TEXT NOT NULL,
      PRIMARY KEY (snapshot_id, asset))`,
    `CREATE TABLE liability_accounts (snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id),
      leaf_index INTEGER NOT NULL, account_key TEXT NOT NULL, account_id TEXT NOT NULL,
      nonce BLOB NOT NULL, balances BLOB NOT NULL, PRIMARY KEY (snapshot_id, leaf_index)) WITHOUT ROWID`,
    `CREATE UNIQUE INDEX liability_accounts_key ON liability_accounts (snapshot_id, account_key)`,
    `CREATE TABLE liability_tree_nodes (snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id),
      level INTEGER NOT NULL, idx INTEGER NOT NULL, record BLOB NOT NULL, PRIMARY KEY (snapshot_id, level, idx)) WITHOUT ROWID`,
  ],
  postgres: [
    `CREATE TABLE liability_snapshots (id TEXT PRIMARY KEY, as_of TEXT NOT NULL, as_of_ms BIGINT NOT NULL,
      format TEXT NOT NULL, content_hash TEXT NOT NULL, identity_hash TEXT NOT NULL, root TEXT NOT NULL,
      row_count BIGINT NOT NULL, account_count BIGINT NOT NULL, tree_height INTEGER NOT NULL,
      base_level INTEGER NOT NULL, assets TEXT NOT NULL, imported_at TEXT NOT NULL)`,
    `CREATE UNIQUE INDEX liability_snapshots_identity ON liability_snapshots (identity_hash)`,
    `CREATE INDEX liability_snapshots_as_of ON liability_snapshots (as_of_ms)`,
    `CREATE TABLE liability_totals (snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id),
      asset TEXT NOT NULL, position INTEGER NOT NULL, decimals INTEGER NOT NULL, total NUMERIC(78,0) NOT NULL,
      PRIMARY KEY (snapshot_id, asset))`,
    `CREATE TABLE liability_accounts (snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id),
      leaf_index BIGINT NOT NULL, account_key TEXT NOT NULL, account_id TEXT NOT NULL,
      nonce BYTEA NOT NULL, balances BYTEA NOT NULL, PRIMARY KEY (snapshot_id, leaf_index))`,
    `CREATE UNIQUE INDEX liability_accounts_key ON liability_accounts (snapshot_id, account_key)`,
    `CREATE TABLE liability_tree_nodes (snapshot_id TEXT NOT NULL REFERENCES liability_snapshots(id),
      level INTEGER NOT NULL, idx BIGINT NOT NULL, record BYTEA NOT NULL, PRIMARY KEY (snapshot_id, level, idx))`,
  ],
};
