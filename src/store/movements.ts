import { and, asc, desc, eq, gt, gte, inArray, like, lte, or, sql } from "drizzle-orm";
import type { Db, Store } from "./open-store.js";

// Store reads and writes of the movement reconciliation (migration 10). Types are plain here (the store
// does not import the reconcile layer); src/reconcile/movements/ gives them meaning.

const CHUNK = 400;

/** A movement record row (amount in base units, time unix ms). */
export type MovementRecordRow = {
  id: string; kind: string; chain: string; asset: string; amount: bigint; counterparty: string | null; txid: string | null;
  timeMs: number; contentHash: string; source: string; receivedAtMs: number; open: boolean;
};

/** One stored outcome (see migration 10): `current` is false once a later row of the same subject replaced it. */
export type MovementOutcomeRow = {
  id: number; subject: string; current: boolean; outcome: string; severity: string; recordId: string | null; kind: string | null;
  chain: string; asset: string; amount: bigint | null; chainAmount: bigint | null; fee: bigint | null; feeAsset: string | null;
  flags: string[]; direction: string | null; txid: string | null; height: number | null; blockHash: string | null; position: number | null;
  walletId: number | null; counterparty: string | null; counterpartyWalletId: number | null; recordTimeMs: number | null;
  blockTimeMs: number | null; seenAtMs: number | null; atMs: number;
};
/** An outcome to write (id and current are the store's). */
export type MovementOutcomeInput = Omit<MovementOutcomeRow, "id" | "current">;

/** Stored records by id (only those that exist). */
export async function loadMovementRecordsByIdIn(store: Store, db: Db, ids: readonly string[]): Promise<Map<string, MovementRecordRow>> {
  const { t } = store;
  const out = new Map<string, MovementRecordRow>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db.select().from(t.movementRecords).where(inArray(t.movementRecords.id, ids.slice(i, i + CHUNK) as string[]));
    for (const r of rows) out.set(r.id, toRecordRow(r));
  }
  return out;
}

/**
 * The better-sqlite3 connection behind a SQLite handle (drizzle's `$client`: the same connection, so the
 * caller's transaction), or null on Postgres. Bulk writes use one prepared statement per row there:
 * drizzle's multi-row insert builder measured ~0.3 ms a record (its entity checks and SQL assembly),
 * a prepared statement ~5 µs.
 */
function sqliteClient(store: Store, db: Db): import("better-sqlite3").Database | null {
  return store.dialect === "sqlite" ? ((db as unknown as { $client?: import("better-sqlite3").Database }).$client ?? null) : null;
}

