import type { Store } from "../store/index.js";
import { buildProof } from "./build-proof.js";
import { computeAccountKey } from "./compute-account-key.js";
import { AccountNotFoundError, SnapshotNotFoundError } from "./errors.js";
import { loadSnapshot } from "./load-snapshot.js";
import { CHUNK_LEAVES } from "./merkle-sum-tree.js";
import type { LiabilityProof } from "./verify-proof.js";

/**
 * Load one account's inclusion proof: the account is found by its normalised key, its chunk of
 * CHUNK_LEAVES leaves is re-hashed, and the upper siblings are read from the stored levels.
 * This is the only path by which per-account data leaves the store.
 * @throws SnapshotNotFoundError, AccountNotFoundError
 */
export async function loadProof(store: Store, p: { snapshotId: string; accountId: string }): Promise<LiabilityProof> {
  const snap = await loadSnapshot(store, { snapshotId: p.snapshotId });
  if (!snap) throw new SnapshotNotFoundError({ snapshotId: p.snapshotId });
  const [me] = await store.raw("SELECT leaf_index FROM liability_accounts WHERE snapshot_id = ? AND account_key = ?",
    [p.snapshotId, computeAccountKey(p.accountId)]);
  if (!me) throw new AccountNotFoundError({ snapshotId: p.snapshotId });
  const leafIndex = Number(me.leaf_index);
  const first = leafIndex - (leafIndex % CHUNK_LEAVES);
  const rows = await store.raw(
    "SELECT leaf_index, account_id, nonce, balances FROM liability_accounts WHERE snapshot_id = ? AND leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
    [p.snapshotId, first, first + CHUNK_LEAVES],
  );
  const levels = new Map<string, Uint8Array>();
  const wanted: Array<[number, number]> = [];
  for (let level = snap.baseLevel; level < snap.treeHeight; level++) wanted.push([level, Math.floor(leafIndex / 2 ** level) ^ 1]);
  for (const [level, idx] of wanted) {
    const [n] = await store.raw("SELECT record FROM liability_tree_nodes WHERE snapshot_id = ? AND level = ? AND idx = ?", [p.snapshotId, level, idx]);
    if (n) levels.set(`${level}:${idx}`, new Uint8Array(n.record as Buffer));
  }
  return buildProof({
    version: snap.proofVersion,
    snapshotId: snap.snapshotId,
    asOf: snap.asOf,
    assets: snap.assets.map((a) => ({ id: a.id, decimals: a.decimals })),
    leafCount: snap.accountCount,
    height: snap.treeHeight,
    baseLevel: snap.baseLevel,
    root: snap.root,
    totals: snap.assets.map((a) => a.total),
    leafIndex,
    chunk: rows.map((r) => ({ accountId: String(r.account_id), nonce: new Uint8Array(r.nonce as Buffer), balances: new Uint8Array(r.balances as Buffer) })),
    upperRecord: (level, idx) => levels.get(`${level}:${idx}`),
  });
}
