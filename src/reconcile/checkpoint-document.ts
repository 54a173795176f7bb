/** The assurance label every checkpoint carries. */
export const ASSURANCE = "automated self-attestation, not an audit";
/** `type` of a checkpoint document. */
export const CHECKPOINT_TYPE = "backstop.solvency-checkpoint";
/** The document format this code writes (docs/checkpoints.md): 2 adds the reserve window and `flags`. */
export const CHECKPOINT_VERSION = 2;
/** Every document version a verifier of this code reads. */
export const CHECKPOINT_VERSIONS: readonly number[] = [1, 2];
/** The only flag so far: reserves rose before the anchors and fell after them by more than the threshold. */
export const WINDOW_DRESSING = "window_dressing";

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
  /** Version 2: the reserve window, heights [fromHeight, toHeight] = [height - blocks, height + blocks]. */
  window?: { blocks: number; fromHeight: number; toHeight: number };
};

/** Version 2: one backing line's reserves over its chain's window. Amounts in the chain asset's base units. */
export type BackingWindow = {
  /** The minimum of the counted wallets' sum over the window, and the lowest height where it holds. */
  min: string;
  minHeight: number;
  /** `min` scaled to the liability asset's decimals (floored). */
  minScaled: string;
  /** The anchored sum minus the minimum over the W blocks before the anchor ("0" if never lower). */
  riseBefore: string;
  /** The anchored sum minus the minimum over the W blocks after the anchor ("0" if never lower). */
  dropAfter: string;
};

/** Version 2: per liability asset, its reserves over the windows. Amounts in the liability asset's base units. */
export type AssetWindow = {
  /** Σ backing[].window.minScaled: each chain's minimum, whenever it held (never above the reserves at any one instant). */
  minReserves: string;
  /** Σ floor-scaled backing[].window.riseBefore. */
  riseBefore: string;
  /** Σ floor-scaled backing[].window.dropAfter. */
  dropAfter: string;
  /** The threshold (config checkpoints.windowDressingBps). */
  thresholdBps: number;
  /** riseBefore × 10000 > thresholdBps × reserves and dropAfter × 10000 > thresholdBps × reserves. */
  windowDressing: boolean;
};

/** Version 2: one counted wallet's change named by a flag. `amount` is the size of the change, base units of `chainAsset`. */
export type FlagMove = { chain: string; chainAsset: string; wallet: string; height: number; txid: string | null; amount: string };

/** Version 2: something the checkpoint flags without changing its coverage figures. */
export type CheckpointFlag = {
  type: typeof WINDOW_DRESSING;
  asset: string;
  /** The asset's window figures that raised it (liability base units). */
  riseBefore: string;
  dropAfter: string;
  reserves: string;
  thresholdBps: number;
  /** The increases in the windows before the anchors, and the decreases in the windows after them, of the asset's backing chain assets. */
  inflows: FlagMove[];
  outflows: FlagMove[];
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
  /** Version 2. */
  window?: BackingWindow;
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
  /** Version 2: the window figures; null when not anchored (no figure is published). */
  window?: AssetWindow | null;
};

/** A store value that differs from the node's full read at the anchor. Amounts in base units. */
export type Discrepancy = { chain: string; wallet: string; asset: string; height: number; store: string; node: string };

/** The signed part of a checkpoint: canonicalised with RFC 8785 before hashing and signing. */
export type CheckpointDocument = {
  type: typeof CHECKPOINT_TYPE;
  /** 1 (no window) or 2; this code writes CHECKPOINT_VERSION. */
  version: 1 | 2;
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
  /** Version 2: flags, sorted by (type, asset); [] when none. They do not change `status`. */
  flags?: CheckpointFlag[];
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