/** Inserts records (the caller checked they are new). */
export async function saveMovementRecordsIn(store: Store, db: Db, rows: readonly MovementRecordRow[]): Promise<void> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const stmt = lite.prepare(`INSERT INTO movement_records (id, kind, chain, asset, amount, counterparty, txid, time_ms, content_hash, source, received_at_ms, open)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const r of rows) stmt.run(r.id, r.kind, r.chain, r.asset, r.amount.toString(), r.counterparty, r.txid, r.timeMs, r.contentHash, r.source, r.receivedAtMs, r.open ? 1 : 0);
    return;
  }
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db.insert(t.movementRecords).values(rows.slice(i, i + CHUNK).map((r) => ({ ...r, open: r.open ? 1 : 0 })));
  }
}

/** Records still open (no matched outcome), optionally of one chain, oldest first. */
export async function loadOpenMovementRecordsIn(store: Store, db: Db, p: { chain?: string } = {}): Promise<MovementRecordRow[]> {
  const { t } = store;
  const cond = p.chain === undefined ? eq(t.movementRecords.open, 1) : and(eq(t.movementRecords.open, 1), eq(t.movementRecords.chain, p.chain));
  const rows = await db.select().from(t.movementRecords).where(cond).orderBy(asc(t.movementRecords.timeMs), asc(t.movementRecords.id));
  return rows.map(toRecordRow);
}

/** Sets records open (back in the matcher's pool) or closed (matched). */
export async function saveMovementRecordsOpenIn(store: Store, db: Db, p: { ids: readonly string[]; open: boolean }): Promise<void> {
  const { t } = store;
  for (let i = 0; i < p.ids.length; i += CHUNK) {
    await db.update(t.movementRecords).set({ open: p.open ? 1 : 0 }).where(inArray(t.movementRecords.id, p.ids.slice(i, i + CHUNK) as string[]));
  }
}

/** Current outcome rows of the given subjects. */
export async function loadCurrentOutcomesIn(store: Store, db: Db, subjects: readonly string[]): Promise<Map<string, MovementOutcomeRow>> {
  const { t } = store;
  const out = new Map<string, MovementOutcomeRow>();
  for (let i = 0; i < subjects.length; i += CHUNK) {
    const rows = await db.select().from(t.movementOutcomes).where(and(eq(t.movementOutcomes.current, 1), inArray(t.movementOutcomes.subject, subjects.slice(i, i + CHUNK) as string[])));
    for (const r of rows) out.set(r.subject, toOutcomeRow(r));
  }
  return out;
}

/** Current rows with one of `outcomes` (the matcher's pool of unexplained and pending legs), optionally of one chain. */
export async function loadCurrentOutcomesByNameIn(store: Store, db: Db, p: { outcomes: readonly string[]; subjectPrefix?: string; chain?: string; minBlockTimeMs?: number }): Promise<MovementOutcomeRow[]> {
  const { t } = store;
  const conds = [eq(t.movementOutcomes.current, 1), inArray(t.movementOutcomes.outcome, p.outcomes as string[])];
  if (p.minBlockTimeMs !== undefined) conds.push(gte(t.movementOutcomes.blockTimeMs, p.minBlockTimeMs));
  if (p.chain !== undefined) conds.push(eq(t.movementOutcomes.chain, p.chain));
  if (p.subjectPrefix !== undefined) conds.push(sql`substr(${t.movementOutcomes.subject}, 1, ${p.subjectPrefix.length}) = ${p.subjectPrefix}`);
  const rows = await db.select().from(t.movementOutcomes).where(and(...conds)).orderBy(asc(t.movementOutcomes.id));
  return rows.map(toOutcomeRow);
}

/** Current rows of a chain above a height (what a rollback removes the movements of). */
export async function loadCurrentOutcomesAboveIn(store: Store, db: Db, p: { chain: string; height: number }): Promise<MovementOutcomeRow[]> {
  const { t } = store;
  const rows = await db.select().from(t.movementOutcomes)
    .where(and(eq(t.movementOutcomes.current, 1), eq(t.movementOutcomes.chain, p.chain), gt(t.movementOutcomes.height, p.height)))
    .orderBy(asc(t.movementOutcomes.id));
  return rows.map(toOutcomeRow);
}

/**
 * Writes outcome transitions: each input becomes its subject's current row; the previous current
 * row of the subject (if any) is kept as history with `current` cleared. One statement per CHUNK.
 */
export async function saveMovementOutcomesIn(store: Store, db: Db, rows: readonly MovementOutcomeInput[]): Promise<void> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const clear = lite.prepare("UPDATE movement_outcomes SET current = 0 WHERE subject = ? AND current = 1");
    const insert = lite.prepare(`INSERT INTO movement_outcomes (subject, current, outcome, severity, record_id, kind, chain, asset, amount, chain_amount, fee,
      fee_asset, flags, direction, txid, height, block_hash, position, wallet_id, counterparty, counterparty_wallet_id, record_time_ms, block_time_ms, seen_at_ms, at_ms)
      VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const big = (v: bigint | null) => (v === null ? null : v.toString());
    for (const r of rows) {
      clear.run(r.subject);
      insert.run(r.subject, r.outcome, r.severity, r.recordId, r.kind, r.chain, r.asset, big(r.amount), big(r.chainAmount), big(r.fee), r.feeAsset,
        r.flags.length ? r.flags.join(",") : null, r.direction, r.txid, r.height, r.blockHash, r.position, r.walletId, r.counterparty, r.counterpartyWalletId,
        r.recordTimeMs, r.blockTimeMs, r.seenAtMs, r.atMs);
    }
    return;
  }
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await db.update(t.movementOutcomes).set({ current: 0 }).where(and(eq(t.movementOutcomes.current, 1), inArray(t.movementOutcomes.subject, chunk.map((r) => r.subject))));
    await db.insert(t.movementOutcomes).values(chunk.map((r) => ({ ...r, current: 1, flags: r.flags.length ? r.flags.join(",") : null })));
  }
}

/** Per chain, the highest height whose legs the matcher took in (null: none yet). */
export async function loadMovementCursorIn(store: Store, db: Db, chain: string): Promise<number | null> {
  const [row] = await db.select().from(store.t.movementCursors).where(eq(store.t.movementCursors.chain, chain)).limit(1);
  return row ? Number(row.height) : null;
}

/** Sets the chain's movement cursor. */
export async function saveMovementCursorIn(store: Store, db: Db, p: { chain: string; height: number }): Promise<void> {
  const { t } = store;
  await db.insert(t.movementCursors).values(p).onConflictDoUpdate({ target: t.movementCursors.chain, set: { height: p.height } });
}

/** A transfer leg with its block's time (unix s). */
export type LegWithTime = {
  chain: string; height: number; blockHash: string; blockTime: number; txid: string | null; position: number; walletId: number;
  asset: string; direction: "in" | "out" | "fee"; amount: bigint; counterparty: string | null; counterpartyWalletId: number | null;
};

