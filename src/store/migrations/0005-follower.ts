import type { Migration } from "./types.js";

/** The database's clock in unix ms, per dialect (what instance_locks uses too). */
const NOW_SQLITE = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
const NOW_PG = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/**
 * What the one follower keeps besides blocks (issue 8):
 *
 * - `wallet_states`: one row per wallet: `pending` (added to a chain the store already indexes: excluded
 *   from reserves until its backfill lands, `reason` says why), `active` (its stored balances are exact at
 *   every height >= `exact_from`; NULL: since the chain's first indexed block), `removed` (no longer in the
 *   config: counted up to `removed_height`, its history stays). `source` says how the history was obtained:
 *   `indexed` (followed block by block), `rescan` (blocks re-read from the birthday), `baseline` (balances
 *   read at `exact_from`). Wallets stored before this migration were followed from the chain's first block:
 *   they start `active`, `indexed`.
 * - `chain_health` / `provider_health`: the follower's state as it runs (node tip and when it was read,
 *   indexed and finalized heights, state, last error, reorgs; per provider: last tip, lagging since,
 *   disagreement seen), for `status`, the API and the alert rules, which may run in another process.
 *   Times are the database's clock in unix ms.
 * - `header_pins`: block headers that pruning never deletes (the chain's first block, checkpoint anchors).
 *   Every other header older than the header window and the unfinalized range is pruned.
 */
export const migration0005: Migration = {
  id: 5,
  name: "follower",
  sqlite: [
    `CREATE TABLE wallet_states (wallet_id INTEGER PRIMARY KEY REFERENCES wallets(id), chain TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'removed')), reason TEXT, birthday INTEGER,
      exact_from INTEGER, source TEXT CHECK (source IN ('indexed', 'rescan', 'baseline')), active_height INTEGER,
      removed_height INTEGER, updated_at_ms INTEGER NOT NULL)`,
    `CREATE INDEX wallet_states_chain ON wallet_states (chain, state)`,
    `INSERT INTO wallet_states (wallet_id, chain, state, source, updated_at_ms) SELECT id, chain, 'active', 'indexed', ${NOW_SQLITE} FROM wallets`,
    `CREATE TABLE chain_health (chain TEXT PRIMARY KEY, state TEXT NOT NULL, provider TEXT, node_tip INTEGER,
      node_finalized INTEGER, node_safe INTEGER, node_read_at_ms INTEGER, indexed_height INTEGER, finalized_height INTEGER,
      last_block_at_ms INTEGER, reorg_count INTEGER NOT NULL DEFAULT 0, last_reorg_depth INTEGER, last_reorg_at_ms INTEGER,
      last_error_code TEXT, last_error_message TEXT, last_error_at_ms INTEGER, updated_at_ms INTEGER NOT NULL)`,
    `CREATE TABLE provider_health (chain TEXT NOT NULL, host TEXT NOT NULL, last_tip INTEGER, last_tip_at_ms INTEGER,
      lagging_since_ms INTEGER, last_error_code TEXT, last_error_at_ms INTEGER, disagreement_at_ms INTEGER,
      disagreement_height INTEGER, disagreement_hash TEXT, expected_hash TEXT, updated_at_ms INTEGER NOT NULL,
      PRIMARY KEY (chain, host))`,
    `CREATE TABLE header_pins (chain TEXT NOT NULL, height INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (chain, height, reason))`,
    `INSERT INTO header_pins (chain, height, reason) SELECT chain, min(height), 'first' FROM block_headers GROUP BY chain`,
  ],
  postgres: [
    `CREATE TABLE wallet_states (wallet_id BIGINT PRIMARY KEY REFERENCES wallets(id), chain TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'removed')), reason TEXT, birthday BIGINT,
      exact_from BIGINT, source TEXT CHECK (source IN ('indexed', 'rescan', 'baseline')), active_height BIGINT,
      removed_height BIGINT, updated_at_ms BIGINT NOT NULL)`,
    `CREATE INDEX wallet_states_chain ON wallet_states (chain, state)`,
    `INSERT INTO wallet_states (wallet_id, chain, state, source, updated_at_ms) SELECT id, chain, 'active', 'indexed', ${NOW_PG} FROM wallets`,
    `CREATE TABLE chain_health (chain TEXT PRIMARY KEY, state TEXT NOT NULL, provider TEXT, node_tip BIGINT,
      node_finalized BIGINT, node_safe BIGINT, node_read_at_ms BIGINT, indexed_height BIGINT, finalized_height BIGINT,
      last_block_at_ms BIGINT, reorg_count INTEGER NOT NULL DEFAULT 0, last_reorg_depth INTEGER, last_reorg_at_ms BIGINT,
      last_error_code TEXT, last_error_message TEXT, last_error_at_ms BIGINT, updated_at_ms BIGINT NOT NULL)`,
    `CREATE TABLE provider_health (chain TEXT NOT NULL, host TEXT NOT NULL, last_tip BIGINT, last_tip_at_ms BIGINT,
      lagging_since_ms BIGINT, last_error_code TEXT, last_error_at_ms BIGINT, disagreement_at_ms BIGINT,
      disagreement_height BIGINT, disagreement_hash TEXT, expected_hash TEXT, updated_at_ms BIGINT NOT NULL,
      PRIMARY KEY (chain, host))`,
    `CREATE TABLE header_pins (chain TEXT NOT NULL, height BIGINT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (chain, height, reason))`,
    `INSERT INTO header_pins (chain, height, reason) SELECT chain, min(height), 'first' FROM block_headers GROUP BY chain`,
  ],
};
