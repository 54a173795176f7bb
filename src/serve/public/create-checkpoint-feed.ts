import type { CheckpointDocument, SignedCheckpoint } from "../../reconcile/checkpoint-document.js";
import { loadCheckpoint, loadCheckpointTip, loadCheckpoints } from "../../store/checkpoints.js";
import type { Store } from "../../store/open-store.js";
import { buildCheckpointSummary, type CheckpointSummaryJson } from "./build-checkpoint-summary.js";

/** One published checkpoint held in memory: its exact bytes (as signed and stored), parsed document and summary. */
export type FeedEntry = {
  seq: number;
  digest: string;
  signed: string;
  /** `signed` as UTF-8 bytes, encoded once (the hot path sends these). */
  bytes: Buffer;
  document: CheckpointDocument;
  summary: CheckpointSummaryJson;
};

/** The feed as of its last refresh: entries in ascending seq. */
export type FeedState = { entries: readonly FeedEntry[]; bySeq: ReadonlyMap<number, FeedEntry>; latest: FeedEntry | undefined };

export type CheckpointFeed = {
  /** The feed, refreshed from the store at most every `refreshMs` (one refresh at a time; readers share it). */
  current(): Promise<FeedState>;
};

/**
 * Creates the in-memory view of the published checkpoints. Checkpoints are append-only, so each one's
 * bytes are read from the store once and kept; a refresh reads only the summaries (to learn of new
 * checkpoints and supersessions) and the bytes of new ones. Between refreshes every request is served
 * from memory (the `latest.json` budget: >= 10,000 req/s). Memory: the bytes of every checkpoint
 * (a few KB each: ten years of daily checkpoints are about 10 MB).
 */
export function createCheckpointFeed(ctx: { store: Store }, p: { refreshMs?: number } = {}): CheckpointFeed {
  const refreshMs = p.refreshMs ?? 1000;
  let state: FeedState = { entries: [], bySeq: new Map(), latest: undefined };
  let refreshedAt = -Infinity;
  let inflight: Promise<FeedState> | undefined;

  async function refresh(): Promise<FeedState> {
    // Append-only, and a supersession is itself a new checkpoint: an unchanged tip means nothing changed.
    const tip = await ctx.store.read((q) => loadCheckpointTip(q), { timeoutMs: 2000 });
    if (tip?.seq === state.latest?.seq && tip?.digest === state.latest?.digest) return state;
    const summaries = await loadCheckpoints(ctx.store);
    const bySeq = new Map<number, FeedEntry>();
    for (const s of summaries) {
      const known = state.bySeq.get(s.seq);
      if (known && known.digest === s.digest && known.summary.supersededBy === s.supersededBy) {
        bySeq.set(s.seq, known);
        continue;
      }
      const signed = known?.digest === s.digest ? known.signed : (await loadCheckpoint(ctx.store, { seq: s.seq }))?.signed;
      if (signed === undefined) continue;
      const c = JSON.parse(signed) as SignedCheckpoint;
      bySeq.set(s.seq, { seq: s.seq, digest: c.digest, signed, bytes: Buffer.from(signed, "utf8"), document: c.document, summary: buildCheckpointSummary(c, { supersededBy: s.supersededBy }) });
    }
    const entries = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    return { entries, bySeq, latest: entries[entries.length - 1] };
  }

  return {
    current() {
      if (performance.now() - refreshedAt < refreshMs) return Promise.resolve(state);
      inflight ??= refresh()
        .then((s) => {
          state = s;
          refreshedAt = performance.now();
          return s;
        })
        .finally(() => {
          inflight = undefined;
        });
      return inflight;
    },
  };
}