/** Transfer legs of a chain in (afterHeight, toHeight], with their block times, in block and position order. */
export async function loadLegsIn(store: Store, db: Db, p: { chain: string; afterHeight: number | null; toHeight: number }): Promise<LegWithTime[]> {
  const { t } = store;
  const conds = [eq(t.transfers.chain, p.chain), lte(t.transfers.height, p.toHeight)];
  if (p.afterHeight !== null) conds.push(gt(t.transfers.height, p.afterHeight));
  const rows = await db
    .select({ x: t.transfers, time: t.blockHeaders.time })
    .from(t.transfers)
    .innerJoin(t.blockHeaders, and(eq(t.blockHeaders.chain, t.transfers.chain), eq(t.blockHeaders.height, t.transfers.height)))
    .where(and(...conds))
    .orderBy(asc(t.transfers.height), asc(t.transfers.position), asc(t.transfers.id));
  return rows.map(({ x, time }) => ({
    chain: x.chain, height: Number(x.height), blockHash: x.blockHash, blockTime: Number(time), txid: x.txid, position: Number(x.position),
    walletId: Number(x.walletId), asset: x.asset, direction: x.direction as LegWithTime["direction"], amount: x.amount,
    counterparty: x.counterparty, counterpartyWalletId: x.counterpartyWalletId === null ? null : Number(x.counterpartyWalletId),
  }));
}

export type LoadMovementOutcomesParameters = {
  /** Only rows with id > sinceId (an alert engine's position: every transition is a new row). */
  sinceId?: number;
  /** Only these outcomes. */
  outcome?: string | readonly string[];
  /** Only current rows (default false: the whole history). */
  currentOnly?: boolean;
  /** Rows whose record time or block time (ms) is in [fromMs, toMs). */
  fromMs?: number;
  toMs?: number;
  /** Default 10 000, newest-last. */
  limit?: number;
};

/**
 * Outcome rows in id order: the reader the alert engine follows (`sinceId` = the last id it handled),
 * `movements list` and the report. Each row names its record, chain movement, height and txid.
 */
export async function loadMovementOutcomes(store: Store, p: LoadMovementOutcomesParameters = {}): Promise<MovementOutcomeRow[]> {
  const { t } = store;
  const conds = [];
  if (p.sinceId !== undefined) conds.push(gt(t.movementOutcomes.id, p.sinceId));
  if (p.outcome !== undefined) conds.push(inArray(t.movementOutcomes.outcome, typeof p.outcome === "string" ? [p.outcome] : [...p.outcome]));
  if (p.currentOnly) conds.push(eq(t.movementOutcomes.current, 1));
  const at = sql`coalesce(${t.movementOutcomes.recordTimeMs}, ${t.movementOutcomes.blockTimeMs})`;
  if (p.fromMs !== undefined) conds.push(gte(at, p.fromMs));
  if (p.toMs !== undefined) conds.push(sql`${at} < ${p.toMs}`);
  const rows = await store.db.select().from(t.movementOutcomes).where(conds.length ? and(...conds) : undefined).orderBy(asc(t.movementOutcomes.id)).limit(p.limit ?? 10_000);
  return rows.map(toOutcomeRow);
}

/** The highest outcome id (0 when none): where a new alert reader starts. */
export async function loadLastMovementOutcomeId(store: Store): Promise<number> {
  const [row] = await store.db.select({ id: store.t.movementOutcomes.id }).from(store.t.movementOutcomes).orderBy(desc(store.t.movementOutcomes.id)).limit(1);
  return row ? Number(row.id) : 0;
}

/** Stored records, newest first (for `movements list --records`, tests). */
export async function loadMovementRecords(store: Store, p: { limit?: number } = {}): Promise<MovementRecordRow[]> {
  const rows = await store.db.select().from(store.t.movementRecords).orderBy(asc(store.t.movementRecords.timeMs), asc(store.t.movementRecords.id)).limit(p.limit ?? 1_000_000);
  return rows.map(toRecordRow);
}

/** Per (kind, asset): the sum of records' amounts with time in (afterMs, toMs] (the running difference's record side). */
export async function loadMovementRecordSums(store: Store, p: { afterMs: number; toMs?: number; openOnly?: boolean }): Promise<{ kind: string; asset: string; open: boolean; total: bigint; count: number }[]> {
  const { t } = store;
  const conds = [gt(t.movementRecords.timeMs, p.afterMs)];
  if (p.toMs !== undefined) conds.push(lte(t.movementRecords.timeMs, p.toMs));
  const rows = await store.db
    .select({ kind: t.movementRecords.kind, asset: t.movementRecords.asset, open: t.movementRecords.open, total: sql<string>`CAST(sum(${t.movementRecords.amount}) AS TEXT)`, count: sql<number>`count(*)` })
    .from(t.movementRecords)
    .where(and(...conds))
    .groupBy(t.movementRecords.kind, t.movementRecords.asset, t.movementRecords.open);
  return rows.map((r) => ({ kind: r.kind, asset: r.asset, open: Number(r.open) === 1, total: BigInt(String(r.total).replace(/\.0+$/, "")), count: Number(r.count) }));
}

