import type { Migration } from "./types.js";

/**
 * Transfer legs: what moved custody funds, and to or from whom. A balance change says a wallet's
 * balance moved; its legs say why: value in from a counterparty, value out to a counterparty, or a
 * fee paid. Written in the block's transaction with the block (and deleted with it on rollback), so
 * alerts and the movement reconciliation read only legs of blocks the store holds.
 *
 * `amount` is positive base units. `counterparty` is the other side as the chain names it (Bitcoin:
 * the output's address, or `script:<hex>` when it has none; EVM: the 0x address; Solana: the owner),
 * null when the chain does not show it (a Bitcoin deposit's senders). `counterparty_wallet_id` is set
 * when the other side is itself a custody wallet (an internal movement, never an outflow).
 * `position` orders the legs of a block (e.g. transaction index × 2^20 + output or log index) and,
 * with (chain, block_hash), identifies a leg across re-reads of the same block.
 */
export const migration0004: Migration = {
  id: 4,
  name: "transfers",
  sqlite: [
    `CREATE TABLE transfers (id INTEGER PRIMARY KEY AUTOINCREMENT, chain TEXT NOT NULL, height INTEGER NOT NULL,
      block_hash TEXT NOT NULL, txid TEXT, position INTEGER NOT NULL, wallet_id INTEGER NOT NULL REFERENCES wallets(id),
      asset TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'fee')), amount TEXT NOT NULL,
      counterparty TEXT, counterparty_wallet_id INTEGER REFERENCES wallets(id))`,
    `CREATE INDEX transfers_height ON transfers (chain, height)`,
    `CREATE INDEX transfers_txid ON transfers (chain, txid)`,
    `CREATE INDEX transfers_wallet ON transfers (chain, wallet_id, asset, height)`,
  ],
  postgres: [
    `CREATE TABLE transfers (id BIGSERIAL PRIMARY KEY, chain TEXT NOT NULL, height BIGINT NOT NULL,
      block_hash TEXT NOT NULL, txid TEXT, position BIGINT NOT NULL, wallet_id BIGINT NOT NULL REFERENCES wallets(id),
      asset TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'fee')), amount NUMERIC(78,0) NOT NULL,
      counterparty TEXT, counterparty_wallet_id BIGINT REFERENCES wallets(id))`,
    `CREATE INDEX transfers_height ON transfers (chain, height)`,
    `CREATE INDEX transfers_txid ON transfers (chain, txid)`,
    `CREATE INDEX transfers_wallet ON transfers (chain, wallet_id, asset, height)`,
  ],
};
