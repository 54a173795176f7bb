import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Logger } from "pino";
import type Database from "better-sqlite3";
import type pg from "pg";
import type { Store } from "../store/index.js";
import { type BuiltSnapshot, createSnapshotBuilder } from "./build-snapshot.js";
import {
  AsOfInFutureError, InvalidAsOfError, InvalidSnapshotIdError, SnapshotContentExistsError, SnapshotIdConflictError,
  SnapshotReadError,
} from "./errors.js";
import { loadSnapshot, type SnapshotSummary } from "./load-snapshot.js";
import { recordSize } from "./merkle-sum-tree.js";
import { parseSnapshot, type SnapshotFormat } from "./parse-snapshot.js";
import { AS_OF_PATTERN, computeRoot, NONCE_BYTES, PROOF_VERSION, SNAPSHOT_ID_PATTERN, SUM_BYTES } from "./verify-proof.js";

/** What to import and the declared checks (row count, control totals in base units). */
export type ImportSnapshotParameters = {
  /** A file path, or the file's bytes as a stream. */
  source: string | AsyncIterable<Uint8Array>;
  format: SnapshotFormat;
  /** ISO-8601 with an explicit offset; not in the future (60 s leeway). */
  asOf: string;
  /** Declared snapshot id; default derived from the content hash and as-of. */
  snapshotId?: string;
  /** Declared number of data rows (header excluded); must match. */
  rowCount?: number;
  /** Declared per-asset totals in base units; must match. */
  controlTotals?: Record<string, bigint>;
  /** Configured assets: id → decimals. */
  assets: Readonly<Record<string, { decimals: number }>>;
  /** Progress for long imports: rows parsed, then rows written. */
  onProgress?: (p: { phase: "parse" | "tree" | "write"; rows: number }) => void;
};

/** The snapshot's public summary, and whether this call created it. */
export type ImportSnapshotReturnType = SnapshotSummary & {
  /** False when this exact file and as-of were already imported (a no-op). */
  created: boolean;
};

/** Clock leeway for "as-of in the future" (H4: bounded leeway). */
export const AS_OF_LEEWAY_MS = 60_000;

/**
 * Validate an as-of timestamp: ISO-8601 with seconds and an explicit offset (`Z` or `±hh:mm`), a real
 * calendar date, not before Bitcoin's genesis, not later than now + AS_OF_LEEWAY_MS. Returns unix milliseconds.
 * @throws InvalidAsOfError, AsOfInFutureError
 */
export function parseAsOf(text: string, now: Date): number {
  const m = AS_OF_PATTERN.exec(text);
  if (!m) throw new InvalidAsOfError({ text });
  const [, y, mo, d, h, mi, s, , , oh, om] = m;
  const ms = Date.parse(text);
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (Number.isNaN(ms) || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d) ||
    Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(oh ?? 0) > 14 || Number(om ?? 0) > 59) {
    throw new InvalidAsOfError({ text });
  }
  // Before Bitcoin's genesis block no chain could anchor it (TESTING.md H3).
  if (ms < Date.UTC(2009, 0, 3, 18, 15, 5)) throw new InvalidAsOfError({ text });
  if (ms > now.getTime() + AS_OF_LEEWAY_MS) throw new AsOfInFutureError({ asOf: text, now: now.toISOString() });
  return ms;
}

/**
 * Import a liabilities snapshot: parse strictly (streaming), check duplicates, row count and
 * control totals, build the Merkle-sum tree, then write everything in ONE transaction, so an
 * error or a crash at any row leaves no trace. Idempotent on (file bytes, as-of).
 * @throws SnapshotFormatError subclasses, DuplicateUserIdError, RowCountMismatchError,
 *   ControlTotalMismatchError, SumOverflowError, InvalidAsOfError, AsOfInFutureError,
 *   SnapshotIdConflictError, SnapshotContentExistsError, InvalidSnapshotIdError, SnapshotReadError
 */
