import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCursor, saveBlock, type Store } from "../../src/store/index.js";
import { openTestStore } from "../helpers/stores.js";

// openStore caches prepared statements by SQL text on SQLite. drizzle switches a
// statement to raw (array) rows for mapped selects; the cache must hand it back in
// object mode to the next user of the same SQL text.
describe("SQLite prepared-statement cache", () => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ store, dispose } = await openTestStore("sqlite")));
  afterEach(async () => dispose());

  it("returns object rows after drizzle used the same statement in raw mode", async () => {
    await saveBlock(store, { block: { chain: "btc", height: 0, hash: "a".repeat(64), parentHash: "0".repeat(64), time: 1 }, changes: [] });
    const q = store.db.select().from(store.t.chainCursors).where(eq(store.t.chainCursors.chain, "btc")).limit(1);
    const { sql, params } = q.toSQL();
    expect(await loadCursor(store, "btc")).toMatchObject({ height: 0 }); // drizzle: raw mode
    const rows = await store.raw(sql, params as unknown[]); // same SQL text, object rows expected
    expect(rows).toEqual([expect.objectContaining({ chain: "btc", height: 0, hash: "a".repeat(64) })]);
    expect(await q).toEqual([expect.objectContaining({ chain: "btc", height: 0 })]); // and back to drizzle
  });
});
