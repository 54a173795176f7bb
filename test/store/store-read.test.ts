import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, loadCursor, openStore, type Store } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

// Readers (`balances`, `status`, `liabilities list`) run in other processes while an indexer writes:
// a second store on the same database here, as a CLI process would open it.

/** Sets chain c's cursor height through the transaction's own handle (part of that transaction). */
const setHeight = (store: Store, db: Db, height: number) =>
  db.update(store.t.chainCursors).set({ height }).where(eq(store.t.chainCursors.chain, "c"));
const cursor = (store: Store, height: number) => store.tx((db) => setHeight(store, db, height));

describe.each(STORE_KINDS)("store.read on %s: one committed snapshot, never uncommitted rows", (kind) => {
  let writer: Store;
  let reader: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const t = await openTestStore(kind);
    writer = t.store;
    dispose = t.dispose;
    reader = await openStore(t.params);
    await writer.tx((db) => db.insert(writer.t.chainCursors).values({ chain: "c", height: 0, hash: "h", updatedAt: "2026-01-01T00:00:00Z" }));
  });
  afterAll(async () => {
    await reader?.close();
    await dispose?.();
  });

  it("does not see a transaction in progress, nor a commit made after its first read; sees it afterwards", async () => {
    await cursor(writer, 1);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const wrote = new Promise<void>((r) => (inserted = r));
    // The writer's transaction stays open (uncommitted rows) while the reader looks.
    const tx = writer.tx(async (db) => {
      await setHeight(writer, db, 2);
      inserted();
      await held;
    });
    await wrote;
    const during = await reader.read(async (s) => {
      const first = (await loadCursor(s, "c"))!.height;
      release();
      await tx; // committed now, while this snapshot is open
      const again = (await loadCursor(s, "c"))!.height;
      const [raw] = await s.raw("SELECT height FROM chain_cursors WHERE chain = 'c'");
      return { first, again, raw: Number(raw!.height) };
    });
    expect(during).toEqual({ first: 1, again: 1, raw: 1 });
    expect((await loadCursor(reader, "c"))!.height).toBe(2);
  });

  it("takes no write lock: a writer commits while a read snapshot is open", async () => {
    const seen = await reader.read(async (s) => {
      const before = (await loadCursor(s, "c"))!.height;
      await cursor(writer, 7); // would wait on busy_timeout (SQLite) if the reader held the write lock
      return [before, (await loadCursor(s, "c"))!.height];
    });
    expect(seen).toEqual([2, 2]);
    expect((await loadCursor(reader, "c"))!.height).toBe(7);
  });

  it("refuses a write inside a read snapshot, and the store stays usable", async () => {
    await expect(reader.read((s) => s.raw("UPDATE chain_cursors SET height = 8 WHERE chain = 'c'"))).rejects.toThrow(/read.?only/i);
    await expect(reader.read((s) => s.tx(async () => undefined))).rejects.toMatchObject({ code: "STORE__INVARIANT" });
    expect((await loadCursor(writer, "c"))!.height).toBe(7);
    await cursor(reader, 9);
    expect((await loadCursor(writer, "c"))!.height).toBe(9);
  });
});
