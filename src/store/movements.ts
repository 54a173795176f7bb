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
  const lite = sqliteClient(store, db);
  if (lite) {
    const st = prepared(lite, `SELECT ${RECORD_COLUMNS} FROM movement_records WHERE id = ?`).raw(true);
    for (const id of ids) {
      const r = st.get(id) as unknown[] | undefined;
      if (r) out.set(id, recordFromRaw(r));
    }
    return out;
  }
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

type LiteStatement = import("better-sqlite3").Statement;
const statements = new WeakMap<import("better-sqlite3").Database, Map<string, LiteStatement>>();

/**
 * A prepared statement of the connection, prepared once and reused (a matching pass runs in every block's
 * transaction: preparing is a large part of a small pass). The matcher's hot reads use `.raw()` rows (arrays),
 * which skip drizzle's per-row mapping: that mapping was the store pass's largest cost (bench/movements).
 */
function prepared(lite: import("better-sqlite3").Database, text: string): LiteStatement {
  let m = statements.get(lite);
  if (!m) statements.set(lite, (m = new Map()));
  let st = m.get(text);
  if (!st) m.set(text, (st = lite.prepare(text)));
  return st;
}

/** The term of movement_outcomes_open's WHERE (migration 14) a query must contain, literally, for SQLite to use that index. */
const NOT_MATCHED = "outcome <> 'matched'";
const placeholders = (n: number) => "?, ".repeat(n).slice(0, -2);
const bigText = (v: bigint | null) => (v === null ? null : v.toString());
// Writes stay one prepared statement run per row: 64-row INSERTs and 500-id IN-list UPDATEs measured ~25% more
// CPU for 200,000 outcomes (a standalone better-sqlite3 test of this table and its indexes).
const OUTCOME_INSERT = `INSERT INTO movement_outcomes (subject, current, outcome, severity, record_id, kind, chain, asset, amount, chain_amount, fee,
  fee_asset, flags, direction, txid, height, block_hash, position, wallet_id, counterparty, counterparty_wallet_id, record_time_ms, block_time_ms, seen_at_ms, at_ms)
  VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const RECORD_COLUMNS = "id, kind, chain, asset, amount, counterparty, txid, time_ms, content_hash, source, received_at_ms, open";
const OUTCOME_COLUMNS = `id, subject, current, outcome, severity, record_id, kind, chain, asset, amount, chain_amount, fee, fee_asset, flags, direction,
  txid, height, block_hash, position, wallet_id, counterparty, counterparty_wallet_id, record_time_ms, block_time_ms, seen_at_ms, at_ms`;

function recordFromRaw(r: unknown[]): MovementRecordRow {
  return {
    id: r[0] as string, kind: r[1] as string, chain: r[2] as string, asset: r[3] as string, amount: BigInt(r[4] as string), counterparty: r[5] as string | null,
    txid: r[6] as string | null, timeMs: Number(r[7]), contentHash: r[8] as string, source: r[9] as string, receivedAtMs: Number(r[10]), open: Number(r[11]) === 1,
  };
}

function outcomeFromRaw(r: unknown[]): MovementOutcomeRow {
  const n = (v: unknown) => (v === null ? null : Number(v));
  const b = (v: unknown) => (v === null ? null : BigInt(v as string));
  return {
    id: Number(r[0]), subject: r[1] as string, current: Number(r[2]) === 1, outcome: r[3] as string, severity: r[4] as string, recordId: r[5] as string | null,
    kind: r[6] as string | null, chain: r[7] as string, asset: r[8] as string, amount: b(r[9]), chainAmount: b(r[10]), fee: b(r[11]), feeAsset: r[12] as string | null,
    flags: r[13] ? (r[13] as string).split(",") : [], direction: r[14] as string | null, txid: r[15] as string | null, height: n(r[16]), blockHash: r[17] as string | null,
    position: n(r[18]), walletId: n(r[19]), counterparty: r[20] as string | null, counterpartyWalletId: n(r[21]), recordTimeMs: n(r[22]), blockTimeMs: n(r[23]),
    seenAtMs: n(r[24]), atMs: Number(r[25]),
  };
}

/** Inserts records (the caller checked they are new). */
export async function saveMovementRecordsIn(store: Store, db: Db, rows: readonly MovementRecordRow[]): Promise<void> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const stmt = prepared(lite, `INSERT INTO movement_records (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const r of rows) stmt.run(r.id, r.kind, r.chain, r.asset, r.amount.toString(), r.counterparty, r.txid, r.timeMs, r.contentHash, r.source, r.receivedAtMs, r.open ? 1 : 0);
    return;
  }
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db.insert(t.movementRecords).values(rows.slice(i, i + CHUNK).map((r) => ({ ...r, open: r.open ? 1 : 0 })));
  }
}

