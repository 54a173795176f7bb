import { index, onchainTable, primaryKey } from "ponder";

// Ponder owns these tables; Backstop only reads them through src/api/index.ts.
// Ponder reverts rows of unfinalized blocks on a reorg, so the route always serves its canonical view.

/** Every indexed block of every chain: header data Backstop mirrors as its block headers. */
export const backstopBlock = onchainTable(
  "backstop_block",
  (t) => ({
    chainId: t.integer().notNull(),
    number: t.bigint().notNull(),
    hash: t.hex().notNull(),
    parentHash: t.hex().notNull(),
    /** Unix seconds. */
    timestamp: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.number] }) }),
);

/** Absolute balance of (wallet, asset) at the end of a block, read from the node at that block. */
export const backstopBalance = onchainTable(
  "backstop_balance",
  (t) => ({
    chainId: t.integer().notNull(),
    blockNumber: t.bigint().notNull(),
    wallet: t.hex().notNull(),
    /** Backstop asset id. */
    asset: t.text().notNull(),
    /** Base units (wei / token units). */
    balance: t.bigint().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.chainId, table.blockNumber, table.wallet, table.asset] }),
    byBlock: index().on(table.chainId, table.blockNumber),
  }),
);

/** (wallet, asset) pairs an event in this block may have changed; read once at the block's end. */
export const backstopPending = onchainTable(
  "backstop_pending",
  (t) => ({
    chainId: t.integer().notNull(),
    blockNumber: t.bigint().notNull(),
    /** `wallet|asset` keys. */
    keys: t.text().array().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.blockNumber] }) }),
);
