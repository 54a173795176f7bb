import type { Migration } from "./types.js";

/**
 * Movement reconciliation (issue 14): the platform's own deposit and withdrawal records, and the
 * outcome of matching them against the chains' transfer legs (migration 4).
 * - movement_records: one row per record id, exactly as received (amount in base units); `content_hash`
 *   makes a re-send a no-op and a changed re-send a refusal. `open` = 1 while the record has no
 *   matched (or amount_mismatch) outcome: the matcher's pool is `WHERE open = 1`, never a full scan.
 * - movement_outcomes: append-only history of outcomes per subject (`record:<id>`, or `leg:<chain>:<txid>:<n>`
 *   for a chain movement no record explains). Exactly one row per subject has `current` = 1 (partial
 *   unique index); a change inserts a new row and clears the old one's flag, so a reader following
 *   `id` (the alert engine) sees every transition once. Leg fields name the chain movement (height,
 *   block hash, txid, position, wallet, counterparty), record fields the record.
 * - movement_cursors: per chain, the highest height whose legs the matcher has taken in.
 */
export const migration0010: Migration = {
  id: 10,
  name: "movements",
  sqlite: [
    `CREATE TABLE movement_records (id TEXT PRIMARY KEY, kind TEXT NOT NULL, chain TEXT NOT NULL, asset TEXT NOT NULL,
      amount TEXT NOT NULL, counterparty TEXT, txid TEXT, time_ms INTEGER NOT NULL, content_hash TEXT NOT NULL,
      source TEXT NOT NULL, received_at_ms INTEGER NOT NULL, open INTEGER NOT NULL)`,
    `CREATE INDEX movement_records_open ON movement_records (chain, time_ms) WHERE open = 1`,
    `CREATE INDEX movement_records_time ON movement_records (time_ms)`,
    `CREATE TABLE movement_outcomes (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, current INTEGER NOT NULL,
      outcome TEXT NOT NULL, severity TEXT NOT NULL, record_id TEXT, kind TEXT, chain TEXT NOT NULL, asset TEXT NOT NULL,
      amount TEXT, chain_amount TEXT, fee TEXT, fee_asset TEXT, flags TEXT, direction TEXT, txid TEXT, height INTEGER,
      block_hash TEXT, position INTEGER, wallet_id INTEGER, counterparty TEXT, counterparty_wallet_id INTEGER,
      record_time_ms INTEGER, block_time_ms INTEGER, seen_at_ms INTEGER, at_ms INTEGER NOT NULL)`,
    `CREATE UNIQUE INDEX movement_outcomes_current ON movement_outcomes (subject) WHERE current = 1`,
    `CREATE INDEX movement_outcomes_open ON movement_outcomes (outcome) WHERE current = 1`,
    `CREATE INDEX movement_outcomes_chain_height ON movement_outcomes (chain, height) WHERE current = 1`,
    `CREATE TABLE movement_cursors (chain TEXT PRIMARY KEY, height INTEGER NOT NULL)`,
  ],
  postgres: [
    `CREATE TABLE movement_records (id TEXT PRIMARY KEY, kind TEXT NOT NULL, chain TEXT NOT NULL, asset TEXT NOT NULL,
      amount NUMERIC(78,0) NOT NULL, counterparty TEXT, txid TEXT, time_ms BIGINT NOT NULL, content_hash TEXT NOT NULL,
      source TEXT NOT NULL, received_at_ms BIGINT NOT NULL, open INTEGER NOT NULL)`,
    `CREATE INDEX movement_records_open ON movement_records (chain, time_ms) WHERE open = 1`,
    `CREATE INDEX movement_records_time ON movement_records (time_ms)`,
    `CREATE TABLE movement_outcomes (id BIGSERIAL PRIMARY KEY, subject TEXT NOT NULL, current INTEGER NOT NULL,
      outcome TEXT NOT NULL, severity TEXT NOT NULL, record_id TEXT, kind TEXT, chain TEXT NOT NULL, asset TEXT NOT NULL,
      amount NUMERIC(78,0), chain_amount NUMERIC(78,0), fee NUMERIC(78,0), fee_asset TEXT, flags TEXT, direction TEXT, txid TEXT,
      height BIGINT, block_hash TEXT, position BIGINT, wallet_id BIGINT, counterparty TEXT, counterparty_wallet_id BIGINT,
      record_time_ms BIGINT, block_time_ms BIGINT, seen_at_ms BIGINT, at_ms BIGINT NOT NULL)`,
    `CREATE UNIQUE INDEX movement_outcomes_current ON movement_outcomes (subject) WHERE current = 1`,
    `CREATE INDEX movement_outcomes_open ON movement_outcomes (outcome) WHERE current = 1`,
    `CREATE INDEX movement_outcomes_chain_height ON movement_outcomes (chain, height) WHERE current = 1`,
    `CREATE TABLE movement_cursors (chain TEXT PRIMARY KEY, height BIGINT NOT NULL)`,
  ],
};
