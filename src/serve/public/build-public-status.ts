import type { CheckpointDocument } from "../../reconcile/checkpoint-document.js";
import type { FinalizedHead } from "../../store/load-finalized-heads.js";
import type { LiveCoverage } from "../../store/checkpoints.js";
import { computeHeadline, type Headline } from "./page/compute-headline.js";

/** `/public/v1/status.json`: live (unsigned) coverage, each chain's finalized head and its age, and whether the feed is current. Aggregates only. */
export type PublicStatusJson = {
  generatedAt: string;
  live: {
    label: "live, unsigned: not a checkpoint";
    assets: Array<{ asset: string; decimals: number; snapshotId: string; reserves: string; liabilities: string; surplus: string; coverageBps: string | null; status: string; heights: Record<string, number>; computedAt: string }>;
  };
  chains: Array<{ chain: string; caip2: string; finalizedHeight: number | null; finalizedTime: number | null; ageSeconds: number | null }>;
  feed: {
    latestSeq: number | null;
    latestDigest: string | null;
    latestAsOf: string | null;
    ageSeconds: number | null;
    staleAfterSeconds: number;
    current: boolean;
    headline: Headline;
  };
};

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Builds the public status from the store's live coverage and finalized heads and the latest checkpoint. Pure; `nowMs` is the server's clock. */
export function buildPublicStatus(p: {
  nowMs: number;
  live: readonly LiveCoverage[];
  heads: readonly FinalizedHead[];
  caip2: Readonly<Record<string, string>>;
  latest: { document: CheckpointDocument; digest: string } | undefined;
  staleAfterSeconds: number;
}): PublicStatusJson {
  const nowS = Math.floor(p.nowMs / 1000);
  const d = p.latest?.document;
  const age = d ? nowS - d.snapshot.asOfTime : null;
  const live = p.live.map((l) => ({
    asset: l.asset, decimals: l.decimals, snapshotId: l.snapshotId, reserves: l.reserves.toString(), liabilities: l.liabilities.toString(),
    surplus: (l.reserves - l.liabilities).toString(), coverageBps: l.coverageBps === null ? null : l.coverageBps.toString(), status: l.status,
    heights: l.heights, computedAt: iso(l.computedAtMs),
  }));
  return {
    generatedAt: iso(p.nowMs),
    live: { label: "live, unsigned: not a checkpoint", assets: live },
    chains: p.heads.map((h) => ({ chain: h.chain, caip2: p.caip2[h.chain] ?? "", finalizedHeight: h.height, finalizedTime: h.time, ageSeconds: h.time === null ? null : Math.max(0, nowS - h.time) })),
    feed: {
      latestSeq: d?.seq ?? null,
      latestDigest: p.latest?.digest ?? null,
      latestAsOf: d?.snapshot.asOf ?? null,
      ageSeconds: age,
      staleAfterSeconds: p.staleAfterSeconds,
      current: age !== null && age <= p.staleAfterSeconds,
      headline: computeHeadline({ latest: d ?? null, nowS, staleAfterSeconds: p.staleAfterSeconds, live }),
    },
  };
}
