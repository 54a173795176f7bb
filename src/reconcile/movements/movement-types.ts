/** What a platform record says happened: a user's deposit credited, a withdrawal requested, or a move between custody wallets. */
export const MOVEMENT_KINDS = ["deposit", "withdrawal", "internal_transfer", "sweep"] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

/**
 * One movement record, validated and normalised: `amount` in base units of `asset` (what the user
 * receives; the chain's fee is on top), `counterparty` in the chain's canonical form (Bitcoin: the
 * standard encoding of its script; EVM: lowercase 0x; Solana: base58 owner), `txid` lowercase hex
 * (Bitcoin, EVM 0x) or base58 (Solana), `timeMs` unix milliseconds.
 */
export type MovementRecord = {
  id: string;
  kind: MovementKind;
  chain: string;
  asset: string;
  amount: bigint;
  counterparty: string | null;
  txid: string | null;
  timeMs: number;
};

/** A record as stored, with its content hash and where it came from. */
export type StoredMovementRecord = MovementRecord & { contentHash: string; source: "file" | "http"; receivedAtMs: number; open: boolean };

/**
 * Outcomes (issue 14, item 3), and `pending` (an item inside its grace period or SLA), `internal`
 * (custody to custody without a record: never an outflow), `replaced` (matched by attributes after
 * the record's txid was replaced on chain, e.g. an RBF fee bump).
 */
export const MOVEMENT_OUTCOMES = [
  "matched", "replaced", "unexplained_outflow", "unexplained_inflow", "missing_on_chain", "amount_mismatch", "reorged", "internal", "pending",
] as const;
export type MovementOutcomeName = (typeof MOVEMENT_OUTCOMES)[number];

/** Alert severity of each outcome (the alert engine reads it from the stored row). */
export const OUTCOME_SEVERITY: Record<MovementOutcomeName, "critical" | "error" | "warning" | "info"> = {
  matched: "info",
  replaced: "warning",
  unexplained_outflow: "critical",
  unexplained_inflow: "warning",
  missing_on_chain: "error",
  amount_mismatch: "critical",
  reorged: "warning",
  internal: "info",
  pending: "info",
};

/** A transfer leg as the matcher sees it: one custody movement of a block, with the fee of its transaction when it carries it. */
export type MatchLeg = {
  /** Stable across re-reads and re-inclusion of the same transaction: `leg:<chain>:<txid>:<n>` (n: the leg's rank among its transaction's legs). */
  subject: string;
  chain: string;
  height: number;
  blockHash: string;
  blockTimeMs: number;
  txid: string | null;
  position: number;
  walletId: number;
  asset: string;
  direction: "in" | "out";
  amount: bigint;
  counterparty: string | null;
  counterpartyWalletId: number | null;
  /** The transaction's fee (sum of its fee legs), on the first out leg of the transaction only: attributed once per batch. */
  fee: bigint | null;
  feeAsset: string | null;
  /** When the matcher first saw the leg (unix ms): the grace period runs from here. */
  seenAtMs: number;
  /** At or below the chain's finalized height. */
  final: boolean;
};
