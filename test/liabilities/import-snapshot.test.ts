import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSnapshot, type ImportSnapshotParameters } from "../../src/liabilities/import-snapshot.js";
import { loadProof } from "../../src/liabilities/load-proof.js";
import { loadLatestSnapshot, loadSnapshot, loadSnapshots } from "../../src/liabilities/load-snapshot.js";
import { verifyProof } from "../../src/liabilities/verify-proof.js";
import { isBackstopError } from "../../src/lib/errors.js";
import type { Store } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";
import { ASSETS, chunked, MALFORMED } from "./corpus.js";

const NOW = new Date("2026-02-01T00:00:00Z");
const FILE_A = "account_id,asset,amount\nalice,BTC,1.5\nalice,ETH,0.000000000000000001\nbob,BTC,0.25\ncarol,SOL,12\n=cmd,USDC-eth,3.000001\n";
const FILE_B = "account_id,asset,amount\nalice,BTC,1.5\nbob,BTC,0.26\n";

async function countRows(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ["liability_snapshots", "liability_totals", "liability_accounts", "liability_tree_nodes"]) {
    const [r] = await store.raw(`SELECT count(*) AS n FROM ${t}`);
    out[t] = Number(r!.n);
  }
  return out;
}

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    if (!isBackstopError(e)) throw e;
    return e.code;
  }
  return "(no error)";
}