/** What the matcher reads of an open record. */
export type OpenMovementRecordRow = Pick<MovementRecordRow, "id" | "kind" | "chain" | "asset" | "amount" | "counterparty" | "txid" | "timeMs">;

const OPEN_RECORD_COLUMNS = "id, kind, chain, asset, amount, counterparty, txid, time_ms";

/**
 * Records still open (no matched outcome), optionally of one chain, oldest first: the matcher's fields only
 * (not the content hash, source and receipt time, a third of the read on a pool of 200,000, bench/movements).
 * On SQLite the read without a chain names the partial index of open records: left to itself the planner
 * scans movement_records_time for the order, i.e. every record ever received (60 ms for 1,000 open among
 * 400,000, against 2 ms through the partial index; every block's pass makes this read).
 */
export async function loadOpenMovementRecordsIn(store: Store, db: Db, p: { chain?: string } = {}): Promise<OpenMovementRecordRow[]> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const rows = (p.chain === undefined
      ? prepared(lite, `SELECT ${OPEN_RECORD_COLUMNS} FROM movement_records INDEXED BY movement_records_open WHERE open = 1 ORDER BY time_ms, id`).raw(true).all()
      : prepared(lite, `SELECT ${OPEN_RECORD_COLUMNS} FROM movement_records WHERE open = 1 AND chain = ? ORDER BY time_ms, id`).raw(true).all(p.chain)) as unknown[][];
    const out: OpenMovementRecordRow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = { id: r[0] as string, kind: r[1] as string, chain: r[2] as string, asset: r[3] as string, amount: BigInt(r[4] as string), counterparty: r[5] as string | null, txid: r[6] as string | null, timeMs: Number(r[7]) };
    }
    return out;
  }
  const m = t.movementRecords;
  const cond = p.chain === undefined ? eq(m.open, 1) : and(eq(m.open, 1), eq(m.chain, p.chain));
  const rows = await db.select({ id: m.id, kind: m.kind, chain: m.chain, asset: m.asset, amount: m.amount, counterparty: m.counterparty, txid: m.txid, timeMs: m.timeMs })
    .from(m).where(cond).orderBy(asc(m.timeMs), asc(m.id));
  return rows.map((r) => ({ ...r, timeMs: Number(r.timeMs) }));
}

/** Sets records open (back in the matcher's pool) or closed (matched). */
export async function saveMovementRecordsOpenIn(store: Store, db: Db, p: { ids: readonly string[]; open: boolean }): Promise<void> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const st = prepared(lite, "UPDATE movement_records SET open = ? WHERE id = ?");
    const v = p.open ? 1 : 0;
    for (const id of p.ids) st.run(v, id);
    return;
  }
  for (let i = 0; i < p.ids.length; i += CHUNK) {
    await db.update(t.movementRecords).set({ open: p.open ? 1 : 0 }).where(inArray(t.movementRecords.id, p.ids.slice(i, i + CHUNK) as string[]));
  }
}

/** Current outcome rows of the given subjects. */
export async function loadCurrentOutcomesIn(store: Store, db: Db, subjects: readonly string[]): Promise<Map<string, MovementOutcomeRow>> {
  const { t } = store;
  const out = new Map<string, MovementOutcomeRow>();
  const lite = sqliteClient(store, db);
  if (lite) {
    const st = prepared(lite, `SELECT ${OUTCOME_COLUMNS} FROM movement_outcomes WHERE subject = ? AND current = 1`).raw(true);
    for (const subject of subjects) {
      const r = st.get(subject) as unknown[] | undefined;
      if (r) out.set(subject, outcomeFromRaw(r));
    }
    return out;
  }
  for (let i = 0; i < subjects.length; i += CHUNK) {
    const rows = await db.select().from(t.movementOutcomes).where(and(eq(t.movementOutcomes.current, 1), inArray(t.movementOutcomes.subject, subjects.slice(i, i + CHUNK) as string[])));
    for (const r of rows) out.set(r.subject, toOutcomeRow(r));
  }
  return out;
}

