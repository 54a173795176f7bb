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
 * the record's txid was replaced on chain, e.g. an RBF fee bump), `unknown_counterparty` (an
 * unexplained outflow to a look-alike of a known counterparty: address poisoning, TESTING.md J5).
 */
export const MOVEMENT_OUTCOMES = [
  "matched", "replaced", "unexplained_outflow", "unexplained_inflow", "missing_on_chain", "amount_mismatch", "reorged", "internal", "pending",
  "unknown_counterparty",
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
  unknown_counterparty: "critical",
};

/** Flags an outcome row can carry (`movement_outcomes.flags`, comma-joined). `looks_like:<address>` and `dust_window:<unix ms>` carry a value. */
export const MOVEMENT_FLAGS = {
  feeAboveCeiling: "fee_above_ceiling",
  txidReplaced: "txid_replaced",
  transactionCost: "transaction_cost",
  /** An inflow below the asset's dust floor (J4): severity info, one alert incident per asset and dust window. */
  dust: "dust",
  /** A record whose transaction is on chain but failed (EVM status 0: only gas left custody, J8). */
  failedOnChain: "failed_on_chain",
} as const;

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
