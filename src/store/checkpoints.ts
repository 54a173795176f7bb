import { sql, type SQL } from "drizzle-orm";
import { StoreInvariantError } from "./errors.js";
import { saveHeaderPinIn } from "./header-pins.js";
import type { Db, ReadQuery, Store } from "./open-store.js";

/** A stored checkpoint's summary (what `checkpoint list` and the API show). */
export type CheckpointSummary = {
  seq: number;
  digest: string;
  previousDigest: string | null;
  snapshotId: string;
  status: string;
  /** The seq this checkpoint supersedes, or null. */
  invalidates: number | null;
  /** The seq of the checkpoint that supersedes this one, or null while it stands. */
  supersededBy: number | null;
  kid: string;
  /** When it was appended, unix ms (database clock; not part of the signed document). */
  createdAtMs: number;
  anchors: Array<{ chain: string; height: number; hash: string }>;
};

/** A stored checkpoint: its summary and the published bytes (RFC 8785 envelope + newline). */
export type StoredCheckpoint = CheckpointSummary & { signed: string };

/** What saveCheckpoint appends. */
export type SaveCheckpointParameters = {
  seq: number;
  digest: string;
  previousDigest: string | null;
  snapshotId: string;
  status: string;
  invalidates: number | null;
  kid: string;
  signed: string;
  anchors: ReadonlyArray<{ chain: string; height: number; hash: string }>;
};

/** Runs a query inside a transaction handle on either dialect, returning rows. */
export async function queryIn(store: Store, db: Db, q: SQL): Promise<Record<string, unknown>[]> {
  if (store.dialect === "sqlite") return (db as unknown as { all: (q: SQL) => Record<string, unknown>[] }).all(q);
  return (await (db as unknown as { execute: (q: SQL) => Promise<{ rows: Record<string, unknown>[] }> }).execute(q)).rows;
}

/** Runs a statement that returns no rows inside a transaction handle on either dialect. */
export async function execIn(store: Store, db: Db, q: SQL): Promise<void> {
  if (store.dialect === "sqlite") (db as unknown as { run: (q: SQL) => unknown }).run(q);
  else await (db as unknown as { execute: (q: SQL) => Promise<unknown> }).execute(q);
}

/** The last checkpoint's seq and digest, or undefined before the first. */
export async function loadCheckpointTip(q: ReadQuery): Promise<{ seq: number; digest: string } | undefined> {
  const [r] = await q.raw("SELECT seq, digest FROM checkpoints ORDER BY seq DESC LIMIT 1");
  return r ? { seq: Number(r.seq), digest: String(r.digest) } : undefined;
}

/**
 * Appends one checkpoint in ONE transaction, with its anchors and their header pins (kept forever):
 * refused unless `seq` is the tip's seq + 1 and `previousDigest` the tip's digest, and unless every anchor
 * is still the stored block at its height (a reorg since the anchors were chosen). A process killed at any
 * instant leaves the checkpoint fully appended or not at all.
 * @throws StoreInvariantError (tip moved, anchor reorganised), the store's typed errors
 */
export async function saveCheckpoint(store: Store, p: SaveCheckpointParameters): Promise<void> {
  await store.tx(async (db) => {
    const [tip] = await queryIn(store, db, sql`SELECT seq, digest FROM checkpoints ORDER BY seq DESC LIMIT 1`);
    const tipSeq = tip ? Number(tip.seq) : 0;
    const tipDigest = tip ? String(tip.digest) : null;
    if (p.seq !== tipSeq + 1 || p.previousDigest !== tipDigest) {
      throw new StoreInvariantError({ message: `Checkpoint ${p.seq} does not extend the stored tip ${tipSeq} (another process appended one meanwhile).` });
    }
    for (const a of p.anchors) {
      const [h] = await queryIn(store, db, sql`SELECT hash FROM block_headers WHERE chain = ${a.chain} AND height = ${a.height}`);
      if (!h || String(h.hash) !== a.hash) {
        throw new StoreInvariantError({ message: `The anchor ${a.chain} ${a.height} (${a.hash}) is no longer the stored block at that height (a reorg).` });
      }
    }
    const now = sql.raw(store.dialect === "sqlite" ? "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)" : "(extract(epoch from clock_timestamp()) * 1000)::bigint");
    await execIn(store, db, sql`INSERT INTO checkpoints (seq, digest, previous_digest, snapshot_id, status, invalidates, kid, signed, created_at_ms)
      VALUES (${p.seq}, ${p.digest}, ${p.previousDigest}, ${p.snapshotId}, ${p.status}, ${p.invalidates}, ${p.kid}, ${p.signed}, ${now})`);
    for (const a of p.anchors) {
      await execIn(store, db, sql`INSERT INTO checkpoint_anchors (seq, chain, height, hash) VALUES (${p.seq}, ${a.chain}, ${a.height}, ${a.hash})`);
      await saveHeaderPinIn(store, db, { chain: a.chain, height: a.height, reason: "checkpoint" });
    }
  });
}

