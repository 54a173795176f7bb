import { customType, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * Exact bigint amounts in SQLite: TEXT, never NUMERIC (NUMERIC affinity turns
 * integers above 2^63-1 into REAL and loses digits).
 */
export const amount = customType<{ data: bigint; driverData: string }>({
  dataType: () => "text",
  toDriver: (v) => v.toString(),
  fromDriver: (v) => BigInt(v),
});

export const schemaMigrations = sqliteTable("schema_migrations", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  appliedAt: text("applied_at").notNull(),
});

export const chainCursors = sqliteTable("chain_cursors", {
  chain: text("chain").primaryKey(),
  height: integer("height").notNull(),
  hash: text("hash").notNull(),
  finalizedHeight: integer("finalized_height"),
  updatedAt: text("updated_at").notNull(),
});

export const blockHeaders = sqliteTable(
  "block_headers",
  {
    chain: text("chain").notNull(),
    height: integer("height").notNull(),
    hash: text("hash").notNull(),
    parentHash: text("parent_hash").notNull(),
    time: integer("time").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.height] })],
);

export const wallets = sqliteTable(
  "wallets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    chain: text("chain").notNull(),
    label: text("label").notNull(),
    kind: text("kind").notNull(),
    address: text("address"),
    descriptor: text("descriptor"),
    gapLimit: integer("gap_limit"),
  },
  (t) => [uniqueIndex("wallets_chain_label").on(t.chain, t.label)],
);

export const walletAddresses = sqliteTable(
  "wallet_addresses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    walletId: integer("wallet_id").notNull(),
    chain: text("chain").notNull(),
    kind: text("kind").notNull(),
    address: text("address").notNull(),
    script: text("script"),
    branch: integer("branch"),
    index: integer("idx"),
    firstSeenHeight: integer("first_seen_height"),
  },
  (t) => [uniqueIndex("wallet_addresses_chain_address").on(t.chain, t.address), index("wallet_addresses_wallet").on(t.walletId)],
);

export const balanceChanges = sqliteTable(
  "balance_changes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    chain: text("chain").notNull(),
    walletId: integer("wallet_id").notNull(),
    asset: text("asset").notNull(),
    height: integer("height").notNull(),
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

export const utxos = sqliteTable(
  "utxos",
  {
    chain: text("chain").notNull(),
    txid: text("txid").notNull(),
    vout: integer("vout").notNull(),
    walletId: integer("wallet_id").notNull(),
    addressId: integer("address_id").notNull(),
    script: text("script").notNull(),
    value: amount("value").notNull(),
    height: integer("height").notNull(),
    blockHash: text("block_hash").notNull(),
    spentTxid: text("spent_txid"),
    spentHeight: integer("spent_height"),
  },
  (t) => [
    primaryKey({ columns: [t.chain, t.txid, t.vout] }),
    index("utxos_height").on(t.chain, t.height),
    index("utxos_spent_height").on(t.chain, t.spentHeight),
  ],
);

export const transfers = sqliteTable(
  "transfers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    chain: text("chain").notNull(),
    height: integer("height").notNull(),
    blockHash: text("block_hash").notNull(),
    txid: text("txid"),
    position: integer("position").notNull(),
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

/** Per-wallet lifecycle (migration 5): pending until backfilled, active, or removed from the config. */
export const walletStates = sqliteTable(
  "wallet_states",
  {
    walletId: integer("wallet_id").primaryKey(),
    chain: text("chain").notNull(),
    state: text("state").notNull(),
    reason: text("reason"),
    birthday: integer("birthday"),
    exactFrom: integer("exact_from"),
    source: text("source"),
    activeHeight: integer("active_height"),
    removedHeight: integer("removed_height"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [index("wallet_states_chain").on(t.chain, t.state)],
);

/** The follower's health per chain (migration 5); times are the database's clock in unix ms. */
export const chainHealth = sqliteTable("chain_health", {
  chain: text("chain").primaryKey(),
  state: text("state").notNull(),
  provider: text("provider"),
  nodeTip: integer("node_tip"),
  nodeFinalized: integer("node_finalized"),
  nodeSafe: integer("node_safe"),
  nodeReadAtMs: integer("node_read_at_ms"),
  indexedHeight: integer("indexed_height"),
  finalizedHeight: integer("finalized_height"),
  lastBlockAtMs: integer("last_block_at_ms"),
  reorgCount: integer("reorg_count").notNull(),
  lastReorgDepth: integer("last_reorg_depth"),
  lastReorgAtMs: integer("last_reorg_at_ms"),
  lastErrorCode: text("last_error_code"),
  lastErrorMessage: text("last_error_message"),
  lastErrorAtMs: integer("last_error_at_ms"),
  updatedAtMs: integer("updated_at_ms").notNull(),
});

/** Per-provider health of a chain (migration 5). */
export const providerHealth = sqliteTable(
  "provider_health",
  {
    chain: text("chain").notNull(),
    host: text("host").notNull(),
    lastTip: integer("last_tip"),
    lastTipAtMs: integer("last_tip_at_ms"),
    laggingSinceMs: integer("lagging_since_ms"),
    lastErrorCode: text("last_error_code"),
    lastErrorAtMs: integer("last_error_at_ms"),
    disagreementAtMs: integer("disagreement_at_ms"),
    disagreementHeight: integer("disagreement_height"),
    disagreementHash: text("disagreement_hash"),
    expectedHash: text("expected_hash"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.host] })],
);

/** Headers header pruning keeps (migration 5): the chain's first block, checkpoint anchors. */
export const headerPins = sqliteTable(
  "header_pins",
  {
    chain: text("chain").notNull(),
    height: integer("height").notNull(),
    reason: text("reason").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.height, t.reason] })],
);

