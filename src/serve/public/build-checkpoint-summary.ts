import type { SignedCheckpoint } from "../../reconcile/checkpoint-document.js";

/** One line of the public history: aggregates only (no wallet, no address, no account). Amounts are base-unit strings. */
export type CheckpointSummaryJson = {
  seq: number;
  digest: string;
  previousDigest: string | null;
  /** The snapshot's time (RFC 3339 UTC, seconds) and the same in unix seconds. */
  time: string;
  asOfTime: number;
  /** The liabilities snapshot and the Merkle-sum root its inclusion proofs verify against. */
  snapshotId: string;
  root: string;
  status: string;
  invalidates: number | null;
  supersededBy: number | null;
  /** Version 2 documents add, per asset, the window's minimum (null when not anchored) and whether it is flagged window_dressing. */
  assets: Array<{ asset: string; decimals: number; reserves: string | null; liabilities: string; surplus: string | null; coverageBps: string | null; status: string; windowMin?: string | null; windowDressing?: boolean }>;
  anchors: Array<{ chain: string; caip2: string; height: number; hash: string; time: number }>;
  /** The signed document, byte for byte. */
  url: string;
};

/** The public summary of a signed checkpoint. Pure. */
export function buildCheckpointSummary(c: SignedCheckpoint, p: { supersededBy: number | null }): CheckpointSummaryJson {
  const d = c.document;
  return {
    seq: d.seq,
    digest: c.digest,
    previousDigest: d.previousDigest,
    time: new Date(d.snapshot.asOfTime * 1000).toISOString().replace(/\.000Z$/, "Z"),
    asOfTime: d.snapshot.asOfTime,
    snapshotId: d.snapshot.id,
    root: d.snapshot.root,
    status: d.status,
    invalidates: d.invalidates,
    supersededBy: p.supersededBy,
    assets: d.assets.map((a) => ({
      asset: a.asset, decimals: a.decimals, reserves: a.reserves, liabilities: a.liabilities, surplus: a.surplus, coverageBps: a.coverageBps, status: a.status,
      ...(a.window !== undefined ? { windowMin: a.window?.minReserves ?? null, windowDressing: a.window?.windowDressing ?? false } : {}),
    })),
    anchors: d.anchors.map((a) => ({ chain: a.chain, caip2: a.caip2, height: a.height, hash: a.hash, time: a.time })),
    url: `/public/v1/checkpoints/${d.seq}.json`,
  };
}
