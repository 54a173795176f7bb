import type { ReadQuery } from "./open-store.js";

/** One chain's finalized head as the store records it: height and its header time (unix s; null when the header is not stored). */
export type FinalizedHead = { chain: string; height: number | null; time: number | null };

/**
 * Every given chain's finalized height and that block's header time, from one read snapshot (the
 * public status: aggregates only, no wallet). A chain without a cursor yet has height null.
 */
export async function loadFinalizedHeads(q: ReadQuery, p: { chains: readonly string[] }): Promise<FinalizedHead[]> {
  const out: FinalizedHead[] = [];
  for (const chain of p.chains) {
    const [r] = await q.raw(
      `SELECT c.finalized_height AS height, h.time AS time FROM chain_cursors c
       LEFT JOIN block_headers h ON h.chain = c.chain AND h.height = c.finalized_height WHERE c.chain = ?`,
      [chain],
    );
    out.push({
      chain,
      height: r && r.height !== null && r.height !== undefined ? Number(r.height) : null,
      time: r && r.time !== null && r.time !== undefined ? Number(r.time) : null,
    });
  }
  return out;
}