/** Alert incidents (migration 8): one per incident key. */
export const alertIncidents = sqliteTable("alert_incidents", {
  incidentKey: text("incident_key").primaryKey(),
  rule: text("rule").notNull(),
  type: text("type").notNull(),
  severity: text("severity").notNull(),
  status: text("status").notNull(),
  chain: text("chain"),
  wallet: text("wallet"),
  asset: text("asset"),
  alertCount: integer("alert_count").notNull(),
  lastAlertId: text("last_alert_id").notNull(),
  openedAtMs: integer("opened_at_ms").notNull(),
  updatedAtMs: integer("updated_at_ms").notNull(),
  resolvedAtMs: integer("resolved_at_ms"),
  ackAtMs: integer("ack_at_ms"),
  ackBy: text("ack_by"),
});

/** Alerts raised (migration 8). `txids` and `details` are JSON text. */
export const alerts = sqliteTable("alerts", {
  id: text("id").primaryKey(),
  dedupeKey: text("dedupe_key").notNull(),
  incidentKey: text("incident_key").notNull(),
  rule: text("rule").notNull(),
  type: text("type").notNull(),
  severity: text("severity").notNull(),
  status: text("status").notNull(),
  finality: text("finality").notNull(),
  state: text("state").notNull(),
  chain: text("chain"),
  wallet: text("wallet"),
  asset: text("asset"),
  txids: text("txids").notNull(),
  height: integer("height"),
  blockHash: text("block_hash"),
  summary: text("summary").notNull(),
  details: text("details").notNull(),
  runbook: text("runbook"),
  createdAtMs: integer("created_at_ms").notNull(),
  finalizedAtMs: integer("finalized_at_ms"),
  withdrawnAtMs: integer("withdrawn_at_ms"),
  ackAtMs: integer("ack_at_ms"),
  ackBy: text("ack_by"),
});

/** The alert outbox (migration 8; `seq` migration 13): one message per (alert event, sink). */
export const alertOutbox = sqliteTable("alert_outbox", {
  id: text("id").primaryKey(),
  alertId: text("alert_id").notNull(),
  incidentKey: text("incident_key").notNull(),
  sink: text("sink").notNull(),
  event: text("event").notNull(),
  body: text("body").notNull(),
  status: text("status").notNull(),
  attempts: integer("attempts").notNull(),
  nextAttemptAtMs: integer("next_attempt_at_ms").notNull(),
  lastStatus: integer("last_status"),
  lastError: text("last_error"),
  createdAtMs: integer("created_at_ms").notNull(),
  deliveredAtMs: integer("delivered_at_ms"),
  /** Write order (migration 13): set by the database, never by a writer. */
  seq: integer("seq"),
});

/** Sinks a receiver disabled (migration 8). */
export const alertSinks = sqliteTable("alert_sinks", {
  name: text("name").primaryKey(),
  disabledAtMs: integer("disabled_at_ms"),
  disabledReason: text("disabled_reason"),
});

/** The platform's movement records (migration 10): one row per record id, amount in base units. */
export const movementRecords = sqliteTable("movement_records", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  chain: text("chain").notNull(),
  asset: text("asset").notNull(),
  amount: amount("amount").notNull(),
  counterparty: text("counterparty"),
  txid: text("txid"),
  timeMs: integer("time_ms").notNull(),
  contentHash: text("content_hash").notNull(),
  source: text("source").notNull(),
  receivedAtMs: integer("received_at_ms").notNull(),
  open: integer("open").notNull(),
});

/** Outcomes of movement matching (migration 10; partial indexes narrowed in migration 14): append-only, one `current` row per subject. */
export const movementOutcomes = sqliteTable("movement_outcomes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  subject: text("subject").notNull(),
  current: integer("current").notNull(),
  outcome: text("outcome").notNull(),
  severity: text("severity").notNull(),
  recordId: text("record_id"),
  kind: text("kind"),
  chain: text("chain").notNull(),
  asset: text("asset").notNull(),
  amount: amount("amount"),
  chainAmount: amount("chain_amount"),
  fee: amount("fee"),
  feeAsset: text("fee_asset"),
  flags: text("flags"),
  direction: text("direction"),
  txid: text("txid"),
  height: integer("height"),
  blockHash: text("block_hash"),
  position: integer("position"),
  walletId: integer("wallet_id"),
  counterparty: text("counterparty"),
  counterpartyWalletId: integer("counterparty_wallet_id"),
  recordTimeMs: integer("record_time_ms"),
  blockTimeMs: integer("block_time_ms"),
  seenAtMs: integer("seen_at_ms"),
  atMs: integer("at_ms").notNull(),
});

/** Per chain, the highest height whose transfer legs the movement matcher has taken in (migration 10). */
export const movementCursors = sqliteTable("movement_cursors", {
  chain: text("chain").primaryKey(),
  height: integer("height").notNull(),
});
