import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  addBlockEventSink,
  loadCursor,
  loadTransfers,
  rollbackTo,
  saveBlock,
  saveWallets,
  type BlockAppliedEvent,
  type BlocksRolledBackEvent,
  type Store,
} from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

const chain = "eth";
const block = (height: number, tag = "a") => ({
  chain,
  height,
  hash: `${tag}${height}`.padEnd(64, "0"),
  parentHash: height === 0 ? "0".repeat(64) : `${height - 1 <= 1 ? "a" : tag}${height - 1}`.padEnd(64, "0"),
  time: 1_700_000_000 + height,
});

describe.each(STORE_KINDS)("transfer legs and block-event sinks (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let hot: number;
  let cold: number;

  beforeEach(async () => {
    ({ store, dispose } = await openTestStore(kind));
    const rows = await saveWallets(store, [
      { chain, label: "hot", kind: "address", address: "0xaa" },
      { chain, label: "cold", kind: "address", address: "0xbb" },
    ]);
    [hot, cold] = rows.map((r) => r.id) as [number, number];
  });
  afterEach(async () => dispose());

  it("stores transfer legs exactly with their block and deletes them with it on rollback", async () => {
    const big = 2n ** 200n + 7n;
    await saveBlock(store, { block: block(0), changes: [{ walletId: hot, asset: "ETH", txid: null, balance: big }] });
    await saveBlock(store, {
      block: block(1),
      changes: [{ walletId: hot, asset: "ETH", txid: "0x01", delta: -(big / 2n) - 21n }, { walletId: cold, asset: "ETH", txid: "0x01", delta: big / 4n }],
      transfers: [
        { walletId: hot, asset: "ETH", txid: "0x01", position: 0, direction: "out", amount: big / 4n, counterparty: "0xbb", counterpartyWalletId: cold },
        { walletId: hot, asset: "ETH", txid: "0x01", position: 1, direction: "out", amount: big / 4n, counterparty: "0xcc" },
        { walletId: hot, asset: "ETH", txid: "0x01", position: 2, direction: "fee", amount: 21n, counterparty: null },
        { walletId: cold, asset: "ETH", txid: "0x01", position: 3, direction: "in", amount: big / 4n, counterparty: "0xaa", counterpartyWalletId: hot },
      ],
    });
    const legs = await loadTransfers(store, { chain });
    expect(legs.map((l) => [l.height, l.position, l.direction, l.amount, l.counterparty, l.counterpartyWalletId])).toEqual([
      [1, 0, "out", big / 4n, "0xbb", cold],
      [1, 1, "out", big / 4n, "0xcc", null],
      [1, 2, "fee", 21n, null, null],
      [1, 3, "in", big / 4n, "0xaa", hot],
    ]);
    expect((await loadTransfers(store, { chain, txid: "0x01", fromHeight: 1, toHeight: 1 })).length).toBe(4);
    await rollbackTo(store, { chain, height: 0 });
    expect(await loadTransfers(store, { chain })).toEqual([]);
  });

  it("refuses a non-positive transfer amount and writes nothing of the block", async () => {
    await saveBlock(store, { block: block(0), changes: [] });
    await expect(
      saveBlock(store, { block: block(1), changes: [{ walletId: hot, asset: "ETH", txid: "0x02", delta: 5n }], transfers: [{ walletId: hot, asset: "ETH", txid: "0x02", position: 0, direction: "in", amount: 0n, counterparty: null }] }),
    ).rejects.toMatchObject({ code: "STORE__INVARIANT" });
    expect((await loadCursor(store, chain))?.height).toBe(0);
    expect(await store.raw("SELECT * FROM balance_changes")).toEqual([]);
  });

  it("calls sinks inside the block's transaction: their writes commit with the block and roll back with a failed one", async () => {
    await store.raw("CREATE TABLE sink_log (chain TEXT NOT NULL, height INTEGER NOT NULL, kind TEXT NOT NULL)");
    const applied: BlockAppliedEvent[] = [];
    const rolled: BlocksRolledBackEvent[] = [];
    let failAt = -1;
    const remove = addBlockEventSink(store, {
      name: "test",
      async onBlockApplied(db, s, e) {
        applied.push(e);
        await (s.dialect === "sqlite"
          ? (db as unknown as { run: (q: unknown) => unknown }).run(sqlInsert(e.chain, e.block.height, "applied"))
          : (db as unknown as { execute: (q: unknown) => Promise<unknown> }).execute(sqlInsert(e.chain, e.block.height, "applied")));
        if (e.block.height === failAt) throw new Error("sink refuses this block");
      },
      async onBlocksRolledBack(db, s, e) {
        rolled.push(e);
        const q = sqlInsert(e.chain, e.toHeight, "rolled");
        await (s.dialect === "sqlite" ? (db as unknown as { run: (q: unknown) => unknown }).run(q) : (db as unknown as { execute: (q: unknown) => Promise<unknown> }).execute(q));
      },
    });
    await saveBlock(store, { block: block(0), changes: [{ walletId: hot, asset: "ETH", txid: null, balance: 10n }], finalizedHeight: 0 });
    await saveBlock(store, { block: block(1), changes: [{ walletId: hot, asset: "ETH", txid: "0x03", balance: 4n }], finalizedHeight: 0 });
    failAt = 2;
    await expect(saveBlock(store, { block: block(2), changes: [] })).rejects.toThrow("sink refuses this block");
    expect((await loadCursor(store, chain))?.height).toBe(1);
    expect(applied.map((e) => [e.block.height, e.first, e.changes.map((c) => [c.delta, c.balanceAfter]), e.finalizedBefore, e.finalizedAfter])).toEqual([
      [0, true, [[10n, 10n]], null, 0],
      [1, false, [[-6n, 4n]], 0, 0],
      [2, false, [], 0, 0],
    ]);
    await rollbackTo(store, { chain, height: 0 });
    expect(rolled.map((e) => [e.fromHeight, e.toHeight, e.removed.map((h) => h.height)])).toEqual([[1, 0, [1]]]);
    const log = await store.raw("SELECT height, kind FROM sink_log ORDER BY height, kind");
    expect(log.map((r) => [Number(r.height), r.kind])).toEqual([[0, "applied"], [0, "rolled"], [1, "applied"]]);
    remove();
    await saveBlock(store, { block: block(1, "b"), changes: [] });
    expect(applied.length).toBe(3);
  });
});

function sqlInsert(chain: string, height: number, kind: string) {
  return sql.raw(`INSERT INTO sink_log (chain, height, kind) VALUES ('${chain}', ${height}, '${kind}')`);
}
