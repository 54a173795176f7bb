import { STORE_GAUGES } from "../lib/metrics.js";
import { loadChainStates, type Store } from "../store/index.js";

/**
 * Sets the store-derived gauges (per chain: indexed and finalized height, the indexed block's time;
 * snapshots imported) from one read snapshot, just before a scrape. Read at scrape time so every
 * serve process reports them, whichever process indexes.
 */
export async function refreshStoreMetrics(store: Store, p: { chains: readonly string[] }): Promise<void> {
  await store.read(async (q) => {
    const states = await loadChainStates(store, q, { chains: p.chains });
    for (const s of states) {
      const labels = { chain: s.chain };
      if (s.indexed) STORE_GAUGES.indexedHeight.set(labels, s.indexed.height);
      else STORE_GAUGES.indexedHeight.remove(labels);
      if (s.finalizedHeight !== null) STORE_GAUGES.finalizedHeight.set(labels, s.finalizedHeight);
      else STORE_GAUGES.finalizedHeight.remove(labels);
      if (s.indexed?.time != null) STORE_GAUGES.indexedBlockTime.set(labels, s.indexed.time);
      else STORE_GAUGES.indexedBlockTime.remove(labels);
    }
    const [snap] = await q.raw("SELECT count(*) AS n, max(imported_at) AS last FROM liability_snapshots");
    STORE_GAUGES.snapshotsImported.set(Number(snap?.n ?? 0));
    if (snap?.last) STORE_GAUGES.lastSnapshotImportedTime.set(Math.floor(Date.parse(String(snap.last)) / 1000));
    else STORE_GAUGES.lastSnapshotImportedTime.reset();
  });
}
