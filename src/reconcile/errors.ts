import { BackstopError } from "../lib/errors.js";

/** `checkpoint create` needs `checkpoints.signingKey` (an env reference) in the config. */
export class NoSigningKeyError extends BackstopError {
  override name = "NoSigningKeyError";
  constructor() {
    super("CHECKPOINT__NO_SIGNING_KEY", "No checkpoint signing key: set checkpoints.signingKey to env(\"NAME\") in the config.", {
      meta: ["  `backstop keys generate` prints a new key and its public JWK (add the public key to checkpoints.keys)"],
    });
  }
}

/** The signing key's text is not `ed25519:<43 base64url characters>` (its value is never printed). */
export class BadSigningKeyError extends BackstopError {
  override name = "BadSigningKeyError";
  constructor(p: { env?: string }) {
    super("CHECKPOINT__BAD_SIGNING_KEY", `The checkpoint signing key${p.env ? ` in ${p.env}` : ""} is not an Ed25519 key as \`backstop keys generate\` prints it (ed25519:<base64url seed>).`);
  }
}

/** The signing key's public key is not in checkpoints.keys, or its validity window does not cover the snapshot time. */
export class SigningKeyNotPublishedError extends BackstopError {
  override name = "SigningKeyNotPublishedError";
  constructor(p: { kid: string; x: string; problem: string }) {
    super("CHECKPOINT__KEY_NOT_PUBLISHED", `The checkpoint signing key ${p.kid} ${p.problem}.`, {
      meta: [`  publish it in checkpoints.keys: { x: "${p.x}", notBefore: "<ISO-8601>" }`],
    });
  }
}

/** No liabilities snapshot (or none with the given id) to checkpoint. */
export class CheckpointSnapshotNotFoundError extends BackstopError {
  override name = "CheckpointSnapshotNotFoundError";
  constructor(p: { snapshotId?: string }) {
    super("CHECKPOINT__NO_SNAPSHOT", p.snapshotId ? `No liabilities snapshot "${p.snapshotId}".` : "No liabilities snapshot imported yet: nothing to checkpoint.", {
      meta: ["  import one with `backstop liabilities import <file> --as-of <time>`"],
    });
  }
}

/** A chain has not finalized a block after the snapshot's time yet (retryable: the checkpoint waits). */
export class NotFinalizedPastError extends BackstopError {
  override name = "NotFinalizedPastError";
  readonly chains: string[];
  constructor(p: { chains: Array<{ chain: string; finalized: number | null }>; asOf: string }) {
    super("CHECKPOINT__NOT_FINALIZED", `Not every chain has finalized a block after ${p.asOf} yet.`, {
      meta: p.chains.map((c) => `  ${c.chain}: finalized ${c.finalized ?? "nothing yet"}`),
      retryable: true,
    });
    this.chains = p.chains.map((c) => c.chain);
  }
}

/** One chain's open window: its anchor, the height its window ends at, and what it has finalized. */
export type OpenWindow = { chain: string; anchorHeight: number; windowEnd: number; finalized: number };

/**
 * Every anchor is chosen but a chain has not finalized anchor + windowBlocks yet: the checkpoint is
 * provisional (the window after the anchor may still hold an outflow), so it is not signed (retryable: it waits).
 */
export class ProvisionalCheckpointError extends BackstopError {
  override name = "ProvisionalCheckpointError";
  readonly chains: OpenWindow[];
  constructor(p: { snapshotId: string; chains: OpenWindow[] }) {
    super("CHECKPOINT__PROVISIONAL", `The checkpoint of snapshot ${p.snapshotId} is provisional: the window after an anchor is not final yet.`, {
      meta: p.chains.map((c) => `  ${c.chain}: anchor ${c.anchorHeight}, window to ${c.windowEnd}, finalized ${c.finalized}`),
      retryable: true,
    });
    this.chains = p.chains;
  }
}

/** The anchor of a chain cannot be determined: the headers around the snapshot's time were pruned, or the chain is not indexed. */
export class AnchorUnavailableError extends BackstopError {
  override name = "AnchorUnavailableError";
  constructor(p: { chain: string; problem: string }) {
    super("CHECKPOINT__ANCHOR_UNAVAILABLE", `No anchor on ${p.chain}: ${p.problem}.`);
  }
}

/** No checkpoint with that sequence number. */
export class CheckpointNotFoundError extends BackstopError {
  override name = "CheckpointNotFoundError";
  constructor(p: { seq: number | string }) {
    super("CHECKPOINT__NOT_FOUND", `No checkpoint ${p.seq}.`);
  }
}

/** A value that has no canonical JSON form (a non-finite number, a bigint, undefined, a function). */
export class NonCanonicalValueError extends BackstopError {
  override name = "NonCanonicalValueError";
  constructor(p: { path: string; problem: string }) {
    super("CHECKPOINT__NON_CANONICAL", `No canonical JSON (RFC 8785) for ${p.path}: ${p.problem}.`);
  }
}

/** `checkpoint verify`: the first file and field at fault. */
export class CheckpointVerifyError extends BackstopError {
  override name = "CheckpointVerifyError";
  readonly file: string;
  readonly field: string;
  constructor(p: { file: string; field: string; problem: string }) {
    super("CHECKPOINT__VERIFY_FAILED", `${p.file}: ${p.field}: ${p.problem}.`);
    this.file = p.file;
    this.field = p.field;
  }
}

/** The full read of EVM balances at an anchor block failed. Retryable. */
export class AnchorReadError extends BackstopError {
  override name = "AnchorReadError";
  constructor(p: { chain: string; height: number; cause?: unknown }) {
    super("CHECKPOINT__ANCHOR_READ_FAILED", `Reading balances at the anchor block ${p.height} on ${p.chain} failed.`, { cause: p.cause, retryable: true });
  }
}

/** Another process appended a checkpoint with the same sequence number first (retryable: read the new tip and rebuild). */
export class CheckpointConflictError extends BackstopError {
  override name = "CheckpointConflictError";
  constructor(p: { seq: number; cause?: unknown }) {
    super("CHECKPOINT__CONFLICT", `Checkpoint ${p.seq} was appended by another process meanwhile.`, { cause: p.cause, retryable: true });
  }
}
