import { BackstopError } from "../lib/errors.js";

/** The database holds migrations this binary does not know (a rollback deploy): refuse to start. */
export class SchemaTooNewError extends BackstopError {
  override name = "SchemaTooNewError";
  constructor(p: { applied: number; known: number }) {
    super("STORE__SCHEMA_TOO_NEW", `The store's schema (migration ${p.applied}) is newer than this Backstop knows (migration ${p.known}).`, {
      meta: ["Run the Backstop version that created it, or restore a backup."],
    });
  }
}

/** The store cannot be opened or reached. */
export class StoreUnavailableError extends BackstopError {
  override name = "StoreUnavailableError";
  constructor(p: { target: string; cause: unknown }) {
    super("STORE__UNAVAILABLE", `Cannot open the store at ${p.target}.`, {
      cause: p.cause,
      meta: [`  ${(p.cause as Error)?.message?.split("\n")[0] ?? String(p.cause)}`],
      retryable: true,
    });
  }
}

/** A write would break a store invariant (e.g. a block that does not extend the cursor). */
export class StoreInvariantError extends BackstopError {
  override name = "StoreInvariantError";
  constructor(p: { message: string; meta?: string[] }) {
    super("STORE__INVARIANT", p.message, { meta: p.meta });
  }
}

/** The store is missing tables or was damaged out-of-band: refuse to start rather than silently re-index. */
export class StoreCorruptError extends BackstopError {
  override name = "StoreCorruptError";
  constructor(p: { target: string; problem: string; cause?: unknown }) {
    super("STORE__CORRUPT", `The store at ${p.target} is damaged: ${p.problem}.`, { cause: p.cause });
  }
}

/** Another Backstop process holds the instance lock (e.g. indexes the same chain into the same store). */
export class InstanceLockHeldError extends BackstopError {
  override name = "InstanceLockHeldError";
  constructor(p: { name: string; pid: number; host: string; heartbeatAgeMs: number; ttlMs: number }) {
    const age = Math.max(0, Math.round(p.heartbeatAgeMs / 1000));
    const left = Math.max(0, Math.ceil((p.ttlMs - p.heartbeatAgeMs) / 1000));
    super("STORE__INSTANCE_LOCK_HELD", `The lock ${p.name} is held by another Backstop (pid ${p.pid} on ${p.host}, last heartbeat ${age} s ago).`, {
      meta: [`Stop that process first. A holder that died stops renewing the lock; it expires ${left} s from now.`],
    });
  }
}

/** This process's instance lock was taken over (it missed heartbeats past the ttl) or deleted: stop writing. */
export class InstanceLockLostError extends BackstopError {
  override name = "InstanceLockLostError";
  constructor(p: { name: string }) {
    super("STORE__INSTANCE_LOCK_LOST", `The lock ${p.name} was taken over by another process; this one stopped writing.`, {
      meta: ["This process missed its heartbeats for longer than the lock's ttl (paused, or the store was unreachable)."],
    });
  }
}

/** A transient database condition: the write was rolled back whole and may be retried as is. */
export class StoreTransientError extends BackstopError {
  override name = "StoreTransientError";
  constructor(p: { code: "STORE__BUSY" | "STORE__FULL" | "STORE__READ_ONLY" | "STORE__CONFLICT"; target: string; cause: unknown }) {
    const what = {
      STORE__BUSY: "is locked by another connection past the busy timeout",
      STORE__FULL: "is out of disk space",
      STORE__READ_ONLY: "is read-only (a replica, or a failover in progress)",
      STORE__CONFLICT: "aborted the transaction (serialization failure or deadlock)",
    }[p.code];
    super(p.code, `The store at ${p.target} ${what}; nothing was written.`, {
      cause: p.cause,
      meta: [`  ${String((p.cause as Error)?.message ?? p.cause).split("\n")[0]}`],
      retryable: true,
    });
  }
}

/** A read ran past its time limit and was cancelled by the database (Postgres statement_timeout). */
export class StoreQueryTimeoutError extends BackstopError {
  override name = "StoreQueryTimeoutError";
  constructor(p: { timeoutMs: number; cause?: unknown }) {
    super("STORE__QUERY_TIMEOUT", `A store read ran past its ${p.timeoutMs} ms limit and was cancelled.`, { cause: p.cause });
  }
}

/** The requested height is above the indexed tip (or below the first indexed block). */
export class NotIndexedError extends BackstopError {
  override name = "NotIndexedError";
  constructor(p: { chain: string; height: number; indexed: number }) {
    super("CLI__NOT_INDEXED", `Height ${p.height} of ${p.chain} is not indexed (indexed tip: ${p.indexed}).`);
  }
}

/** A wallet (label or address) that is not a wallet of the chain. */
export class UnknownWalletError extends BackstopError {
  override name = "UnknownWalletError";
  constructor(p: { chain: string; wallet: string }) {
    super("CLI__UNKNOWN_WALLET", `No wallet "${p.wallet}" on ${p.chain}.`);
  }
}

/** A read as of the chain's latest (or latest final) block, before the chain has one. */
export class NothingIndexedError extends BackstopError {
  override name = "NothingIndexedError";
  constructor(p: { chain: string; finalized: boolean }) {
    super("STORE__NOTHING_INDEXED", p.finalized ? `No block of ${p.chain} is final yet.` : `Nothing of ${p.chain} is indexed yet.`);
  }
}
