import type { Migration } from "./types.js";

/**
 * Indexes for the API's reads (issue 12). The balance seek (`height <= ? ORDER BY height DESC, id DESC
 * LIMIT 1`) and the history keyset (`(height, id) > (?, ?)`) order by (height, id): SQLite's
 * balance_changes_wallet index already ends in the rowid (= id), Postgres's does not, so it gets one
 * that does (and one for a wallet's addresses in id order, and one for wallets in byte order of their
 * labels, the API's page order). Nothing to add on SQLite.
 */
export const migration0009: Migration = {
  id: 9,
  name: "serve-indexes",
  sqlite: [],
  postgres: [
    `CREATE INDEX balance_changes_wallet_seq ON balance_changes (chain, wallet_id, asset, height, id)`,
    `CREATE INDEX wallet_addresses_wallet_seq ON wallet_addresses (wallet_id, id)`,
    `CREATE INDEX wallets_chain_label_c ON wallets (chain, label COLLATE "C")`,
  ],
};
