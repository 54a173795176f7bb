import type { Migration } from "./types.js";

/**
 * Liabilities proof format per snapshot (issue 10, item 8). Format 2 roots commit to the
 * snapshot's id and as-of; snapshots imported before this migration keep their format-1 root
 * (the one already published) and keep producing format-1 proofs, so `proof_version` defaults
 * to 1 for existing rows. The importer writes 2. `root` always holds the root of the snapshot's
 * own format: the one its proofs verify against and a checkpoint cites.
 */
export const migration0011: Migration = {
  id: 11,
  name: "proof-version",
  sqlite: ["ALTER TABLE liability_snapshots ADD COLUMN proof_version INTEGER NOT NULL DEFAULT 1"],
  postgres: ["ALTER TABLE liability_snapshots ADD COLUMN proof_version INTEGER NOT NULL DEFAULT 1"],
};
