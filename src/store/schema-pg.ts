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

/** Per-wallet lifecycle (migration 5): pending until backfilled, active, or removed from the config. */
export const walletStates = pgTable(
  "wallet_states",
  {
    walletId: bigint("wallet_id", { mode: "number" }).primaryKey(),
    chain: text("chain").notNull(),
    state: text("state").notNull(),
    reason: text("reason"),
    birthday: bigint("birthday", { mode: "number" }),
    exactFrom: bigint("exact_from", { mode: "number" }),
    source: text("source"),
    activeHeight: bigint("active_height", { mode: "number" }),
    removedHeight: bigint("removed_height", { mode: "number" }),
    updatedAtMs: bigint("updated_at_ms", { mode: "number" }).notNull(),
  },
  (t) => [index("wallet_states_chain").on(t.chain, t.state)],
);

/** The follower's health per chain (migration 5); times are the database's clock in unix ms. */
export const chainHealth = pgTable("chain_health", {
  chain: text("chain").primaryKey(),
  state: text("state").notNull(),
  provider: text("provider"),
  nodeTip: bigint("node_tip", { mode: "number" }),
  nodeFinalized: bigint("node_finalized", { mode: "number" }),
  nodeSafe: bigint("node_safe", { mode: "number" }),
  nodeReadAtMs: bigint("node_read_at_ms", { mode: "number" }),
  indexedHeight: bigint("indexed_height", { mode: "number" }),
  finalizedHeight: bigint("finalized_height", { mode: "number" }),
  lastBlockAtMs: bigint("last_block_at_ms", { mode: "number" }),
  reorgCount: integer("reorg_count").notNull(),
  lastReorgDepth: integer("last_reorg_depth"),
  lastReorgAtMs: bigint("last_reorg_at_ms", { mode: "number" }),
  lastErrorCode: text("last_error_code"),
  lastErrorMessage: text("last_error_message"),
  lastErrorAtMs: bigint("last_error_at_ms", { mode: "number" }),
  updatedAtMs: bigint("updated_at_ms", { mode: "number" }).notNull(),
});

/** Per-provider health of a chain (migration 5). */
export const providerHealth = pgTable(
  "provider_health",
  {
    chain: text("chain").notNull(),
    host: text("host").notNull(),
    lastTip: bigint("last_tip", { mode: "number" }),
    lastTipAtMs: bigint("last_tip_at_ms", { mode: "number" }),
    laggingSinceMs: bigint("lagging_since_ms", { mode: "number" }),
    lastErrorCode: text("last_error_code"),
    lastErrorAtMs: bigint("last_error_at_ms", { mode: "number" }),
    disagreementAtMs: bigint("disagreement_at_ms", { mode: "number" }),
    disagreementHeight: bigint("disagreement_height", { mode: "number" }),
    disagreementHash: text("disagreement_hash"),
    expectedHash: text("expected_hash"),
    updatedAtMs: bigint("updated_at_ms", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.host] })],
);

/** Headers header pruning keeps (migration 5): the chain's first block, checkpoint anchors. */
export const headerPins = pgTable(
  "header_pins",
  {
    chain: text("chain").notNull(),
    height: bigint("height", { mode: "number" }).notNull(),
    reason: text("reason").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.height, t.reason] })],
);

/** Alert incidents (migration 8): one per incident key. */
export const alertIncidents = pgTable("alert_incidents", {
  incidentKey: text("incident_key").primaryKey(),
  rule: text("rule").notNull(),
  type: text("type").notNull(),
  severity: text("severity").notNull(),
  status: text("status").notNull(),
  chain: text("chain"),
  wallet: text("wallet"),
  asset: text("asset"),
  alertCount: bigint("alert_count", { mode: "number" }).notNull(),
  lastAlertId: text("last_alert_id").notNull(),
  openedAtMs: bigint("opened_at_ms", { mode: "number" }).notNull(),
  updatedAtMs: bigint("updated_at_ms", { mode: "number" }).notNull(),
  resolvedAtMs: bigint("resolved_at_ms", { mode: "number" }),
  ackAtMs: bigint("ack_at_ms", { mode: "number" }),
  ackBy: text("ack_by"),
});