/** Current rows with one of `outcomes` (the matcher's pool of unexplained and pending legs), optionally of one chain. */
export async function loadCurrentOutcomesByNameIn(store: Store, db: Db, p: { outcomes: readonly string[]; subjectPrefix?: string; chain?: string; minBlockTimeMs?: number }): Promise<MovementOutcomeRow[]> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const where = [`current = 1`, `outcome IN (${p.outcomes.map(() => "?").join(", ")})`];
    // The literal term lets SQLite use movement_outcomes_open, which holds no matched rows (migration 14).
    if (!p.outcomes.includes("matched")) where.push(NOT_MATCHED);
    const params: unknown[] = [...p.outcomes];
    if (p.minBlockTimeMs !== undefined) (where.push("block_time_ms >= ?"), params.push(p.minBlockTimeMs));
    if (p.chain !== undefined) (where.push("chain = ?"), params.push(p.chain));
    if (p.subjectPrefix !== undefined) (where.push("substr(subject, 1, ?) = ?"), params.push(p.subjectPrefix.length, p.subjectPrefix));
    const rows = prepared(lite, `SELECT ${OUTCOME_COLUMNS} FROM movement_outcomes WHERE ${where.join(" AND ")} ORDER BY id`).raw(true).all(...params);
    return (rows as unknown[][]).map(outcomeFromRaw);
  }
  const conds = [eq(t.movementOutcomes.current, 1), inArray(t.movementOutcomes.outcome, p.outcomes as string[])];
  if (!p.outcomes.includes("matched")) conds.push(sql.raw(NOT_MATCHED));
  if (p.minBlockTimeMs !== undefined) conds.push(gte(t.movementOutcomes.blockTimeMs, p.minBlockTimeMs));
  if (p.chain !== undefined) conds.push(eq(t.movementOutcomes.chain, p.chain));
  if (p.subjectPrefix !== undefined) conds.push(sql`substr(${t.movementOutcomes.subject}, 1, ${p.subjectPrefix.length}) = ${p.subjectPrefix}`);
  const rows = await db.select().from(t.movementOutcomes).where(and(...conds)).orderBy(asc(t.movementOutcomes.id));
  return rows.map(toOutcomeRow);
}

/** What a pass needs of a subject's current row to compare an outcome with it (no amounts: nothing to convert). */
export type MovementOutcomeHead = { id: number; subject: string; outcome: string; flags: readonly string[]; blockHash: string | null; atMs: number };

const NO_FLAGS: readonly string[] = Object.freeze([]);

/**
 * The heads of the current rows with one of `outcomes` and a subject starting with `subjectPrefix`, in no
 * particular order (an open record's row: what the pass compares its new outcome with). Six columns instead
 * of all 26: on a pool of 200,000 records this read was the pass's largest (bench/movements).
 */
export async function loadCurrentOutcomeHeadsByNameIn(store: Store, db: Db, p: { outcomes: readonly string[]; subjectPrefix: string }): Promise<MovementOutcomeHead[]> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const rows = prepared(lite, `SELECT id, subject, outcome, flags, block_hash, at_ms FROM movement_outcomes
      WHERE current = 1 AND outcome IN (${placeholders(p.outcomes.length)})${p.outcomes.includes("matched") ? "" : ` AND ${NOT_MATCHED}`} AND substr(subject, 1, ?) = ?`).raw(true)
      .all(...p.outcomes, p.subjectPrefix.length, p.subjectPrefix) as unknown[][];
    const out: MovementOutcomeHead[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = { id: Number(r[0]), subject: r[1] as string, outcome: r[2] as string, flags: r[3] ? (r[3] as string).split(",") : NO_FLAGS, blockHash: r[4] as string | null, atMs: Number(r[5]) };
    }
    return out;
  }
  const m = t.movementOutcomes;
  const rows = await db.select({ id: m.id, subject: m.subject, outcome: m.outcome, flags: m.flags, blockHash: m.blockHash, atMs: m.atMs }).from(m)
    .where(and(eq(m.current, 1), inArray(m.outcome, p.outcomes as string[]), p.outcomes.includes("matched") ? undefined : sql.raw(NOT_MATCHED),
      sql`substr(${m.subject}, 1, ${p.subjectPrefix.length}) = ${p.subjectPrefix}`));
  return rows.map((r) => ({ id: Number(r.id), subject: r.subject, outcome: r.outcome, flags: r.flags ? r.flags.split(",") : NO_FLAGS, blockHash: r.blockHash, atMs: Number(r.atMs) }));
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
 * `isNew(subject)` true promises the subject has no current row (a wrong promise fails on the unique index).
 */