describe.each(STORE_KINDS)("importSnapshot on %s", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  const logLines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void logLines.push(s) });
  const imp = (p: Partial<ImportSnapshotParameters> & { text: string }) =>
    importSnapshot({ store, logger, now: () => NOW }, {
      source: chunked(p.text, 4096), format: p.format ?? "csv", asOf: p.asOf ?? "2026-01-31T23:59:59Z", assets: ASSETS,
      snapshotId: p.snapshotId, rowCount: p.rowCount, controlTotals: p.controlTotals,
    });

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore(kind));
  });
  afterAll(async () => {
    await dispose();
  });

  it("imports a file, reports exact totals, and every account's proof verifies against the root", async () => {
    const r = await imp({ text: FILE_A, rowCount: 5, controlTotals: { BTC: 175_000_000n } });
    expect(r.created).toBe(true);
    expect(r.rowCount).toBe(5);
    expect(r.accountCount).toBe(4);
    expect(r.assets.map((a) => [a.id, a.total, a.totalDisplay])).toEqual([
      ["BTC", 175_000_000n, "1.75"], ["ETH", 1n, "0.000000000000000001"], ["SOL", 12_000_000_000n, "12"], ["USDC-eth", 3_000_001n, "3.000001"],
    ]);
    for (const [id, expected] of [["alice", [150_000_000n, 1n, 0n, 0n]], ["bob", [25_000_000n, 0n, 0n, 0n]], ["carol", [0n, 0n, 12_000_000_000n, 0n]], ["=cmd", [0n, 0n, 0n, 3_000_001n]]] as const) {
      const proof = await loadProof(store, { snapshotId: r.snapshotId, accountId: id });
      expect(proof.accountId).toBe(id);
      const v = verifyProof(JSON.parse(JSON.stringify(proof)), { expectedRoot: r.root });
      expect(v.ok, v.ok ? "" : v.reason).toBe(true);
      if (v.ok) expect(v.balances).toEqual(expected);
    }
    // Lookup is by the normalised key; the proof carries the verbatim id.
    expect((await loadProof(store, { snapshotId: r.snapshotId, accountId: " ALICE " })).accountId).toBe("alice");
  });

  it("re-importing the same file and as-of is a no-op returning the same snapshot", async () => {
    const before = await countRows(store);
    const first = (await loadSnapshots(store))[0]!;
    const again = await imp({ text: FILE_A });
    expect(again.created).toBe(false);
    expect(again.snapshotId).toBe(first.snapshotId);
    expect(again.root).toBe(first.root);
    expect(await countRows(store)).toEqual(before);
  });

  it("refuses the same declared id with different content (SnapshotIdConflict) and the same content under a new id", async () => {
    await imp({ text: FILE_B, snapshotId: "month-end" });
    const before = await countRows(store);
    expect(await codeOf(() => imp({ text: FILE_A, snapshotId: "month-end", asOf: "2026-01-15T00:00:00Z" }))).toBe("LIABILITIES__SNAPSHOT_ID_CONFLICT");
    expect(await codeOf(() => imp({ text: FILE_B, snapshotId: "month-end", asOf: "2026-01-30T00:00:00+01:00" }))).toBe("LIABILITIES__SNAPSHOT_ID_CONFLICT");
    expect(await codeOf(() => imp({ text: FILE_B, snapshotId: "other-name" }))).toBe("LIABILITIES__SNAPSHOT_CONTENT_EXISTS");
    expect((await imp({ text: FILE_B, snapshotId: "month-end" })).created).toBe(false);
    expect(await countRows(store)).toEqual(before);
  });

  it("rejects as-of timestamps without an offset, impossible dates and the future (H3, E9)", async () => {
    const before = await countRows(store);
    for (const asOf of ["2026-01-31T23:59:59", "2026-01-31", "2026-02-30T00:00:00Z", "2026-03-29T02:30:00", "31/01/2026 23:59", "2026-01-31T23:59:59+0100", "2008-12-31T23:59:59Z"]) {
      expect(await codeOf(() => imp({ text: FILE_A, asOf }))).toBe("LIABILITIES__INVALID_AS_OF");
    }
    expect(await codeOf(() => imp({ text: FILE_A, asOf: "2026-02-01T00:02:00Z" }))).toBe("LIABILITIES__AS_OF_IN_FUTURE");
    expect(await codeOf(() => imp({ text: FILE_A, asOf: "2026-02-01T00:59:00+01:00" }))).toBe("(no error)"); // = 23:59 UTC, in the past
    expect((await countRows(store)).liability_snapshots).toBe(before.liability_snapshots! + 1);
  });

  it("keeps an older snapshot imported later as history; it never replaces the latest", async () => {
    const latest = (await loadLatestSnapshot(store))!;
    const old = await imp({ text: FILE_B, asOf: "2025-12-31T23:59:59Z" });
    expect(old.created).toBe(true);
    expect((await loadLatestSnapshot(store))!.snapshotId).toBe(latest.snapshotId);
    expect(await loadSnapshot(store, { snapshotId: old.snapshotId })).toBeDefined();
  });

  it("rejects every malformed file of the corpus with its code and leaves the store unchanged", async () => {
    const before = await countRows(store);
    for (const c of MALFORMED) {
      const code = await codeOf(() => importSnapshot({ store, logger, now: () => NOW }, {
        source: chunked(c.input, 1 << 16), format: c.format ?? "csv", asOf: "2026-01-20T00:00:00Z", assets: ASSETS,
        rowCount: c.rowCount, controlTotals: c.controlTotals,
      }));
      expect(code, c.name).toBe(c.code);
    }
    expect(await countRows(store)).toEqual(before);
  });

  it("reports unknown snapshots and accounts without echoing the account id", async () => {
    expect(await codeOf(() => loadProof(store, { snapshotId: "nope", accountId: "alice" }))).toBe("LIABILITIES__SNAPSHOT_NOT_FOUND");
    const s = (await loadSnapshots(store))[0]!;
    try {
      await loadProof(store, { snapshotId: s.snapshotId, accountId: "mallory-private-id" });
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe("LIABILITIES__ACCOUNT_NOT_FOUND");
      expect((e as Error).message).not.toMatch(/mallory/);
    }
  });

  it("never logs account ids or balances", () => {
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join("");
    for (const secret of ["alice", "bob", "carol", "=cmd", "150000000", "25000000", "1.5", "0.25"]) expect(all).not.toContain(secret);
  });
});