/** Alerts raised (migration 8). `txids` and `details` are JSON text. */
export const alerts = pgTable("alerts", {
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
  height: bigint("height", { mode: "number" }),
  blockHash: text("block_hash"),
  summary: text("summary").notNull(),
  details: text("details").notNull(),
  runbook: text("runbook"),
  createdAtMs: bigint("created_at_ms", { mode: "number" }).notNull(),
  finalizedAtMs: bigint("finalized_at_ms", { mode: "number" }),
  withdrawnAtMs: bigint("withdrawn_at_ms", { mode: "number" }),
  ackAtMs: bigint("ack_at_ms", { mode: "number" }),
  ackBy: text("ack_by"),
});

/** The alert outbox (migration 8; `seq` migration 13): one message per (alert event, sink). */
export const alertOutbox = pgTable("alert_outbox", {
  id: text("id").primaryKey(),
  alertId: text("alert_id").notNull(),
  incidentKey: text("incident_key").notNull(),
  sink: text("sink").notNull(),
  event: text("event").notNull(),
  body: text("body").notNull(),
  status: text("status").notNull(),
  attempts: bigint("attempts", { mode: "number" }).notNull(),
  nextAttemptAtMs: bigint("next_attempt_at_ms", { mode: "number" }).notNull(),
  lastStatus: bigint("last_status", { mode: "number" }),
  lastError: text("last_error"),
  createdAtMs: bigint("created_at_ms", { mode: "number" }).notNull(),
  deliveredAtMs: bigint("delivered_at_ms", { mode: "number" }),
  /** Write order (migration 13): set by the database, never by a writer. */
  seq: bigint("seq", { mode: "number" }),
});

/** Sinks a receiver disabled (migration 8). */
export const alertSinks = pgTable("alert_sinks", {
  name: text("name").primaryKey(),
  disabledAtMs: bigint("disabled_at_ms", { mode: "number" }),
  disabledReason: text("disabled_reason"),
});

/** The platform's movement records (migration 10): one row per record id, amount in base units. */
export const movementRecords = pgTable("movement_records", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  chain: text("chain").notNull(),
  asset: text("asset").notNull(),
  amount: amount("amount").notNull(),
  counterparty: text("counterparty"),
  txid: text("txid"),
  timeMs: bigint("time_ms", { mode: "number" }).notNull(),
  contentHash: text("content_hash").notNull(),
  source: text("source").notNull(),
  receivedAtMs: bigint("received_at_ms", { mode: "number" }).notNull(),
  open: integer("open").notNull(),
});

/** Outcomes of movement matching (migration 10; partial indexes narrowed in migration 14): append-only, one `current` row per subject. */
export const movementOutcomes = pgTable("movement_outcomes", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
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
  height: bigint("height", { mode: "number" }),
  blockHash: text("block_hash"),
  position: bigint("position", { mode: "number" }),
  walletId: bigint("wallet_id", { mode: "number" }),
  counterparty: text("counterparty"),
  counterpartyWalletId: bigint("counterparty_wallet_id", { mode: "number" }),
  recordTimeMs: bigint("record_time_ms", { mode: "number" }),
  blockTimeMs: bigint("block_time_ms", { mode: "number" }),
  seenAtMs: bigint("seen_at_ms", { mode: "number" }),
  atMs: bigint("at_ms", { mode: "number" }).notNull(),
});

/** Per chain, the highest height whose transfer legs the movement matcher has taken in (migration 10). */
export const movementCursors = pgTable("movement_cursors", {
  chain: text("chain").primaryKey(),
  height: bigint("height", { mode: "number" }).notNull(),
});