export async function importSnapshot(
  ctx: { store: Store; logger?: Logger; now?: () => Date },
  p: ImportSnapshotParameters,
): Promise<ImportSnapshotReturnType> {
  const now = ctx.now?.() ?? new Date();
  const asOfMs = parseAsOf(p.asOf, now);
  if (p.snapshotId !== undefined && !SNAPSHOT_ID_PATTERN.test(p.snapshotId)) throw new InvalidSnapshotIdError({ text: p.snapshotId });

  const content = createHash("sha256");
  const builder = createSnapshotBuilder({ assets: p.assets });
  let parsed = 0;
  for await (const rows of parseSnapshot(tap(p.source, content), { format: p.format, assets: p.assets })) {
    builder.add(rows);
    parsed += rows.length;
    p.onProgress?.({ phase: "parse", rows: parsed });
  }
  p.onProgress?.({ phase: "tree", rows: parsed });
  const built = await builder.finish({ rowCount: p.rowCount, controlTotals: p.controlTotals });
  const contentHash = content.digest("hex");
  const asOfUtc = new Date(asOfMs).toISOString();
  const identity = createHash("sha256").update(`backstop-liabilities-v1\n${contentHash}\n${asOfUtc}\n${p.format}`).digest("hex");
  const snapshotId = p.snapshotId ?? `liab-${asOfUtc.replace(/[-:]|\.\d+/g, "")}-${identity.slice(0, 12)}`;
  // The published root commits to the snapshot's id and as-of (format 2), so a proof cannot be
  // relabelled as belonging to another snapshot or time (docs/liabilities-proofs.md).
  const root = computeRoot({
    version: PROOF_VERSION, snapshotId, asOf: p.asOf, leafCount: built.accountCount, assets: built.assets,
    topHash: built.tree.topHash, topSums: built.totals,
  });
  const meta: SnapshotMeta = {
    id: snapshotId, asOf: p.asOf, asOfMs, format: p.format, contentHash, identity, importedAt: now.toISOString(), declaredId: p.snapshotId !== undefined,
    root,
  };

  const created = ctx.store.dialect === "sqlite"
    ? await writeSqlite(ctx.store, meta, built, p.onProgress)
    : await writePostgres(ctx.store, meta, built, p.onProgress);
  const summary = (await loadSnapshot(ctx.store, { snapshotId: created.id }))!;
  ctx.logger?.info({
    msg: created.created ? "liabilities snapshot imported" : "liabilities snapshot already imported",
    snapshot_id: summary.snapshotId, rows: summary.rowCount, accounts: summary.accountCount, root: summary.root,
  });
  return { ...summary, created: created.created };
}

type SnapshotMeta = {
  id: string; asOf: string; asOfMs: number; format: string; contentHash: string; identity: string; importedAt: string;
  declaredId: boolean;
  /** Root commitment of format PROOF_VERSION. */
  root: string;
};

async function* tap(source: string | AsyncIterable<Uint8Array>, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  const stream = typeof source === "string" ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  const it = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await it.next();
      } catch (cause) {
        throw new SnapshotReadError({ cause });
      }
      if (next.done) return;
      hash.update(next.value);
      yield next.value;
    }
  } finally {
    await it.return?.();
  }
}

/** Decide what an existing row means for this import (inside the write transaction). */
function resolveExisting(meta: SnapshotMeta, rows: Array<{ id: string; identity_hash: string }>): { id: string } | undefined {
  const same = rows.find((r) => r.identity_hash === meta.identity);
  if (same) {
    if (!meta.declaredId || same.id === meta.id) return { id: same.id }; // idempotent re-import
    throw new SnapshotContentExistsError({ snapshotId: meta.id, existingId: same.id });
  }
  if (rows.some((r) => r.id === meta.id)) throw new SnapshotIdConflictError({ snapshotId: meta.id });
  return undefined;
}

const WRITE_PROGRESS_EVERY = 10_000;

async function writeSqlite(
  store: Store, meta: SnapshotMeta, s: BuiltSnapshot, onProgress: ImportSnapshotParameters["onProgress"],
): Promise<{ id: string; created: boolean }> {
  // better-sqlite3 is synchronous on the store's one connection, so these statements run inside store.tx's BEGIN IMMEDIATE.
  const db = (store.db as unknown as { $client: Database.Database }).$client;
  // The account-key index takes random inserts: a larger page cache for this write keeps it in
  // memory (1 KiB per 8 accounts, at most 1 GiB: at 10M accounts a smaller cache made the
  // write 3x slower); restored afterwards.
  const cache = db.pragma("cache_size", { simple: true }) as number;
  db.pragma(`cache_size = -${Math.min(1 << 20, Math.max(2000, Math.ceil(s.accountCount / 8)))}`); // KiB, at most 1 GiB
  try {
    return await writeSqliteTx(store, db, meta, s, onProgress);
  } finally {
    db.pragma(`cache_size = ${cache}`);
  }
}

