/** The assurance label every checkpoint carries. */
export const ASSURANCE = "automated self-attestation, not an audit";
/** `type` of a checkpoint document. */
export const CHECKPOINT_TYPE = "backstop.solvency-checkpoint";
/** The document format this code writes (docs/checkpoints.md). */
export const CHECKPOINT_VERSION = 1;

/** Overall status: every anchor within its skew, no discrepancy, every asset covered. */
export type CheckpointStatus = "covered" | "breach" | "not_anchored" | "discrepancy";

/** One chain's anchor block. Times are unix seconds. */
export type AnchorEntry = {
  chain: string;
  /** CAIP-2 chain id. */
  caip2: string;
  height: number;
  hash: string;
  /** The block header's time. */
  time: number;
  /** The time the anchor rule compared with the snapshot's (Bitcoin: median time past; else the block time). */
  ruleTime: number;
  rule: "median-time-past" | "block-time";
  /** How the chain's blocks become final (e.g. "6 confirmations", "finalized tag", "finalized commitment"). */
  finality: string;
  /** Snapshot time minus the anchor's rule time (>= 0). */
  skewSeconds: number;
  maxSkewSeconds: number;
  /** skewSeconds <= maxSkewSeconds. */
  anchored: boolean;
};

/** One chain asset's contribution to a liability asset. Amounts are base-unit integer strings. */
export type BackingLine = {
  chain: string;
  /** The chain asset id (config `assets` key). */
  chainAsset: string;
  decimals: number;
  /** The sum over the chain's counted wallets at the anchor, in the chain asset's base units. */
  amount: string;
  /** `amount` in the liability asset's base units (floored when scaling down). */
  scaled: string;
  /** What flooring cut off, in the chain asset's base units ("0" when none). */
  remainder: string;
  /** Counted wallets of the chain. */
  wallets: number;
};

/** Per liability asset. Amounts are base-unit integer strings of the liability asset. */
export type AssetEntry = {
  asset: string;
  decimals: number;
  /** The snapshot's Merkle-sum root total. */
  liabilities: string;
  /** Sum of `backing[].scaled`; null when not anchored (no figure is published). */
  reserves: string | null;
  /** reserves - liabilities (signed); null when not anchored. */
  surplus: string | null;
  /** floor(reserves * 10000 / liabilities) as an integer string; null when liabilities are 0 or not anchored. */
  coverageBps: string | null;
  status: "covered" | "breach" | "not_anchored";
  backing: BackingLine[];
};

/** A store value that differs from the node's full read at the anchor. Amounts in base units. */
export type Discrepancy = { chain: string; wallet: string; asset: string; height: number; store: string; node: string };

/** The signed part of a checkpoint: canonicalised with RFC 8785 before hashing and signing. */
export type CheckpointDocument = {
  type: typeof CHECKPOINT_TYPE;
  version: typeof CHECKPOINT_VERSION;
  seq: number;
  /** Digest of checkpoint seq - 1 (`sha256:<hex>`), null for seq 1. */
  previousDigest: string | null;
  /** The seq this checkpoint supersedes (its anchor was reorganised away), or null. */
  invalidates: number | null;
  status: CheckpointStatus;
  assurance: typeof ASSURANCE;
  snapshot: {
    id: string;
    /** As given at import (ISO-8601). */
    asOf: string;
    /** The same time in unix seconds (floored): T of the anchor rule. */
    asOfTime: number;
    /** SHA-256 of the imported file's bytes. */
    fileDigest: string;
    /** The Merkle-sum root (hex) its inclusion proofs verify against. */
    root: string;
    proofVersion: number;
  };
  anchors: AnchorEntry[];
  assets: AssetEntry[];
  /** Mapping gaps, reported rather than hidden. */
  unbacked: {
    /** Liability assets of the snapshot no chain asset backs. */
    liabilityAssets: string[];
    /** Chain assets that back nothing (`backs` not set, or naming an asset the snapshot lacks). */
    chainAssets: string[];
  };
  /** Wallets not counted at their chain's anchor, with the reason. */
  excluded: Array<{ chain: string; wallet: string; reason: string }>;
  discrepancies: Discrepancy[];
  scope: {
    chains: string[];
    assets: string[];
    wallets: number;
    /** The counted wallets' addresses (descriptors for descriptor wallets): how many, and SHA-256 of their sorted lines (docs/checkpoints.md). */
    addressSet: { entries: number; digest: string };
  };
};

/** A checkpoint as published: the document, its digest and signature. */
export type SignedCheckpoint = {
  document: CheckpointDocument;
  /** `sha256:<hex>` of the document's RFC 8785 bytes. */
  digest: string;
  /** Ed25519 over the document's RFC 8785 bytes; `x` the raw public key (base64url), `kid` its RFC 7638 thumbprint. */
  signature: { alg: "EdDSA"; kid: string; x: string; value: string };
};
