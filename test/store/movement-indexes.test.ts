import { describe, expect, it } from "vitest";
import { migration0010 } from "../../src/store/migrations/0010-movements.js";
import {
  loadCurrentOutcomeHeadsByNameIn, loadCurrentOutcomesAboveIn, loadCurrentOutcomesByNameIn, loadCurrentOutcomesInRangeIn, loadMovementOutcomes,
  openStore, saveMovementOutcomesIn, type MovementOutcomeInput, type Store,
} from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

// Migration 14 narrows two partial indexes of movement_outcomes (no matched rows in movement_outcomes_open, no
// rows without a height in movement_outcomes_chain_height). A store made before it, holding outcomes under the
// old indexes, migrates; afterwards the matcher's, rollback's and rescan's reads return the same rows.

const base = { severity: "info", recordId: null, kind: null, chain: "btc", asset: "BTC", amount: null, chainAmount: null, fee: null, feeAsset: null, flags: [],
  direction: null, txid: null, height: null, blockHash: null, position: null, walletId: null, counterparty: null, counterpartyWalletId: null, recordTimeMs: null,
  blockTimeMs: null, seenAtMs: null, atMs: 1_000 } satisfies Omit<MovementOutcomeInput, "subject" | "outcome">;
const leg = { direction: "out", height: 3, blockHash: "h3", position: 0, walletId: 1, chainAmount: 5n, blockTimeMs: 900, seenAtMs: 950 } as const;

describe.each(STORE_KINDS)("movement outcome indexes, migration 14 (%s)", (kind) => {
  it("migrates a store with outcomes under the old indexes; pool, rollback and rescan reads return the same rows", async () => {
    const { store, dispose, params } = await openTestStore(kind);
    let migrated: Store | undefined;
    try {
      const old = (kind === "sqlite" ? migration0010.sqlite : migration0010.postgres).filter((s) => /movement_outcomes_(open|chain_height)/.test(s));
      expect(old).toHaveLength(2);
      await store.raw("DROP INDEX movement_outcomes_open");
      await store.raw("DROP INDEX movement_outcomes_chain_height");
      for (const s of old) await store.raw(s);
      await store.raw("DELETE FROM schema_migrations WHERE id = 14");
      await store.tx((db) => saveMovementOutcomesIn(store, db, [
        { ...base, ...leg, subject: "leg:btc:t1:0", outcome: "pending", txid: "t1" },
        { ...base, ...leg, subject: "leg:btc:t2:0", outcome: "unexplained_outflow", txid: "t2", position: 1 },
        { ...base, subject: "record:r1", outcome: "missing_on_chain", recordId: "r1", kind: "withdrawal", amount: 7n, recordTimeMs: 800 },
        { ...base, subject: "record:r2", outcome: "missing_on_chain", recordId: "r2", kind: "withdrawal", amount: 9n, recordTimeMs: 800 },
      ]));
      // r2 is matched later (its missing_on_chain row kept as history): only current rows are read.
      await store.tx((db) => saveMovementOutcomesIn(store, db, [{ ...base, ...leg, subject: "record:r2", outcome: "matched", recordId: "r2", kind: "withdrawal", amount: 9n, txid: "t3", position: 2, height: 4, blockHash: "h4" }]));

      migrated = await openStore(params);
      const s = migrated;
      const defs = kind === "sqlite"
        ? await s.raw("SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' AND name IN ('movement_outcomes_open', 'movement_outcomes_chain_height') ORDER BY name")
        : await s.raw("SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('movement_outcomes_open', 'movement_outcomes_chain_height') ORDER BY indexname");
      expect(defs.map((d) => String(d.name))).toEqual(["movement_outcomes_chain_height", "movement_outcomes_open"]);
      expect(String(defs[0]!.def)).toMatch(/height IS NOT NULL/i);
      expect(String(defs[1]!.def)).toMatch(/<> 'matched'/i);
      expect((await s.raw("SELECT max(id) AS id FROM schema_migrations"))[0]!.id).toSatisfy((v: unknown) => Number(v) === 14);

      await s.tx(async (db) => {
        const pool = await loadCurrentOutcomesByNameIn(s, db, { outcomes: ["pending", "unexplained_outflow"], subjectPrefix: "leg:" });
        expect(pool.map((r) => [r.subject, r.outcome, r.chainAmount])).toEqual([["leg:btc:t1:0", "pending", 5n], ["leg:btc:t2:0", "unexplained_outflow", 5n]]);
        const heads = await loadCurrentOutcomeHeadsByNameIn(s, db, { outcomes: ["missing_on_chain", "reorged", "pending"], subjectPrefix: "record:" });
        expect(heads.map((r) => [r.subject, r.outcome])).toEqual([["record:r1", "missing_on_chain"]]);
        const above = await loadCurrentOutcomesAboveIn(s, db, { chain: "btc", height: 2 });
        expect(above.map((r) => r.subject)).toEqual(["leg:btc:t1:0", "leg:btc:t2:0", "record:r2"]);
        expect((await loadCurrentOutcomesAboveIn(s, db, { chain: "btc", height: 3 })).map((r) => r.subject)).toEqual(["record:r2"]);
        const range = await loadCurrentOutcomesInRangeIn(s, db, { chain: "btc", fromHeight: 3, toHeight: 3 });
        expect(range.map((r) => r.subject).sort()).toEqual(["leg:btc:t1:0", "leg:btc:t2:0"]);
        return undefined;
      });
      expect((await loadMovementOutcomes(s, { currentOnly: true, outcome: "missing_on_chain" })).map((r) => r.subject)).toEqual(["record:r1"]);
      expect((await loadMovementOutcomes(s, { currentOnly: true, outcome: "matched" })).map((r) => [r.subject, r.amount])).toEqual([["record:r2", 9n]]);
      expect((await loadMovementOutcomes(s, { outcome: "missing_on_chain" })).map((r) => [r.subject, r.current])).toEqual([["record:r1", true], ["record:r2", false]]);
    } finally {
      await migrated?.close();
      await dispose();
    }
  });
});
