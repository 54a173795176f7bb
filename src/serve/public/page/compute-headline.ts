// The platform's status in one glance, from the latest signed checkpoint and the feed's cadence.
// Import-free (type imports only): the server's status.json and the page use this same rule.
import type { CheckpointDocument } from "../../../reconcile/checkpoint-document.js";

/** `covered`, `under_review` (the latest checkpoint is a breach, not anchored or has a discrepancy; or live coverage is below 100%), `stale` (no checkpoint within the cadence), or `none` (no checkpoint yet). */
export type HeadlineState = "covered" | "under_review" | "stale" | "none";

export type Headline = { state: HeadlineState; label: "COVERED" | "UNDER REVIEW" | "STALE" | "NO CHECKPOINT"; reasons: string[] };

export type ComputeHeadlineParameters = {
  latest: Pick<CheckpointDocument, "seq" | "status" | "snapshot" | "assets" | "anchors" | "discrepancies"> | null;
  /** The reader's clock (unix s). */
  nowS: number;
  /** A checkpoint older than this (its snapshot's time) means the feed is stale. */
  staleAfterSeconds: number;
  /** Live (unsigned) coverage per asset, when known. */
  live?: ReadonlyArray<{ asset: string; status: string }>;
  /** The server's own judgement that the feed is not current (e.g. its clock says so). */
  serverSaysStale?: boolean;
};

/**
 * The headline: UNDER REVIEW wins over STALE (a breach is never hidden behind staleness), STALE
 * wins over COVERED (never a stale "covered"). Every reason that applies is listed.
 */
export function computeHeadline(p: ComputeHeadlineParameters): Headline {
  if (!p.latest) return { state: "none", label: "NO CHECKPOINT", reasons: ["no signed checkpoint has been published yet"] };
  const d = p.latest;
  const review: string[] = [];
  if (d.status !== "covered") review.push(`checkpoint ${d.seq} status is ${d.status}`);
  for (const a of d.assets) if (a.status !== "covered") review.push(`${a.asset}: ${a.status.replace("_", " ")} at checkpoint ${d.seq}`);
  for (const a of d.anchors) if (!a.anchored) review.push(`${a.chain}: anchor ${a.skewSeconds}s from the snapshot (max ${a.maxSkewSeconds}s): not anchored`);
  if (d.discrepancies.length) review.push(`${d.discrepancies.length} discrepancy(ies) between the store and the node at the anchors`);
  for (const l of p.live ?? []) if (l.status !== "covered") review.push(`${l.asset}: live coverage (unsigned) is ${l.status}`);
  const stale: string[] = [];
  const age = p.nowS - d.snapshot.asOfTime;
  if (age > p.staleAfterSeconds) stale.push(`the latest checkpoint is ${Math.floor(age / 3600)} h old (expected at least every ${Math.floor(p.staleAfterSeconds / 3600)} h)`);
  else if (p.serverSaysStale) stale.push("the server reports the feed is not current");
  const reasons = [...new Set([...review, ...stale])];
  if (review.length) return { state: "under_review", label: "UNDER REVIEW", reasons };
  if (stale.length) return { state: "stale", label: "STALE", reasons };
  return { state: "covered", label: "COVERED", reasons: [`every asset covered at checkpoint ${d.seq}`] };
}
