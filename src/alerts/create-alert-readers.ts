import { loadCheckpoint, loadCheckpoints, loadLiveCoverage, loadSilentChanges, type Store } from "../store/index.js";
import type { CheckpointDocument, SignedCheckpoint } from "../reconcile/checkpoint-document.js";
import type { AlertReaders, CheckpointRow, LiveCoverageRow, SilentChangeRow } from "./evaluate-health-rules.js";

/**
 * The alert engine's readers over the reconciliation module (live coverage, checkpoints) and the EVM
 * follower's silent token changes: the one place they are adapted to the rows the health rules read.
 */
export function createAlertReaders(): Required<AlertReaders> {
  return {
    async loadLiveCoverage(store: Store): Promise<LiveCoverageRow[]> {
      return (await loadLiveCoverage(store)).map((c) => ({
        asset: c.asset,
        // Basis points of live coverage are small integers (10,000 = 100 %); Number is exact far beyond any real figure.
        coverageBps: c.coverageBps === null ? null : Number(c.coverageBps),
        reserves: c.reserves,
        liabilities: c.liabilities,
        asOf: new Date(c.computedAtMs).toISOString(),
      }));
    },
    async loadNewCheckpoints(store: Store, p: { afterSeq: number }): Promise<CheckpointRow[]> {
      const out: CheckpointRow[] = [];
      for (const s of (await loadCheckpoints(store)).filter((c) => c.seq > p.afterSeq).sort((a, b) => a.seq - b.seq)) {
        const stored = await loadCheckpoint(store, { seq: s.seq });
        if (!stored) continue;
        const doc = (JSON.parse(stored.signed) as SignedCheckpoint).document as CheckpointDocument;
        out.push({
          seq: s.seq,
          digest: s.digest,
          status: s.status,
          asOf: doc.snapshot.asOf,
          assets: doc.assets.map((a) => ({ asset: a.asset, status: a.status, coverageBps: a.coverageBps === null ? null : Number(a.coverageBps) })),
        });
      }
      return out;
    },
    async loadSilentChanges(store: Store, p: { afterId?: string }): Promise<SilentChangeRow[]> {
      const rows = await loadSilentChanges(store, { sinceId: p.afterId === undefined ? 0 : Number(p.afterId) });
      if (!rows.length) return [];
      const labels = new Map(
        (await store.raw(`SELECT id, label FROM wallets WHERE id IN (${rows.map(() => "?").join(", ")})`, rows.map((r) => r.walletId))).map((r) => [Number(r.id), String(r.label)]),
      );
      return rows.map((r) => ({
        id: String(r.id),
        chain: r.chain,
        wallet: labels.get(r.walletId) ?? String(r.walletId),
        asset: r.asset,
        height: r.height,
        blockHash: r.blockHash,
        expected: r.carried,
        actual: r.observed,
        kind: "evm_token_without_transfer",
      }));
    },
  };
}
