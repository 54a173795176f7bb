import type { Migration } from "./types.js";

/**
 * What the EVM indexer knows besides balance changes and transfer legs (issue 9):
 *
 * - `full_reads`: heights at which every (wallet, token) pair of the chain was read from the node
 *   (`balanceOf` at that block). A token balance is exact at a full-read height; in between it moves on
 *   `Transfer` logs only, so `balances` reports the last full read as the balance's `verifiedAt`.
 * - `silent_changes`: a token balance the node reports that differs from the one the store carried
 *   forward (a rebasing token, a burn without an event, a fee-on-transfer token whose logs do not add up).
 *   Stored with the block that revealed it, as a discrepancy: both amounts and the block range in which it
 *   happened (`from_height` = the pair's previous read + 1, `height` = the read that saw it). The balance
 *   change itself is in `balance_changes` (no txid). The alerts issue reads these by id (`loadSilentChanges`).
 * - `unattributed_changes`: the part of a native balance change the block's visible transactions do not
 *   explain (gas without a receipt, an internal transfer, a withdrawal, fee income), with the candidate
 *   transactions (from or to the wallet in that block) as a JSON array of hashes.
 *
 * Rows belong to their block: a rollback deletes those above the ancestor with the block.
 */
export const migration0006: Migration = {
  id: 6,
  name: "evm-reads",
  sqlite: [
    `CREATE TABLE full_reads (chain TEXT NOT NULL, height INTEGER NOT NULL, block_hash TEXT NOT NULL, PRIMARY KEY (chain, height))`,
    `CREATE TABLE silent_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, chain TEXT NOT NULL, height INTEGER NOT NULL,
      block_hash TEXT NOT NULL, wallet_id INTEGER NOT NULL REFERENCES wallets(id), asset TEXT NOT NULL,
      carried TEXT NOT NULL, observed TEXT NOT NULL, from_height INTEGER NOT NULL)`,
    `CREATE INDEX silent_changes_height ON silent_changes (chain, height)`,
    `CREATE TABLE unattributed_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, chain TEXT NOT NULL, height INTEGER NOT NULL,
      block_hash TEXT NOT NULL, wallet_id INTEGER NOT NULL REFERENCES wallets(id), asset TEXT NOT NULL,
      delta TEXT NOT NULL, candidates TEXT NOT NULL)`,
    `CREATE INDEX unattributed_changes_height ON unattributed_changes (chain, height)`,
  ],
  postgres: [
    `CREATE TABLE full_reads (chain TEXT NOT NULL, height BIGINT NOT NULL, block_hash TEXT NOT NULL, PRIMARY KEY (chain, height))`,
    `CREATE TABLE silent_changes (id BIGSERIAL PRIMARY KEY, chain TEXT NOT NULL, height BIGINT NOT NULL,
      block_hash TEXT NOT NULL, wallet_id BIGINT NOT NULL REFERENCES wallets(id), asset TEXT NOT NULL,
      carried NUMERIC(78,0) NOT NULL, observed NUMERIC(78,0) NOT NULL, from_height BIGINT NOT NULL)`,
    `CREATE INDEX silent_changes_height ON silent_changes (chain, height)`,
    `CREATE TABLE unattributed_changes (id BIGSERIAL PRIMARY KEY, chain TEXT NOT NULL, height BIGINT NOT NULL,
      block_hash TEXT NOT NULL, wallet_id BIGINT NOT NULL REFERENCES wallets(id), asset TEXT NOT NULL,
      delta NUMERIC(78,0) NOT NULL, candidates TEXT NOT NULL)`,
    `CREATE INDEX unattributed_changes_height ON unattributed_changes (chain, height)`,
  ],
};
