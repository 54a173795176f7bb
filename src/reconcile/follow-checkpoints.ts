import type { Logger } from "../lib/logger.js";
import { loadLatestSnapshot, loadSnapshots } from "../liabilities/load-snapshot.js";
import { loadCheckpoints, saveLiveCoverage } from "../store/checkpoints.js";
import { computeLiveCoverage, type LiveCoverageRow } from "./compute-live-coverage.js";
import { loadFinalizedReserves } from "./load-finalized-reserves.js";
import { resolveBacking } from "./resolve-backing.js";
import { createCheckpoint, type CreateCheckpointContext, type CreateCheckpointReturnType } from "./create-checkpoint.js";
import { NotFinalizedPastError, ProvisionalCheckpointError, type OpenWindow } from "./errors.js";

export type CheckpointRoundContext = CreateCheckpointContext & { logger?: Logger; now?: () => number };

/**
 * What one round did: checkpoints created, snapshots still waiting for finality past their time, snapshots
 * whose checkpoint is provisional (anchors chosen, a window after an anchor not final: nothing signed), the
 * live figures stored.
 */
export type CheckpointRoundReturnType = {
  created: CreateCheckpointReturnType[];
  waiting: string[];
  provisional: Array<{ snapshotId: string; chains: OpenWindow[] }>;
  live: LiveCoverageRow[];
};


/**
 * One round of `start`'s reconciliation: a checkpoint for every snapshot without a standing one whose
 * chains all finalized past its time and past the window after each anchor (the others wait, or stay
 * provisional, for a later round; a provisional checkpoint is never signed or published), when a signing key is
 * configured; then the live coverage of the latest snapshot at every chain's finalized height, stored.
 */
export async function runCheckpointRound(ctx: CheckpointRoundContext, p: { checkpoints: boolean }): Promise<CheckpointRoundReturnType> {
  const created: CreateCheckpointReturnType[] = [];
  const waiting: string[] = [];
  const provisional: CheckpointRoundReturnType["provisional"] = [];
  if (p.checkpoints) {
    const standing = new Set((await loadCheckpoints(ctx.store)).filter((c) => c.supersededBy === null).map((c) => c.snapshotId));
    for (const s of (await loadSnapshots(ctx.store)).reverse()) {
      if (standing.has(s.snapshotId)) continue;
      try {
        const r = await createCheckpoint(ctx, { snapshotId: s.snapshotId, wait: false });
        if (r.created) {
          created.push(r);
          ctx.logger?.info({ msg: "checkpoint created", seq: r.stored.seq, snapshot: s.snapshotId, status: r.stored.status, digest: r.stored.digest });
        }
      } catch (err) {
        if (err instanceof ProvisionalCheckpointError) provisional.push({ snapshotId: s.snapshotId, chains: err.chains });
        else if (err instanceof NotFinalizedPastError) waiting.push(s.snapshotId);
        else throw err;
      }
    }
  }
  const live = await computeLiveFigures(ctx);
  if (live.length) await saveLiveCoverage(ctx.store, live);
  return { created, waiting, provisional, live };
}

async function computeLiveFigures(ctx: CheckpointRoundContext): Promise<LiveCoverageRow[]> {
  return ctx.store.read(async (q) => {
    const snapshot = await loadLatestSnapshot(q);
    if (!snapshot) return [];
    const r = await loadFinalizedReserves(q, ctx.config);
    if (r.unfinalized.length) return []; // a chain with nothing final: no live figure yet
    const chains = Object.fromEntries(r.chains.map((c) => [c.chain, { height: c.height, totals: c.totals }]));
    return computeLiveCoverage({
      snapshotId: snapshot.snapshotId, liabilities: snapshot.assets.map((a) => ({ asset: a.id, decimals: a.decimals, total: a.total })),
      chainAssets: resolveBacking(ctx.config), chains, nowMs: (ctx.now ?? Date.now)(),
    });
  });
}

/**
 * `start`'s reconciliation loop: runCheckpointRound every `intervalMs` until the signal aborts. A failed
 * round is logged and retried on the next one (it never stops the indexers).
 */
export async function followCheckpoints(ctx: CheckpointRoundContext, p: { signal: AbortSignal; intervalMs?: number; checkpoints: boolean }): Promise<void> {
  const announced = new Set<string>();
  while (!p.signal.aborted) {
    try {
      const r = await runCheckpointRound(ctx, { checkpoints: p.checkpoints });
      // Once per snapshot: its checkpoint is provisional (not signed, not published) until the windows pass.
      for (const x of r.provisional) {
        if (announced.has(x.snapshotId)) continue;
        announced.add(x.snapshotId);
        ctx.logger?.info({ msg: "checkpoint provisional: waiting for the window after the anchors to be final", snapshot: x.snapshotId, windows: x.chains });
      }
    } catch (err) {
      ctx.logger?.warn({ msg: "checkpoint round failed", code: (err as { code?: string }).code, error: (err as { shortMessage?: string }).shortMessage ?? String(err) });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, p.intervalMs ?? 5000);
      p.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}
