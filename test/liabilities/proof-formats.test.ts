import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { loadProof } from "../../src/liabilities/load-proof.js";
import { loadSnapshot } from "../../src/liabilities/load-snapshot.js";
import { type LiabilityProof, verifyProof } from "../../src/liabilities/verify-proof.js";
import { MIGRATIONS } from "../../src/store/migrations/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { dropSchema, STORE_KINDS, type StoreKind, TEST_DATABASE_URL } from "../helpers/stores.js";
import { chunked } from "./corpus.js";

// Item 8 of issue 10: snapshots imported before proof format 2 keep their published (format-1) root
// and keep producing the very proofs they produced then. The fixture is what the format-1 importer
// wrote (store rows and two proofs, test/liabilities/fixtures/v1/); it is loaded into a store at the
// schema of that time, which is then opened (and migrated) by today's code.

const FIXTURES = join(__dirname, "fixtures/v1");
type Fixture = {
  snapshot: Record<string, string | number>;
  totals: Array<Record<string, string | number>>;
  accounts: Array<[number, string, string, string, string]>;
  treeNodes: Array<[number, number, string]>;
};
const fixture = JSON.parse(readFileSync(join(FIXTURES, "store-rows.json"), "utf8")) as Fixture;
const v1Proof = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), "utf8")) as LiabilityProof;
const SNAPSHOT_COLUMNS = ["id", "as_of", "as_of_ms", "format", "content_hash", "identity_hash", "root", "row_count", "account_count",
  "tree_height", "base_level", "assets", "imported_at"];
const BEFORE_FORMAT_2 = MIGRATIONS.filter((m) => m.id < 11);

/** A store at the schema before migration 11 holding the fixture's format-1 snapshot; returns how to open it now. */
async function createV1Store(kind: StoreKind): Promise<{ params: Parameters<typeof openStore>[0]; dispose: () => Promise<void> }> {
  const hex = (h: string) => Buffer.from(h, "hex");
  const rows = {
    snapshot: SNAPSHOT_COLUMNS.map((c) => fixture.snapshot[c]),
    totals: fixture.totals.map((t) => [t.snapshot_id, t.asset, t.position, t.decimals, t.total]),
    accounts: fixture.accounts.map(([leaf, key, id, nonce, bal]) => [fixture.snapshot.id, leaf, key, id, hex(nonce), hex(bal)]),
    nodes: fixture.treeNodes.map(([level, idx, rec]) => [fixture.snapshot.id, level, idx, hex(rec)]),
  };
  const inserts = {
    snapshot: `INSERT INTO liability_snapshots (${SNAPSHOT_COLUMNS.join(", ")}) VALUES (${SNAPSHOT_COLUMNS.map((_, i) => `$${i + 1}`).join(",")})`,
    totals: "INSERT INTO liability_totals (snapshot_id, asset, position, decimals, total) VALUES ($1,$2,$3,$4,$5)",
    accounts: "INSERT INTO liability_accounts (snapshot_id, leaf_index, account_key, account_id, nonce, balances) VALUES ($1,$2,$3,$4,$5,$6)",
    nodes: "INSERT INTO liability_tree_nodes (snapshot_id, level, idx, record) VALUES ($1,$2,$3,$4)",
  };
  const ddl = "CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "backstop-v1-"));
    const db = new Database(join(dir, "backstop.db"));
    db.pragma("journal_mode = WAL");
    db.transaction(() => {
      db.exec(ddl);
      for (const m of BEFORE_FORMAT_2) {
        for (const s of m.sqlite) db.exec(s);
        db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(m.id, m.name, "2026-01-01T00:00:00Z");
      }
      const q = (sql: string) => db.prepare(sql.replace(/\$\d+/g, "?"));
      q(inserts.snapshot).run(...rows.snapshot);
      for (const r of rows.totals) q(inserts.totals).run(...r);
      for (const r of rows.accounts) q(inserts.accounts).run(...r);
      for (const r of rows.nodes) q(inserts.nodes).run(...r);
    })();
    db.close();
    return { params: { sqlitePath: join(dir, "backstop.db") }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path = ${schema}`);
    await client.query("BEGIN");
    await client.query(ddl);
    for (const m of BEFORE_FORMAT_2) {
      for (const s of m.postgres) await client.query(s);
      await client.query("INSERT INTO schema_migrations VALUES ($1, $2, $3)", [m.id, m.name, "2026-01-01T00:00:00Z"]);
    }
    await client.query(inserts.snapshot, rows.snapshot);
    for (const r of rows.totals) await client.query(inserts.totals, r);
    for (const r of rows.accounts) await client.query(inserts.accounts, r);
    for (const r of rows.nodes) await client.query(inserts.nodes, r);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
  return { params: { databaseUrl: TEST_DATABASE_URL, pgSchema: schema }, dispose: () => dropSchema(schema) };
}

describe.each(STORE_KINDS)("proof formats on %s: a format-1 snapshot from before migration 11, then a new import", (kind) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("keeps the old snapshot's root and proofs byte for byte (format 1, labels unverified); new imports are format 2", async () => {
    const v1 = await createV1Store(kind);
    cleanup.push(v1.dispose);
    const store: Store = await openStore(v1.params);
    cleanup.push(() => store.close());
    const id = String(fixture.snapshot.id);
    const old = (await loadSnapshot(store, { snapshotId: id }))!;
    expect(old).toMatchObject({ proofVersion: 1, root: fixture.snapshot.root, accountCount: 1030 });
    for (const [file, account] of [["proof-user-1029.json", "user-1029"], ["proof-zoe-7.json", "zoë-7"]] as const) {
      const proof = await loadProof(store, { snapshotId: id, accountId: account });
      expect(JSON.stringify(proof, null, 2)).toBe(JSON.stringify(v1Proof(file), null, 2)); // what the v1 CLI printed
      expect(verifyProof(proof, { expectedRoot: old.root })).toMatchObject({ ok: true, version: 1, labelsAuthenticated: false, snapshotId: id });
    }

    const csv = "account_id,asset,amount\nalice,BTC,1.5\nbob,BTC,0.25\nbob,USDC-eth,3\n";
    const assets = { BTC: { decimals: 8 }, "USDC-eth": { decimals: 6 } };
    const r = await importSnapshot({ store, now: () => new Date("2026-03-01T00:00:00Z") }, {
      source: chunked(csv, 7), format: "csv", asOf: "2026-02-28T23:59:59Z", assets,
    });
    expect(r.proofVersion).toBe(2);
    expect((await loadSnapshot(store, { snapshotId: r.snapshotId }))!.root).toBe(r.root);
    const proof = await loadProof(store, { snapshotId: r.snapshotId, accountId: "bob" });
    expect(proof.version).toBe(2);
    expect(verifyProof(proof, { expectedRoot: r.root })).toMatchObject({
      ok: true, version: 2, labelsAuthenticated: true, snapshotId: r.snapshotId, asOf: "2026-02-28T23:59:59Z", balances: [25_000_000n, 3_000_000n],
    });
    // The stored root is the one the proofs verify against: relabelled, the new proof fails against it.
    expect(verifyProof({ ...proof, snapshotId: id }, { expectedRoot: r.root }).ok).toBe(false);
  }, 60_000);
});
