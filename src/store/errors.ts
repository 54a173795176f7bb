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
