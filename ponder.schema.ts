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
    /** Every (wallet, token) pair was read at this block (a full read); native balances are read at every block. */
    fullRead: t.boolean().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.number] }) }),
);

/**
 * Absolute balance of (wallet, asset) at the end of a block, read from the node at that block. Written only
 * when it differs from the pair's previous read: absent means unchanged (or 0 before any read).
 */
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

/** An ERC-20 `Transfer` log from or to a custody wallet: which transaction moved a token, and with whom. */
export const backstopTransfer = onchainTable(
  "backstop_transfer",
  (t) => ({
    chainId: t.integer().notNull(),
    blockNumber: t.bigint().notNull(),
    logIndex: t.integer().notNull(),
    txHash: t.hex().notNull(),
    /** Backstop asset id of the token. */
    asset: t.text().notNull(),
    from: t.hex().notNull(),
    to: t.hex().notNull(),
    /** Base units. */
    amount: t.bigint().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.chainId, table.blockNumber, table.logIndex] }),
  }),
);