export async function saveMovementOutcomesIn(store: Store, db: Db, rows: readonly MovementOutcomeInput[], opts: { isNew?: (subject: string) => boolean } = {}): Promise<void> {
  const { t } = store;
  const lite = sqliteClient(store, db);
  if (lite) {
    const clear = prepared(lite, "UPDATE movement_outcomes SET current = 0 WHERE subject = ? AND current = 1");
    const insert = prepared(lite, OUTCOME_INSERT);
    for (const r of rows) {
      // A subject the caller knows has no row yet (a new record or leg) has nothing to clear: one index probe less.
      if (!opts.isNew?.(r.subject)) clear.run(r.subject);
      insert.run(r.subject, r.outcome, r.severity, r.recordId, r.kind, r.chain, r.asset, bigText(r.amount), bigText(r.chainAmount), bigText(r.fee), r.feeAsset,
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
  const lite = sqliteClient(store, db);
  if (lite) {
    // Block times read once per block, not joined per leg (a B-tree probe and a column per leg); the chain is the parameter's
    // string, one object for every leg. A leg whose block has no header is left out, as the join leaves it out.
    const after = p.afterHeight ?? -1;
    const times = new Map<number, number>();
    for (const h of prepared(lite, "SELECT height, time FROM block_headers WHERE chain = ? AND height > ? AND height <= ?").raw(true).all(p.chain, after, p.toHeight) as unknown[][]) {
      times.set(Number(h[0]), Number(h[1]));
    }
    const rows = prepared(lite, `SELECT height, block_hash, txid, position, wallet_id, asset, direction, amount, counterparty, counterparty_wallet_id
      FROM transfers WHERE chain = ? AND height > ? AND height <= ? ORDER BY height, position, id`).raw(true).all(p.chain, after, p.toHeight) as unknown[][];
    const out: LegWithTime[] = [];
    for (const r of rows) {
      const height = Number(r[0]);
      const time = times.get(height);
      if (time === undefined) continue;
      out.push({
        chain: p.chain, height, blockHash: r[1] as string, blockTime: time, txid: r[2] as string | null, position: Number(r[3]),
        walletId: Number(r[4]), asset: r[5] as string, direction: r[6] as LegWithTime["direction"], amount: BigInt(r[7] as string), counterparty: r[8] as string | null,
        counterpartyWalletId: r[9] === null ? null : Number(r[9]),
      });
    }
    return out;
  }
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
  if (p.currentOnly && p.outcome !== undefined && !(typeof p.outcome === "string" ? p.outcome === "matched" : p.outcome.includes("matched"))) conds.push(sql.raw(NOT_MATCHED));
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
  const all = async (q: ReturnType<typeof sql>): Promise<Array<Record<string, unknown>>> => store.dialect === "sqlite"
    ? (db as unknown as { all: (q: unknown) => Array<Record<string, unknown>> }).all(q)
    : (await (db as unknown as { execute: (q: unknown) => Promise<{ rows: Array<Record<string, unknown>> }> }).execute(q)).rows;
  const out: UnattributedOutflow[] = [];
  const chains = [...new Set(p.txids.map((x) => x.chain))];
  // Only EVM chains write unattributed changes: a chain without any costs one probe, not a scan per record.
  const present = new Set<string>();
  for (const c of chains) if ((await all(sql`SELECT 1 AS x FROM unattributed_changes WHERE chain = ${c} LIMIT 1`)).length) present.add(c);
  const wanted = p.txids.filter((x) => present.has(x.chain));
  const keys = new Set(wanted.map((x) => `${x.chain}\u0000${JSON.stringify([x.txid])}`));
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const texts = wanted.slice(i, i + CHUNK).map((x) => JSON.stringify([x.txid]));
    const rows = await all(sql`SELECT u.chain, u.height, u.block_hash, h.time, u.wallet_id, u.asset, u.delta, u.candidates
      FROM unattributed_changes u JOIN block_headers h ON h.chain = u.chain AND h.height = u.height
      WHERE u.candidates IN (${sql.join(texts.map((x) => sql`${x}`), sql`, `)}) ORDER BY u.id`);
    for (const r of rows) {
      if (!keys.has(`${String(r.chain)}\u0000${String(r.candidates)}`)) continue;
      const delta = BigInt(String(r.delta));
      if (delta >= 0n) continue;
      out.push({
        chain: String(r.chain), height: Number(r.height), blockHash: String(r.block_hash), blockTime: Number(r.time), walletId: Number(r.wallet_id),
        asset: String(r.asset), delta, candidates: JSON.parse(String(r.candidates)) as string[],
      });
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