const SUMMARY_SQL = `SELECT c.seq, c.digest, c.previous_digest, c.snapshot_id, c.status, c.invalidates, c.kid, c.created_at_ms,
  (SELECT min(n.seq) FROM checkpoints n WHERE n.invalidates = c.seq) AS superseded_by FROM checkpoints c`;

function toSummary(r: Record<string, unknown>, anchors: Record<string, unknown>[]): CheckpointSummary {
  return {
    seq: Number(r.seq), digest: String(r.digest), previousDigest: r.previous_digest == null ? null : String(r.previous_digest),
    snapshotId: String(r.snapshot_id), status: String(r.status), invalidates: r.invalidates == null ? null : Number(r.invalidates),
    supersededBy: r.superseded_by == null ? null : Number(r.superseded_by), kid: String(r.kid), createdAtMs: Number(r.created_at_ms),
    anchors: anchors.filter((a) => Number(a.seq) === Number(r.seq)).map((a) => ({ chain: String(a.chain), height: Number(a.height), hash: String(a.hash) })),
  };
}

/**
 * Every checkpoint's summary, oldest first (optionally only one snapshot's; optionally a keyset page: seq
 * above `afterSeq`, at most `limit`). Reads in one snapshot.
 */
export async function loadCheckpoints(store: Store, p: { snapshotId?: string; afterSeq?: number; limit?: number } = {}): Promise<CheckpointSummary[]> {
  return store.read(async (q) => {
    const where: string[] = [];
    const params: unknown[] = [];
    if (p.snapshotId !== undefined) (where.push("c.snapshot_id = ?"), params.push(p.snapshotId));
    if (p.afterSeq !== undefined) (where.push("c.seq > ?"), params.push(p.afterSeq));
    const limit = p.limit === undefined ? "" : ` LIMIT ${Math.max(0, Math.floor(p.limit))}`;
    const rows = await q.raw(`${SUMMARY_SQL}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY c.seq${limit}`, params);
    if (rows.length === 0) return [];
    const anchors = await q.raw("SELECT seq, chain, height, hash FROM checkpoint_anchors WHERE seq >= ? AND seq <= ? ORDER BY seq, chain", [Number(rows[0]!.seq), Number(rows.at(-1)!.seq)]);
    return rows.map((r) => toSummary(r, anchors));
  });
}

/** One checkpoint with its published bytes, or undefined. */
export async function loadCheckpoint(store: Store, p: { seq: number }): Promise<StoredCheckpoint | undefined> {
  return store.read(async (q) => {
    const [r] = await q.raw(`${SUMMARY_SQL} WHERE c.seq = ?`, [p.seq]);
    if (!r) return undefined;
    const [s] = await q.raw("SELECT signed FROM checkpoints WHERE seq = ?", [p.seq]);
    const anchors = await q.raw("SELECT seq, chain, height, hash FROM checkpoint_anchors WHERE seq = ? ORDER BY chain", [p.seq]);
    return { ...toSummary(r, anchors), signed: String(s!.signed) };
  });
}

/** The latest live coverage of one liability asset (unsigned, labelled live: not a checkpoint). Amounts in base units. */
export type LiveCoverage = {
  asset: string;
  snapshotId: string;
  decimals: number;
  liabilities: bigint;
  reserves: bigint;
  /** floor(reserves * 10000 / liabilities); null when liabilities are 0. */
  coverageBps: bigint | null;
  status: "covered" | "breach";
  /** Per chain, the finalized height the reserves are as of. */
  heights: Record<string, number>;
  computedAtMs: number;
  label: "live";
};

/** Replaces the live coverage rows (one per liability asset) in one transaction. */
export async function saveLiveCoverage(store: Store, rows: ReadonlyArray<Omit<LiveCoverage, "label">>): Promise<void> {
  await store.tx(async (db) => {
    await execIn(store, db, sql`DELETE FROM live_coverage`);
    for (const r of rows) {
      await execIn(store, db, sql`INSERT INTO live_coverage (asset, snapshot_id, decimals, liabilities, reserves, coverage_bps, status, heights, computed_at_ms)
        VALUES (${r.asset}, ${r.snapshotId}, ${r.decimals}, ${r.liabilities.toString()}, ${r.reserves.toString()}, ${r.coverageBps === null ? null : r.coverageBps.toString()},
        ${r.status}, ${JSON.stringify(r.heights)}, ${r.computedAtMs})`);
    }
  });
}

/** The latest live coverage per liability asset, by asset id. */
export async function loadLiveCoverage(store: Store): Promise<LiveCoverage[]> {
  const rows = await store.raw("SELECT * FROM live_coverage ORDER BY asset");
  return rows.map((r) => ({
    asset: String(r.asset), snapshotId: String(r.snapshot_id), decimals: Number(r.decimals), liabilities: BigInt(String(r.liabilities)),
    reserves: BigInt(String(r.reserves)), coverageBps: r.coverage_bps == null ? null : BigInt(String(r.coverage_bps)),
    status: String(r.status) === "breach" ? "breach" : "covered", heights: JSON.parse(String(r.heights)) as Record<string, number>,
    computedAtMs: Number(r.computed_at_ms), label: "live",
  }));
}
