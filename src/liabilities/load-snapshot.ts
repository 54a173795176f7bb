import { formatUnits } from "../lib/amounts.js";
import type { Store } from "../store/index.js";
import type { ProofVersion } from "./verify-proof.js";

/** A snapshot's public summary: no per-account data. Amounts in base units (and display units). */
export type SnapshotSummary = {
  snapshotId: string;
  /** As given at import (ISO-8601 with offset). */
  asOf: string;
  asOfMs: number;
  format: string;
  /** SHA-256 of the imported file's bytes. */
  contentHash: string;
  /**
   * The published root commitment (hex), of format `proofVersion`: what this snapshot's proofs verify
   * against, and what a checkpoint cites. Format 2 binds the snapshot id and as-of into it.
   */
  root: string;
  /** Proof format of the snapshot: 2 for imports since format 2, 1 for snapshots imported before (kept as published). */
  proofVersion: ProofVersion;
  rowCount: number;
  accountCount: number;
  treeHeight: number;
  baseLevel: number;
  importedAt: string;
  /** In hash order. */
  assets: Array<{ id: string; decimals: number; total: bigint; totalDisplay: string }>;
};

type Row = Record<string, unknown>;

function toSummary(r: Row, totals: Row[]): SnapshotSummary {
  const assets = (JSON.parse(String(r.assets)) as Array<{ id: string; decimals: number }>).map((a) => {
    const t = totals.find((x) => x.asset === a.id);
    const total = BigInt(String(t?.total ?? "0"));
    return { id: a.id, decimals: a.decimals, total, totalDisplay: formatUnits(total, a.decimals) };
  });
  return {
    snapshotId: String(r.id), asOf: String(r.as_of), asOfMs: Number(r.as_of_ms), format: String(r.format),
    contentHash: String(r.content_hash), root: String(r.root), proofVersion: Number(r.proof_version) === 2 ? 2 : 1,
    rowCount: Number(r.row_count),
    accountCount: Number(r.account_count), treeHeight: Number(r.tree_height), baseLevel: Number(r.base_level),
    importedAt: String(r.imported_at), assets,
  };
}

/** One snapshot's summary, or undefined. */
export async function loadSnapshot(store: Store, p: { snapshotId: string }): Promise<SnapshotSummary | undefined> {
  const [row] = await store.raw("SELECT * FROM liability_snapshots WHERE id = ?", [p.snapshotId]);
  if (!row) return undefined;
  const totals = await store.raw("SELECT asset, total FROM liability_totals WHERE snapshot_id = ?", [p.snapshotId]);
  return toSummary(row, totals);
}

/**
 * The latest snapshot by as-of (ties: latest import). An older snapshot imported later is kept
 * as history and never replaces it.
 */
export async function loadLatestSnapshot(store: Store): Promise<SnapshotSummary | undefined> {
  const [row] = await store.raw("SELECT id FROM liability_snapshots ORDER BY as_of_ms DESC, imported_at DESC, id DESC LIMIT 1");
  return row ? loadSnapshot(store, { snapshotId: String(row.id) }) : undefined;
}

/** Every snapshot's summary, newest as-of first. */
export async function loadSnapshots(store: Store): Promise<SnapshotSummary[]> {
  const rows = await store.raw("SELECT id FROM liability_snapshots ORDER BY as_of_ms DESC, imported_at DESC, id DESC");
  const out: SnapshotSummary[] = [];
  for (const r of rows) out.push((await loadSnapshot(store, { snapshotId: String(r.id) }))!);
  return out;
}
