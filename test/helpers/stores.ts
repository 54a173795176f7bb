import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openStore, type Store } from "../../src/store/index.js";

/** The Postgres every machine runs (TESTING.md); each test run uses its own schema. */
export const TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export type StoreKind = "sqlite" | "postgres";
export const STORE_KINDS: StoreKind[] = ["sqlite", "postgres"];

/** Opens a fresh, empty store of the given kind; `dispose` closes it and drops its data. */
export async function openTestStore(kind: StoreKind): Promise<{ store: Store; dispose: () => Promise<void>; params: { sqlitePath?: string; databaseUrl?: string; pgSchema?: string } }> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "backstop-store-"));
    const params = { sqlitePath: join(dir, "backstop.db") };
    const store = await openStore(params);
    return { store, params, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const pgSchema = `t_${randomBytes(6).toString("hex")}`;
  const params = { databaseUrl: TEST_DATABASE_URL, pgSchema };
  const store = await openStore(params);
  return {
    store,
    params,
    dispose: async () => {
      await store.close();
      await dropSchema(pgSchema);
    },
  };
}

/** Drops a test schema. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