function toRecordRow(r: typeof import("./schema-sqlite.js").movementRecords.$inferSelect): MovementRecordRow {
  return { ...r, timeMs: Number(r.timeMs), receivedAtMs: Number(r.receivedAtMs), open: Number(r.open) === 1 };
}

function toOutcomeRow(r: typeof import("./schema-sqlite.js").movementOutcomes.$inferSelect): MovementOutcomeRow {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    ...r, id: Number(r.id), current: Number(r.current) === 1, flags: r.flags ? r.flags.split(",") : [], height: n(r.height), position: n(r.position),
    walletId: n(r.walletId), counterpartyWalletId: n(r.counterpartyWalletId), recordTimeMs: n(r.recordTimeMs), blockTimeMs: n(r.blockTimeMs),
    seenAtMs: n(r.seenAtMs), atMs: Number(r.atMs),
  };
}

/**
 * Distinct record counterparties of a chain equal to `address` or starting with `head` and ending with
 * `tail` (the look-alike check's candidates; LIKE is a prefilter, case-insensitive on SQLite, so the
 * caller compares exactly). Addresses never contain `%` or `_` (validated per chain).
 */
export async function loadRecordCounterpartiesLikeIn(store: Store, db: Db, p: { chain: string; address: string; head: string; tail: string }): Promise<string[]> {
  const { t } = store;
  const rows = await db
    .selectDistinct({ c: t.movementRecords.counterparty })
    .from(t.movementRecords)
    .where(and(eq(t.movementRecords.chain, p.chain), or(eq(t.movementRecords.counterparty, p.address), like(t.movementRecords.counterparty, `${p.head}%${p.tail}`))))
    .limit(1_000);
  return rows.flatMap((r) => (r.c === null ? [] : [r.c]));
}

/** A custody outflow the chain's transactions did not explain (EVM unattributed native change, migration 6), with its block's time (unix s). */
export type UnattributedOutflow = { chain: string; height: number; blockHash: string; blockTime: number; walletId: number; asset: string; delta: bigint; candidates: string[] };

/**
 * Negative unattributed changes whose only candidate is one of the given transactions (an EVM transaction that
 * failed shows only its gas there). Candidates are stored as JSON text, so a single-candidate row is matched by
 * its exact text.
 */
export async function loadUnattributedOutflowsIn(store: Store, db: Db, p: { txids: ReadonlyArray<{ chain: string; txid: string }> }): Promise<UnattributedOutflow[]> {
  const out: UnattributedOutflow[] = [];
  for (let i = 0; i < p.txids.length; i += CHUNK) {
    const chunk = p.txids.slice(i, i + CHUNK);
    const cond = sql.join(chunk.map((x) => sql`(u.chain = ${x.chain} AND u.candidates = ${JSON.stringify([x.txid])})`), sql` OR `);
    const q = sql`SELECT u.chain, u.height, u.block_hash, h.time, u.wallet_id, u.asset, u.delta, u.candidates
      FROM unattributed_changes u JOIN block_headers h ON h.chain = u.chain AND h.height = u.height
      WHERE ${cond} ORDER BY u.id`;
    const rows: Array<Record<string, unknown>> = store.dialect === "sqlite"
      ? (db as unknown as { all: (q: unknown) => Array<Record<string, unknown>> }).all(q)
      : (await (db as unknown as { execute: (q: unknown) => Promise<{ rows: Array<Record<string, unknown>> }> }).execute(q)).rows;
    for (const r of rows) {
      const row = {
        chain: String(r.chain), height: Number(r.height), blockHash: String(r.block_hash), blockTime: Number(r.time), walletId: Number(r.wallet_id),
        asset: String(r.asset), delta: BigInt(String(r.delta)), candidates: JSON.parse(String(r.candidates)) as string[],
      };
      if (row.delta < 0n) out.push(row);
    }
  }
  return out;
}

/** Current outcome rows of a chain naming a movement at heights in [fromHeight, toHeight] (what a rescan must not take in twice). */
export async function loadCurrentOutcomesInRangeIn(store: Store, db: Db, p: { chain: string; fromHeight: number; toHeight: number }): Promise<MovementOutcomeRow[]> {
  const { t } = store;
  const rows = await db.select().from(t.movementOutcomes)
    .where(and(eq(t.movementOutcomes.current, 1), eq(t.movementOutcomes.chain, p.chain), gte(t.movementOutcomes.height, p.fromHeight), lte(t.movementOutcomes.height, p.toHeight)));
  return rows.map(toOutcomeRow);
}
