import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { sql as sqlTag } from "drizzle-orm";
import { type BetterSQLite3Database, drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import pg from "pg";
import { redact } from "../lib/logger.js";
import { isBackstopError } from "../lib/errors.js";
import { recordStoreTransaction } from "../lib/metrics.js";
import { SchemaTooNewError, StoreCorruptError, StoreInvariantError, StoreQueryTimeoutError, StoreTransientError, StoreUnavailableError } from "./errors.js";
import type { BlockEventSink } from "./block-events.js";
import { MIGRATIONS } from "./migrations/index.js";
import * as pgSchema from "./schema-pg.js";
import * as sqliteSchema from "./schema-sqlite.js";

/** The drizzle tables. Typed as the SQLite variant; the Postgres tables have the same names, columns and JS types. */
export type Tables = typeof sqliteSchema;
/** A drizzle database (or transaction) handle; the query-builder API used here is the same on both dialects. */
export type Db = BetterSQLite3Database<Tables>;

export type Store = {
  dialect: "sqlite" | "postgres";
  db: Db;
  t: Tables;
  /** Where the store is, redacted (for messages). */
  target: string;
  /**
   * Runs fn in one database transaction (SQLite: BEGIN IMMEDIATE, serialised in
   * this process; Postgres: a pooled client). Commits when fn resolves, rolls
   * back when it throws. No network I/O belongs inside fn.
   */
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Consumers of block writes and rollbacks, called inside their transactions (see block-events.ts). */
  blockEventSinks: BlockEventSink[];
  /**
   * Runs read-only fn on one consistent snapshot of the store: every read through the store it is
   * given sees the same committed state, even while another process commits (a balance and its
   * block header never come from two different commits). SQLite: a deferred read transaction in
   * WAL mode, which takes no write lock (writers go on); Postgres: REPEATABLE READ READ ONLY on one
   * connection. fn must not write (no tx inside). `timeoutMs` bounds each statement on Postgres
   * (statement_timeout), so an API request cannot hold a connection for long.
   * @throws StoreQueryTimeoutError (Postgres, past timeoutMs), StoreInvariantError (a write inside), the store's typed errors
   */
  read<T>(fn: (store: Store) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /** Runs raw SQL (migrations, admin), returning rows. */
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
};

/** The store as seen inside Store.read: every read (drizzle or raw SQL with `?` placeholders) on one snapshot; writes refused. */
export type ReadQuery = Store;

export type OpenStoreParameters = {
  /** postgres:// URL; when set the store is Postgres. */
  databaseUrl?: string;
  /** SQLite file (default `.backstop/backstop.db`), used when databaseUrl is not set. */
  sqlitePath?: string;
  /** Postgres schema to use (created if missing); default `public`. */
  pgSchema?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
};

/**
 * Opens the store and applies pending migrations, each in its own transaction.
 * @throws StoreUnavailableError, SchemaTooNewError, StoreCorruptError
 */
export async function openStore(p: OpenStoreParameters = {}): Promise<Store> {
  const store = p.databaseUrl ? await openPostgres(p.databaseUrl, p.pgSchema) : openSqlite(p.sqlitePath ?? ".backstop/backstop.db");
  try {
    if (p.migrate ?? true) await migrate(store);
    await checkSchema(store);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function openSqlite(path: string): Store {
  const file = resolve(path);
  let sqlite: Database.Database;
  try {
    mkdirSync(dirname(file), { recursive: true });
    sqlite = new Database(file);
    sqlite.pragma("journal_mode = WAL");
    // WAL + NORMAL survives a process kill (not an OS crash mid-fsync): the
    // crash model of TESTING.md 2C. busy_timeout bounds waits on other writers.
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
  } catch (cause) {
    throw new StoreUnavailableError({ target: file, cause });
  }
  cachePreparedStatements(sqlite);
  const db = drizzleSqlite(sqlite, { schema: sqliteSchema });
  // better-sqlite3 is synchronous on one connection: transactions are
  // serialised with a promise chain so two async callers never interleave.
  let queue: Promise<unknown> = Promise.resolve();
  let reading = false;
  const store: Store = {
    dialect: "sqlite",
    db,
    blockEventSinks: [],
    t: sqliteSchema,
    target: file,
    read<T>(fn: (s: Store) => Promise<T>): Promise<T> {
      // On the store's one connection: queued like tx, so no write of this process falls inside it;
      // query_only makes a write attempted inside fail (SQLITE_READONLY) instead of upgrading the lock.
      const run = async () => {
        sqlite.pragma("query_only = ON");
        sqlite.exec("BEGIN DEFERRED");
        reading = true;
        try {
          // Reads nested in a read (a read model called inside another) run inside the same snapshot;
          // queued behind it they would wait for it forever.
          const view: Store = { ...store, read: (inner) => inner(view) };
          return await fn(view);
        } finally {
          reading = false;
          if (sqlite.inTransaction) sqlite.exec("COMMIT");
          sqlite.pragma("query_only = OFF");
        }
      };
      const guarded = () => run().catch((err: unknown) => Promise.reject(mapStoreError(err, file)));
      const result = queue.then(guarded, guarded);
      queue = result.catch(() => undefined);
      return result;
    },
    tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      // Queued behind the read it was called from, it would wait for itself forever.
      if (reading) return Promise.reject(new StoreInvariantError({ message: "No writes inside store.read: a read snapshot is read-only." }));
      const run = async () => {
        const started = performance.now();
        sqlite.exec("BEGIN IMMEDIATE");
        try {
          const out = await fn(db);
          sqlite.exec("COMMIT");
          recordStoreTransaction({ dialect: "sqlite", seconds: (performance.now() - started) / 1000, ok: true });
          return out;
        } catch (err) {
          if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
          recordStoreTransaction({ dialect: "sqlite", seconds: (performance.now() - started) / 1000, ok: false });
          throw err;
        }
      };
      const guarded = () => run().catch((err: unknown) => Promise.reject(mapStoreError(err, file)));
      const result = queue.then(guarded, guarded);
      queue = result.catch(() => undefined);
      return result;
    },
    async raw(sql, params = []) {
      try {
        const stmt = sqlite.prepare(sql);
        if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
        stmt.run(...params);
        return [];
      } catch (err) {
        throw mapStoreError(err, file);
      }
    },
    async close() {
      await queue;
      if (sqlite.open) sqlite.close();
    },
  };
  return store;
}

/**
 * drizzle prepares every query anew on better-sqlite3 (a SQLite compile, ~20-40 µs for
 * saveBlock's statements, a third of their cost); the same SQL text is prepared once here.
 * A cached statement is handed back in its default mode: drizzle switches statements
 * to raw (array) rows for mapped selects, and that mode sticks to the statement.
 */
function cachePreparedStatements(sqlite: Database.Database, max = 256): void {
  const cache = new Map<string, Database.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (stmt === undefined) {
      stmt = prepare(source);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(source, stmt);
    } else if (stmt.reader) stmt.raw(false);
    return stmt;
  }) as typeof sqlite.prepare;
}

async function openPostgres(url: string, schema = "public"): Promise<Store> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreUnavailableError({ target: redact(url), cause: new Error(`invalid schema name "${schema}"`) });
  }
  // application_name: an operator (or a test) can find these connections in pg_stat_activity.
  const pool = new pg.Pool({ connectionString: url, max: 8, options: `-c search_path=${schema}`, application_name: `backstop:${schema}` });
  pool.on("error", () => undefined); // idle-client errors surface on the next query instead of crashing
  // A checked-out client whose connection dies (a Postgres restart, pg_terminate_backend) emits 'error'
  // too; without a listener that is an uncaught exception that kills the process. The failure reaches
  // the caller anyway, as the rejection of its query (mapped to STORE__UNAVAILABLE).
  pool.on("connect", (client) => client.on("error", () => undefined));
  try {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      client.release();
    }
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new StoreUnavailableError({ target: redact(url), cause });
  }
  const db = drizzlePg(pool, { schema: pgSchema }) as unknown as Db;
  // One drizzle handle per pooled connection (building one measured ~0.25 ms here), reused by its transactions.
  const clientDbs = new WeakMap<pg.PoolClient, Db>();
  const connect = async (): Promise<pg.PoolClient> => {
    try {
      return await pool.connect();
    } catch (err) {
      throw mapStoreError(err, redact(url));
    }
  };
  const clientDb = (client: pg.PoolClient): Db => {
    let d = clientDbs.get(client);
    if (!d) clientDbs.set(client, (d = drizzlePg(client, { schema: pgSchema }) as unknown as Db));
    return d;
  };
  const rawOn = async (q: pg.Pool | pg.PoolClient, sql: string, params: unknown[]) => {
    // Placeholders are written `?` for both dialects.
    let n = 0;
    try {
      return (await q.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as Record<string, unknown>[];
    } catch (err) {
      throw mapStoreError(err, redact(url));
    }
  };
  const store: Store = {
    dialect: "postgres",
    db,
    blockEventSinks: [],
    t: pgSchema as unknown as Tables,
    target: redact(url),
    async read<T>(fn: (s: Store) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
      const client = await connect();
      let broken: Error | undefined;
      try {
        // One round trip: the snapshot and the per-statement time limit together (simple query protocol).
        const limit = opts.timeoutMs ? ` SET LOCAL statement_timeout = ${Math.max(1, Math.floor(opts.timeoutMs))};` : "";
        await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;${limit}`);
        const view: Store = {
          ...store,
          db: clientDb(client),
          raw: (sql, params = []) => rawOn(client, sql, params),
          read: (inner) => inner(view),
          tx: () => Promise.reject(new StoreInvariantError({ message: "No writes inside store.read: a read snapshot is read-only." })),
        };
        const out = await fn(view);
        await client.query("COMMIT");
        return out;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        // 57014: statement_timeout cancelled a statement of this read.
        if ((err as { code?: unknown }).code === "57014") throw new StoreQueryTimeoutError({ timeoutMs: opts.timeoutMs ?? 0, cause: err });
        const mapped = mapStoreError(err, redact(url));
        if (mapped instanceof StoreUnavailableError) broken = err as Error; // discard the connection
        throw mapped;
      } finally {
        client.release(broken);
      }
    },
    async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      // Our own BEGIN/COMMIT on a checked-out client, not drizzle's transaction(): drizzle 0.45 sends
      // BEGIN outside its try/finally, so a connection killed at that moment leaked the client and a
      // later pool.end() hung forever. Here the client is always released; a broken one is discarded.
      const client = await connect();
      let failure: unknown;
      const started = performance.now();
      try {
        await client.query("BEGIN");
        try {
          const out = await fn(clientDb(client));
          await client.query("COMMIT");
          return out;
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw err;
        }
      } catch (err) {
        failure = err;
        throw mapStoreError(err, redact(url));
      } finally {
        recordStoreTransaction({ dialect: "postgres", seconds: (performance.now() - started) / 1000, ok: failure === undefined });
        // Discard the connection unless the failure was an ordinary SQL error on a healthy one.
        const mapped = failure === undefined ? undefined : mapStoreError(failure, "");
        client.release(mapped instanceof StoreUnavailableError ? (failure as Error) : undefined);
      }
    },
    raw(sql, params = []) {
      return rawOn(pool, sql, params);
    },
    async close() {
      await pool.end();
    },
  };
  return store;
}


/**
 * Turns a transient database failure into a typed, retryable error (the indexers pause and retry
 * from their cursor; nothing is skipped): SQLite busy/locked past busy_timeout, disk full (TESTING.md
 * D1, D2); Postgres serialization failure, deadlock, read-only, disk full, a dropped or refused
 * connection (D3, C10). Everything else (a Backstop error thrown inside the transaction, a constraint
 * violation, a syntax error) passes through unchanged: it is not something a retry fixes.
 */
export function mapStoreError(err: unknown, target: string): unknown {
  if (isBackstopError(err)) return err;
  let code: string | undefined;
  let message = "";
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === "string" && !code) code = c;
    message += ` ${String((e as Error).message ?? "")}`;
  }
  const transient = (k: "STORE__BUSY" | "STORE__FULL" | "STORE__READ_ONLY" | "STORE__CONFLICT") => new StoreTransientError({ code: k, target, cause: err });
  if (code === "SQLITE_BUSY" || code?.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED" || code?.startsWith("SQLITE_LOCKED_")) return transient("STORE__BUSY");
  if (code === "SQLITE_FULL" || code === "53100") return transient("STORE__FULL");
  if (code === "40001" || code === "40P01") return transient("STORE__CONFLICT");
  if (code === "25006") return transient("STORE__READ_ONLY");
  if (
    code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EPIPE" || code === "ETIMEDOUT" ||
    code?.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
  )
    return new StoreUnavailableError({ target, cause: err });
  return err;
}

async function migrate(store: Store): Promise<void> {
  const pgLock = store.dialect === "postgres";
  await store.raw("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const known = Math.max(0, ...MIGRATIONS.map((m) => m.id));
  // Nothing pending (every start but the first): no transaction, so a reader such as `balances`
  // never takes the write lock a running indexer needs.
  const applied0 = new Set((await store.raw("SELECT id FROM schema_migrations")).map((r) => Number(r.id)));
  for (const m of MIGRATIONS) {
    if (applied0.has(m.id)) continue;
    await store.tx(async (db) => {
      // One migrator at a time across processes (Postgres); SQLite's BEGIN IMMEDIATE already serialises.
      if (pgLock) await (db as unknown as { execute: (q: string) => Promise<unknown> }).execute("SELECT pg_advisory_xact_lock(4242001)");
      const exec = async (sql: string) =>
        store.dialect === "sqlite"
          ? (db as unknown as { run: (q: unknown) => unknown }).run(sqlRaw(sql))
          : (db as unknown as { execute: (q: string) => Promise<unknown> }).execute(sql);
      const rows = await selectIds(store, db);
      if (rows.has(m.id)) return;
      for (const stmt of store.dialect === "sqlite" ? m.sqlite : m.postgres) await exec(stmt);
      await exec(`INSERT INTO schema_migrations (id, name, applied_at) VALUES (${m.id}, '${m.name.replace(/'/g, "''")}', '${new Date().toISOString()}')`);
    });
  }
  const applied = await store.raw("SELECT max(id) AS id FROM schema_migrations");
  const max = Number(applied[0]?.id ?? 0);
  if (max > known) throw new SchemaTooNewError({ applied: max, known });
}