function writeSqliteTx(
  store: Store, db: Database.Database, meta: SnapshotMeta, s: BuiltSnapshot, onProgress: ImportSnapshotParameters["onProgress"],
): Promise<{ id: string; created: boolean }> {
  return store.tx(async () => {
    const existing = resolveExisting(meta, db.prepare(
      "SELECT id, identity_hash FROM liability_snapshots WHERE id = ? OR identity_hash = ?",
    ).all(meta.id, meta.identity) as Array<{ id: string; identity_hash: string }>);
    if (existing) return { id: existing.id, created: false };
    db.prepare(`INSERT INTO liability_snapshots (id, as_of, as_of_ms, format, content_hash, identity_hash, root,
      row_count, account_count, tree_height, base_level, assets, imported_at, proof_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
      .run(meta.id, meta.asOf, meta.asOfMs, meta.format, meta.contentHash, meta.identity, meta.root, s.rowCount,
        s.accountCount, s.tree.height, s.tree.baseLevel, JSON.stringify(s.assets), meta.importedAt, PROOF_VERSION);
    const total = db.prepare("INSERT INTO liability_totals (snapshot_id, asset, position, decimals, total) VALUES (?,?,?,?,?)");
    s.assets.forEach((a, i) => total.run(meta.id, a.id, i, a.decimals, s.totals[i]!.toString()));
    const node = db.prepare("INSERT INTO liability_tree_nodes (snapshot_id, level, idx, record) VALUES (?,?,?,?)");
    const size = recordSize(s.assets.length);
    for (const l of s.tree.upperLevels) {
      for (let i = 0; i < l.count; i++) node.run(meta.id, l.level, i, Buffer.from(l.records.buffer, l.records.byteOffset + i * size, size));
    }
    const acct = db.prepare(
      "INSERT INTO liability_accounts (snapshot_id, leaf_index, account_key, account_id, nonce, balances) VALUES (?,?,?,?,?,?)",
    );
    const { ids, keys, nonces, balances, leafToAccount } = s.accounts;
    const stride = s.assets.length * SUM_BYTES;
    for (let leaf = 0; leaf < s.accountCount; leaf++) {
      const a = leafToAccount[leaf]!;
      acct.run(meta.id, leaf, keys[a]!, ids[a]!,
        Buffer.from(nonces.buffer, nonces.byteOffset + a * NONCE_BYTES, NONCE_BYTES),
        Buffer.from(balances.buffer, balances.byteOffset + a * stride, stride));
      if ((leaf + 1) % WRITE_PROGRESS_EVERY === 0) onProgress?.({ phase: "write", rows: leaf + 1 });
    }
    return { id: meta.id, created: true };
  });
}

const PG_BATCH = 5000;

async function writePostgres(
  store: Store, meta: SnapshotMeta, s: BuiltSnapshot, onProgress: ImportSnapshotParameters["onProgress"],
): Promise<{ id: string; created: boolean }> {
  const pool = (store.db as unknown as { $client: pg.Pool }).$client;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // One importer at a time: the existence check and the insert must not interleave.
    await client.query("SELECT pg_advisory_xact_lock(4242005)");
    const found = await client.query<{ id: string; identity_hash: string }>(
      "SELECT id, identity_hash FROM liability_snapshots WHERE id = $1 OR identity_hash = $2", [meta.id, meta.identity]);
    const existing = resolveExisting(meta, found.rows);
    if (existing) {
      await client.query("ROLLBACK");
      return { id: existing.id, created: false };
    }
    await client.query(`INSERT INTO liability_snapshots (id, as_of, as_of_ms, format, content_hash, identity_hash, root,
      row_count, account_count, tree_height, base_level, assets, imported_at, proof_version)
      VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
    [meta.id, meta.asOf, meta.asOfMs, meta.format, meta.contentHash, meta.identity, meta.root, s.rowCount,
      s.accountCount, s.tree.height, s.tree.baseLevel, JSON.stringify(s.assets), meta.importedAt, PROOF_VERSION]);
    for (const [i, a] of s.assets.entries()) {
      await client.query("INSERT INTO liability_totals (snapshot_id, asset, position, decimals, total) VALUES ($1,$2,$3,$4,$5)",
        [meta.id, a.id, i, a.decimals, s.totals[i]!.toString()]);
    }
    const size = recordSize(s.assets.length);
    for (const l of s.tree.upperLevels) {
      for (let from = 0; from < l.count; from += PG_BATCH) {
        const idx: number[] = [];
        const rec: Buffer[] = [];
        for (let i = from; i < Math.min(l.count, from + PG_BATCH); i++) {
          idx.push(i);
          rec.push(Buffer.from(l.records.buffer, l.records.byteOffset + i * size, size));
        }
        await client.query(`INSERT INTO liability_tree_nodes (snapshot_id, level, idx, record)
          SELECT $1, $2, * FROM unnest($3::bigint[], $4::bytea[])`, [meta.id, l.level, idx, rec]);
      }
    }
    const { ids, keys, nonces, balances, leafToAccount } = s.accounts;
    const stride = s.assets.length * SUM_BYTES;
    for (let from = 0; from < s.accountCount; from += PG_BATCH) {
      const leaf: number[] = [], key: string[] = [], id: string[] = [], nonce: Buffer[] = [], bal: Buffer[] = [];
      for (let i = from; i < Math.min(s.accountCount, from + PG_BATCH); i++) {
        const a = leafToAccount[i]!;
        leaf.push(i);
        key.push(keys[a]!);
        id.push(ids[a]!);
        nonce.push(Buffer.from(nonces.buffer, nonces.byteOffset + a * NONCE_BYTES, NONCE_BYTES));
        bal.push(Buffer.from(balances.buffer, balances.byteOffset + a * stride, stride));
      }
      await client.query(`INSERT INTO liability_accounts (snapshot_id, leaf_index, account_key, account_id, nonce, balances)
        SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::bytea[])`,
      [meta.id, leaf, key, id, nonce, bal]);
      onProgress?.({ phase: "write", rows: Math.min(s.accountCount, from + PG_BATCH) });
    }
    await client.query("COMMIT");
    return { id: meta.id, created: true };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
