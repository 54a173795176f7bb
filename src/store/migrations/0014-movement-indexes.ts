import type { Migration } from "./types.js";

/**
 * Narrower partial indexes on movement_outcomes (issue 14, the store pass's writes). Every outcome transition
 * inserts a current row and clears the previous one, so each index a current row is in costs an entry written
 * and one removed. The two indexes only serve reads that never want these rows:
 * - movement_outcomes_open (the matcher's pools: pending and unexplained legs, open records' rows) leaves out
 *   `matched` rows, most of the table; a query reaches it with the literal term `outcome <> 'matched'`.
 * - movement_outcomes_chain_height (what a rollback or a rescan names by height) leaves out rows without a
 *   height (a record no leg explains); a comparison on height implies `height IS NOT NULL`, so those queries
 *   reach it unchanged.
 * Rebuilt from the rows already stored.
 */
export const migration0014: Migration = {
  id: 14,
  name: "movement-indexes",
  sqlite: [
    "DROP INDEX movement_outcomes_open",
    "CREATE INDEX movement_outcomes_open ON movement_outcomes (outcome) WHERE current = 1 AND outcome <> 'matched'",
    "DROP INDEX movement_outcomes_chain_height",
    "CREATE INDEX movement_outcomes_chain_height ON movement_outcomes (chain, height) WHERE current = 1 AND height IS NOT NULL",
  ],
  postgres: [
    "DROP INDEX movement_outcomes_open",
    "CREATE INDEX movement_outcomes_open ON movement_outcomes (outcome) WHERE current = 1 AND outcome <> 'matched'",
    "DROP INDEX movement_outcomes_chain_height",
    "CREATE INDEX movement_outcomes_chain_height ON movement_outcomes (chain, height) WHERE current = 1 AND height IS NOT NULL",
  ],
};
