import { loadCheckpoint, loadCheckpoints, loadLiveCoverage, loadMovementOutcomes, loadSilentChanges, type Store } from "../store/index.js";
import { formatUnits } from "../lib/amounts.js";
import type { CheckpointDocument, SignedCheckpoint } from "../reconcile/checkpoint-document.js";
import type { AlertReaders, CheckpointRow, LiveCoverageRow, MovementOutcomeAlertRow, SilentChangeRow } from "./evaluate-health-rules.js";

/**
 * The alert engine's readers over the reconciliation module (live coverage, checkpoints) and the EVM
 * follower's silent token changes and the movement reconciliation's outcomes: the one place they are
 * adapted to the rows the health rules read.
 */
export function createAlertReaders(p: { assets?: Readonly<Record<string, { decimals: number }>> } = {}): Required<AlertReaders> {
  // Display units where the asset's decimals are known (the config's); base units otherwise, labelled as such.
  const show = (amount: bigint | null, asset: string) => {
    if (amount === null) return "an unknown amount";
    const a = p.assets?.[asset];
    return a ? `${formatUnits(amount, a.decimals)} ${asset}` : `${amount} ${asset} base units`;
  };
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
          // A version 2 flag (window_dressing) is reported as a status of its asset, so the checkpoint rule's
          // default statuses alert on it (the document's own status stays the coverage verdict).
          assets: [
            ...doc.assets.map((a) => ({ asset: a.asset, status: a.status, coverageBps: a.coverageBps === null ? null : Number(a.coverageBps) })),
            ...(doc.flags ?? []).map((f) => ({ asset: f.asset, status: f.type, coverageBps: null })),
          ],
        });
      }
      return out;
    },
    async loadMovementOutcomes(store: Store, p: { afterId: number }): Promise<MovementOutcomeAlertRow[]> {
      const rows = await loadMovementOutcomes(store, { sinceId: p.afterId, limit: 1_000 });
      const labels = await loadWalletLabels(store, rows.flatMap((r) => (r.walletId === null ? [] : [r.walletId])));
      return rows.map((r) => {
        const wallet = r.walletId === null ? null : (labels.get(r.walletId) ?? String(r.walletId));
        const what = r.recordId ? `record ${r.recordId}${r.kind ? ` (${r.kind} of ${show(r.amount, r.asset)})` : ""}` : `${r.direction === "in" ? "inflow" : r.direction === "out" ? "outflow" : "movement"} of ${show(r.chainAmount ?? r.amount, r.asset)}${wallet ? ` ${r.direction === "in" ? "to" : "from"} ${wallet}` : ""}`;
        const where = r.txid ? ` tx ${r.txid}${r.height !== null ? ` at ${r.chain} ${r.height}` : ""}` : "";
        const looksLike = r.flags.find((f) => f.startsWith("looks_like:"))?.slice("looks_like:".length) ?? null;
        const dustWindow = r.flags.includes("dust") ? r.flags.find((f) => f.startsWith("dust_window:"))?.slice("dust_window:".length) : undefined;
        if (dustWindow !== undefined) {
          // Unsolicited dust (TESTING.md J4): one incident per chain, asset and window, at info, however many there are.
          const from = new Date(Number(dustWindow)).toISOString();
          return {
            id: r.id, subject: r.subject, outcome: r.outcome, chain: r.chain, asset: r.asset, wallet, amount: r.amount, chainAmount: r.chainAmount,
            recordId: null, txid: r.txid, height: r.height, blockHash: r.blockHash, counterparty: r.counterparty,
            incident: `dust:${r.chain}:${r.asset}:${dustWindow}`, severity: "info",
            summary: `unexplained_inflow: dust below the floor to custody (${r.asset} on ${r.chain}, window from ${from}), e.g. ${show(r.chainAmount, r.asset)}${wallet ? ` to ${wallet}` : ""}${where}`,
          };
        }
        return {
          id: r.id, subject: r.subject, outcome: r.outcome, chain: r.chain, asset: r.asset, wallet, amount: r.amount, chainAmount: r.chainAmount,
          recordId: r.recordId, txid: r.txid, height: r.height, blockHash: r.blockHash, counterparty: r.counterparty,
          looksLike,
          summary: `${r.outcome}: ${what}${r.counterparty ? `, counterparty ${r.counterparty}` : ""}${looksLike ? ` (looks like the known counterparty ${looksLike})` : ""}${r.flags.includes("failed_on_chain") ? " (the transaction failed on chain)" : ""}${where}`,
        };
      });
    },
    async loadSilentChanges(store: Store, p: { afterId?: string }): Promise<SilentChangeRow[]> {
      const rows = await loadSilentChanges(store, { sinceId: p.afterId === undefined ? 0 : Number(p.afterId) });
      if (!rows.length) return [];
      const labels = await loadWalletLabels(store, rows.map((r) => r.walletId));
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

async function loadWalletLabels(store: Store, ids: readonly number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await store.raw(`SELECT id, label FROM wallets WHERE id IN (${unique.map(() => "?").join(", ")})`, unique);
  return new Map(rows.map((r) => [Number(r.id), String(r.label)]));
}