async function selectIds(store: Store, db: Db): Promise<Set<number>> {
  const rows =
    store.dialect === "sqlite"
      ? ((db as unknown as { all: (q: unknown) => Record<string, unknown>[] }).all(sqlRaw("SELECT id FROM schema_migrations")))
      : ((await (db as unknown as { execute: (q: string) => Promise<{ rows: Record<string, unknown>[] }> }).execute("SELECT id FROM schema_migrations")).rows);
  return new Set(rows.map((r) => Number(r.id)));
}

function sqlRaw(text: string) {
  return sqlTag.raw(text);
}

/** Every table the migrations create must be there: a table dropped out-of-band is refused, not silently re-created. */
async function checkSchema(store: Store): Promise<void> {
  const expected = ["chain_cursors", "block_headers", "wallets", "wallet_addresses", "balance_changes", "utxos", "instance_locks", "transfers", "wallet_states", "chain_health", "provider_health", "header_pins",
    "liability_snapshots", "liability_totals", "liability_accounts", "liability_tree_nodes",
    "full_reads", "silent_changes", "unattributed_changes",
    "checkpoints", "checkpoint_anchors", "live_coverage",
    "alert_incidents", "alerts", "alert_outbox", "alert_sinks",
    "movement_records", "movement_outcomes", "movement_cursors",
    "latest_balances"];
  const rows =
    store.dialect === "sqlite"
      ? await store.raw("SELECT name FROM sqlite_master WHERE type = 'table'")
      : await store.raw("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()");
  const have = new Set(rows.map((r) => String(r.name)));
  const missing = expected.filter((t) => !have.has(t));
  if (missing.length) throw new StoreCorruptError({ target: store.target, problem: `missing table(s) ${missing.join(", ")}` });
  if (store.dialect === "sqlite") {
    const [check] = await store.raw("PRAGMA quick_check");
    const result = check ? String(Object.values(check)[0]) : "no result";
    if (result !== "ok") throw new StoreCorruptError({ target: store.target, problem: `quick_check: ${result}` });
  }
}
