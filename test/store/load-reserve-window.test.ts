import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReservesAt, loadReserveWindow, saveBlock, saveWallets, syncWalletStates, type Store } from "../../src/store/index.js";
import { computeReserveWindow } from "../../src/reconcile/compute-reserve-window.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

const hash = (chain: string, h: number) => `${chain}${h}`.padEnd(64, "0");

describe.each(STORE_KINDS)("loadReserveWindow: one range read of a chain's balance changes by height (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  const ids: Record<string, number> = {};
  const BIG = 2n ** 70n;

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore(kind));
    for (const chain of ["btc", "eth"]) {
      const rows = await saveWallets(store, [{ chain, label: `${chain}-a`, kind: "address", address: `${chain}-addr-a` }, { chain, label: `${chain}-b`, kind: "address", address: `${chain}-addr-b` }]);
      for (const r of rows) ids[r.label] = r.id;
      await syncWalletStates(store, { chain, cursorHeight: null, configured: rows.map((r) => ({ walletId: r.id, birthday: null })), pendingReason: () => "x" });
    }
    for (let h = 0; h <= 12; h++) {
      const changes =
        h === 1 ? [{ walletId: ids["btc-a"]!, asset: "BTC", txid: "fund", delta: BIG }, { walletId: ids["btc-b"]!, asset: "BTC", txid: "fund-b", delta: 7n }]
        : h === 5 ? [{ walletId: ids["btc-a"]!, asset: "BTC", txid: "in", delta: BIG }, { walletId: ids["btc-a"]!, asset: "OTHER", txid: "x", delta: 1n }]
        : h === 7 ? [{ walletId: ids["btc-a"]!, asset: "BTC", txid: "out", delta: -BIG }]
        : h === 11 ? [{ walletId: ids["btc-b"]!, asset: "BTC", txid: null, delta: 3n }]
        : [];
      await saveBlock(store, { block: { chain: "btc", height: h, hash: hash("btc", h), parentHash: h === 0 ? "0".repeat(64) : hash("btc", h - 1), time: h }, changes });
      // Another chain's changes at the same heights are never read.
      await saveBlock(store, { block: { chain: "eth", height: h, hash: hash("eth", h), parentHash: h === 0 ? "0".repeat(64) : hash("eth", h - 1), time: h }, changes: [{ walletId: ids["eth-a"]!, asset: "BTC", txid: `e${h}`, delta: 1n }] });
    }
  });
  afterAll(async () => dispose());

  it("returns the changes with from < height <= to, of the assets asked, in (height, id) order, exact above 2^64", async () => {
    const rows = await store.read((q) => loadReserveWindow(q, { chain: "btc", fromHeight: 3, toHeight: 9, assets: ["BTC"] }));
    expect(rows).toEqual([
      { walletId: ids["btc-a"], asset: "BTC", height: 5, txid: "in", delta: BIG, balanceAfter: 2n * BIG },
      { walletId: ids["btc-a"], asset: "BTC", height: 7, txid: "out", delta: -BIG, balanceAfter: BIG },
    ]);
    expect(await store.read((q) => loadReserveWindow(q, { chain: "btc", fromHeight: 5, toHeight: 5, assets: ["BTC"] }))).toEqual([]);
    expect(await store.read((q) => loadReserveWindow(q, { chain: "btc", fromHeight: 0, toHeight: 12, assets: [] }))).toEqual([]);
  });

  it("with loadReservesAt in one snapshot: the window's minimum equals the stored balances at every height", async () => {
    const anchor = 6;
    const W = 5;
    const w = await store.read(async (q) => {
      const at = await loadReservesAt(q, { chain: "btc", height: anchor, assets: ["BTC"] });
      const changes = await loadReserveWindow(q, { chain: "btc", fromHeight: anchor - W, toHeight: anchor + W, assets: ["BTC"] });
      return computeReserveWindow({ anchorHeight: anchor, windowBlocks: W, assets: ["BTC"], anchorBalances: at.balances, changes })["BTC"]!;
    });
    // The brute-force truth: the counted wallets' balance at each height of [1, 11], one height at a time.
    const sums: bigint[] = [];
    for (let h = anchor - W; h <= anchor + W; h++) {
      const r = await store.read((q) => loadReservesAt(q, { chain: "btc", height: h, assets: ["BTC"] }));
      sums.push([...r.balances.values()].reduce((s, m) => s + (m.get("BTC") ?? 0n), 0n));
    }
    expect(w.atAnchor).toBe(2n * BIG + 7n);
    expect(w.min).toBe(sums.reduce((m, v) => (v < m ? v : m)));
    expect(w.min).toBe(BIG + 7n);
    expect(w.minHeight).toBe(1);
    expect(w.riseBefore).toBe(BIG);
    expect(w.dropAfter).toBe(BIG);
    expect(w.inflows.map((m) => m.txid)).toEqual(["in"]);
    expect(w.outflows.map((m) => m.txid)).toEqual(["out"]);
  });
});
