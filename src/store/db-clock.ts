import type { Store } from "./open-store.js";

/**
 * SQL for the database's clock in unix ms. Persisted follower times (instance locks, chain health) use the
 * database's clock, not the host's: processes on machines with skewed clocks agree (TESTING.md H5).
 */
export function sqlNowMs(dialect: Store["dialect"]): string {
  return dialect === "sqlite" ? "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)" : "(extract(epoch from clock_timestamp()) * 1000)::bigint";
}

/** The database's clock now, in unix ms. */
export async function loadDbNowMs(store: Store): Promise<number> {
  const [row] = await store.raw(`SELECT ${sqlNowMs(store.dialect)} AS now_ms`);
  return Number(row?.now_ms ?? Date.now());
}
