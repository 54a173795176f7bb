import { customType, index, bigint, integer, primaryKey, bigserial, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * Exact bigint amounts in Postgres: numeric(78,0) holds any uint256; the driver
 * returns it as a string, parsed with BigInt, never through a float.
 */
export const amount = customType<{ data: bigint; driverData: string }>({
  dataType: () => "numeric(78, 0)",
  toDriver: (v) => v.toString(),
  fromDriver: (v) => BigInt(v),
});

export const schemaMigrations = pgTable("schema_migrations", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  appliedAt: text("applied_at").notNull(),
});

export const chainCursors = pgTable("chain_cursors", {
  chain: text("chain").primaryKey(),
  height: bigint("height", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
  finalizedHeight: bigint("finalized_height", { mode: "number" }),
  updatedAt: text("updated_at").notNull(),
});

export const blockHeaders = pgTable(
  "block_headers",
  {
    chain: text("chain").notNull(),
    height: bigint("height", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
    parentHash: text("parent_hash").notNull(),
    time: bigint("time", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.height] })],
);

export const wallets = pgTable(
  "wallets",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    chain: text("chain").notNull(),
    label: text("label").notNull(),
    kind: text("kind").notNull(),
    address: text("address"),
    descriptor: text("descriptor"),
    gapLimit: integer("gap_limit"),
  },
  (t) => [uniqueIndex("wallets_chain_label").on(t.chain, t.label)],
);

export const walletAddresses = pgTable(
  "wallet_addresses",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    walletId: integer("wallet_id").notNull(),
    chain: text("chain").notNull(),
    kind: text("kind").notNull(),
    address: text("address").notNull(),
    script: text("script"),
    branch: integer("branch"),
    index: integer("idx"),
    firstSeenHeight: bigint("first_seen_height", { mode: "number" }),
  },
  (t) => [uniqueIndex("wallet_addresses_chain_address").on(t.chain, t.address), index("wallet_addresses_wallet").on(t.walletId)],
);

export const balanceChanges = pgTable(
  "balance_changes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    chain: text("chain").notNull(),
    walletId: integer("wallet_id").notNull(),
    asset: text("asset").notNull(),
    height: bigint("height", { mode: "number" }).notNull(),
    blockHash: text("block_hash").notNull(),
    txid: text("txid"),
    delta: amount("delta").notNull(),
    balanceAfter: amount("balance_after").notNull(),
  },
  (t) => [
    index("balance_changes_wallet").on(t.chain, t.walletId, t.asset, t.height),
    index("balance_changes_height").on(t.chain, t.height),
  ],
);

export const utxos = pgTable(
  "utxos",
  {
    chain: text("chain").notNull(),
    txid: text("txid").notNull(),
    vout: integer("vout").notNull(),
    walletId: integer("wallet_id").notNull(),
    addressId: integer("address_id").notNull(),
    script: text("script").notNull(),
    value: amount("value").notNull(),
    height: bigint("height", { mode: "number" }).notNull(),
    blockHash: text("block_hash").notNull(),
    spentTxid: text("spent_txid"),
    spentHeight: bigint("spent_height", { mode: "number" }),
  },
  (t) => [
    primaryKey({ columns: [t.chain, t.txid, t.vout] }),
    index("utxos_height").on(t.chain, t.height),
    index("utxos_spent_height").on(t.chain, t.spentHeight),
  ],
);

export const transfers = pgTable(
  "transfers",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    chain: text("chain").notNull(),
    height: bigint("height", { mode: "number" }).notNull(),
    blockHash: text("block_hash").notNull(),
    txid: text("txid"),
    position: bigint("position", { mode: "number" }).notNull(),
    walletId: integer("wallet_id").notNull(),
    asset: text("asset").notNull(),
    direction: text("direction").notNull(),
    amount: amount("amount").notNull(),
    counterparty: text("counterparty"),
    counterpartyWalletId: integer("counterparty_wallet_id"),
  },
  (t) => [
    index("transfers_height").on(t.chain, t.height),
    index("transfers_txid").on(t.chain, t.txid),
    index("transfers_wallet").on(t.chain, t.walletId, t.asset, t.height),
  ],
);
