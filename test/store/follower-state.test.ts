// The follower's store state (migration 5) on SQLite and Postgres: wallet states and their one read model,
// a wallet backfill written whole or not at all, chain and provider health, header pins and pruning.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  computeWalletCounted,
  loadBalances,
  loadChainHealth,
  loadFirstHeight,
  loadHeaderPins,
  loadHeaders,
  loadWalletStates,
  pruneHeadersIn,
  rollbackTo,
  saveBlock,
  saveChainHealth,
  saveHeaderPin,
  saveProviderHealth,
  saveWalletBackfill,
  saveWallets,
  syncWalletStates,
  type Store,
} from "../../src/store/index.js";
import { testBlock } from "../helpers/blocks.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

const chain = "btc";

describe.each(STORE_KINDS)("follower state in the store (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ store, dispose } = await openTestStore(kind));
  });
  afterEach(async () => dispose());

  const wallets = (labels: string[]) => saveWallets(store, labels.map((label) => ({ chain, label, kind: "address" as const, address: `addr-${label}` })));
  const reason = ({ readded }: { readded: boolean }) => (readded ? "re-added" : "added later");

  it("wallet states: active on a new chain, pending when added later, removed at the cursor, pending again when re-added", async () => {
    const [a] = await wallets(["a"]);
    let states = await syncWalletStates(store, { chain, cursorHeight: null, configured: [{ walletId: a!.id, birthday: null }], pendingReason: reason });
    expect(states.map((w) => [w.label, w.state, w.source, w.exactFrom])).toEqual([["a", "active", "indexed", null]]);
    for (let h = 0; h <= 5; h++) await saveBlock(store, { block: testBlock(chain, h), changes: h === 2 ? [{ walletId: a!.id, asset: "BTC", txid: "t2", delta: 7n }] : [] });

    const [, b] = await wallets(["a", "b"]);
    states = await syncWalletStates(store, { chain, cursorHeight: 5, configured: [{ walletId: a!.id, birthday: null }, { walletId: b!.id, birthday: 1 }], pendingReason: reason });
    expect(states.find((w) => w.label === "b")).toMatchObject({ state: "pending", reason: "added later", birthday: 1 });

    states = await syncWalletStates(store, { chain, cursorHeight: 5, configured: [{ walletId: b!.id, birthday: 1 }], pendingReason: reason });
    expect(states.find((w) => w.label === "a")).toMatchObject({ state: "removed", removedHeight: 5, reason: "removed from the config at height 5" });
    const at = async (h: number) => (await loadWalletStates(store, { chain, atHeight: h })).find((w) => w.label === "a")!;
    expect(await at(5)).toMatchObject({ counted: true });
    expect(await at(6)).toMatchObject({ counted: false, countedReason: "removed from the config at height 5" });
    expect((await loadBalances(store, { chain, atHeight: 5 })).map((x) => [x.label, x.amount])).toEqual([["a", 7n]]);

    // A rollback below the removal height shortens the removed wallet's tracked history.
    await rollbackTo(store, { chain, height: 3 });
    expect(await at(4)).toMatchObject({ removedHeight: 3, counted: false });

    states = await syncWalletStates(store, { chain, cursorHeight: 3, configured: [{ walletId: a!.id, birthday: null }, { walletId: b!.id, birthday: 1 }], pendingReason: reason });
    expect(states.find((w) => w.label === "a")).toMatchObject({ state: "pending", reason: "re-added" });
    expect(computeWalletCounted({ state: "active", reason: null, exactFrom: 10, removedHeight: null, source: "baseline" }, 9)).toEqual({ counted: false, reason: "height 9 is before the wallet's exact history: its balances were read at 10 (a baseline)" });
  });

  it("a stored wallet the follower never saw and the config no longer lists is removed (not pending) in the read model", async () => {
    const [a, ghost] = await wallets(["a", "ghost"]);
    const states = await syncWalletStates(store, { chain, cursorHeight: null, configured: [{ walletId: a!.id, birthday: null }], pendingReason: reason });
    expect(states.find((w) => w.label === "ghost")).toMatchObject({ state: "removed", removedHeight: -1, reason: "removed from the config before the chain's follower saw it" });
    expect((await loadWalletStates(store, { chain, atHeight: 0 })).find((w) => w.walletId === ghost!.id)).toMatchObject({ counted: false });
    // Configured again later: pending (it needs a backfill), like any re-added wallet.
    for (let h = 0; h <= 2; h++) await saveBlock(store, { block: testBlock(chain, h), changes: [] });
    const again = await syncWalletStates(store, { chain, cursorHeight: 2, configured: [{ walletId: a!.id, birthday: null }, { walletId: ghost!.id, birthday: 0 }], pendingReason: reason });
    expect(again.find((w) => w.label === "ghost")).toMatchObject({ state: "pending", reason: "re-added" });
  });

  it("a backfill: exact running balances at their true heights, with the activation, in one transaction; refused whole when the cursor moved", async () => {
    const [a, b] = await wallets(["a", "b"]);
    await syncWalletStates(store, { chain, cursorHeight: null, configured: [{ walletId: a!.id, birthday: null }], pendingReason: reason });
    for (let h = 0; h <= 6; h++) await saveBlock(store, { block: testBlock(chain, h), changes: [] });
    await syncWalletStates(store, { chain, cursorHeight: 6, configured: [{ walletId: a!.id, birthday: null }, { walletId: b!.id, birthday: 2 }], pendingReason: reason });
    const big = 2n ** 64n + 1n;
    const changes = [
      { height: 2, blockHash: testBlock(chain, 2).hash, txid: "x", asset: "BTC", delta: big },
      { height: 4, blockHash: testBlock(chain, 4).hash, txid: "y", asset: "BTC", delta: -1n },
    ];
    const before = await store.db.select().from(store.t.balanceChanges);
    // Computed against a cursor the chain has left: nothing written, still pending.
    await expect(saveWalletBackfill(store, { chain, walletId: b!.id, expectCursor: { height: 5, hash: testBlock(chain, 5).hash }, exactFrom: 2, source: "rescan", changes })).rejects.toMatchObject({ code: "STORE__INVARIANT" });
    await expect(saveWalletBackfill(store, { chain, walletId: b!.id, expectCursor: { height: 6, hash: testBlock(chain, 6).hash }, exactFrom: 2, source: "rescan", changes: [...changes, { ...changes[0]!, height: 7 }] })).rejects.toMatchObject({ code: "STORE__INVARIANT" });
    expect(await store.db.select().from(store.t.balanceChanges)).toEqual(before);
    expect((await loadWalletStates(store, { chain })).find((w) => w.label === "b")!.state).toBe("pending");

    await saveWalletBackfill(store, { chain, walletId: b!.id, expectCursor: { height: 6, hash: testBlock(chain, 6).hash }, exactFrom: 2, source: "rescan", changes });
    const bal = async (h: number) => (await loadBalances(store, { chain, atHeight: h, walletId: b!.id }))[0]?.amount ?? 0n;
    expect([await bal(1), await bal(2), await bal(3), await bal(4), await bal(6)]).toEqual([0n, big, big, big - 1n, big - 1n]);
    expect((await loadWalletStates(store, { chain })).find((w) => w.label === "b")).toMatchObject({ state: "active", source: "rescan", exactFrom: 2, activeHeight: 6 });
    // Blocks after the backfill extend its rows.
    await saveBlock(store, { block: testBlock(chain, 7), changes: [{ walletId: b!.id, asset: "BTC", txid: "z", delta: 1n }] });
    expect(await bal(7)).toBe(big);
  });

  it("chain and provider health: partial upserts, reorg counts, last error kept, lagging since kept until cleared", async () => {
    await saveChainHealth(store, { chain, state: "catching_up", provider: "a:1", node: { tip: 10, finalized: 5 } });
    await saveChainHealth(store, { chain, indexedHeight: 8, blockStored: true, reorgDepth: 2 });
    await saveChainHealth(store, { chain, state: "paused", error: { code: "RPC__UNAVAILABLE", message: "down" }, reorgDepth: 1 });
    await saveChainHealth(store, { chain, state: "following" });
    await saveProviderHealth(store, { chain, host: "b:2", tip: 3, lagging: true });
    await saveProviderHealth(store, { chain, host: "b:2", tip: 4, lagging: true });
    await saveProviderHealth(store, { chain, host: "c:3", disagreement: { height: 5, hash: "ff", expected: "ee" } });
    const [h] = await loadChainHealth(store);
    expect(h).toMatchObject({
      chain,
      state: "following",
      provider: "a:1",
      nodeTip: 10,
      nodeFinalized: 5,
      nodeSafe: null,
      indexedHeight: 8,
      reorgCount: 2,
      lastReorgDepth: 1,
      lastError: { code: "RPC__UNAVAILABLE", message: "down" },
    });
    expect(h!.nodeReadAgeMs).toBeGreaterThanOrEqual(0);
    expect(h!.providers.map((x) => [x.host, x.lastTip, x.laggingForMs !== null, x.disagreement?.height ?? null])).toEqual([["b:2", 4, true, null], ["c:3", null, false, 5]]);
    await saveProviderHealth(store, { chain, host: "b:2", lagging: false });
    expect((await loadChainHealth(store, { chain }))[0]!.providers[0]!.laggingForMs).toBeNull();
  });

  it("header pins: the first block and anchors survive pruning; a rollback below the first block drops its pin", async () => {
    for (let h = 10; h <= 30; h++) await saveBlock(store, { block: testBlock(chain, h), changes: [] });
    await saveHeaderPin(store, { chain, height: 14, reason: "checkpoint" });
    await store.tx((db) => pruneHeadersIn(store, db, { chain, below: 25 }));
    expect((await loadHeaders(store, { chain, limit: 100 })).map((h) => h.height).reverse()).toEqual([10, 14, 25, 26, 27, 28, 29, 30]);
    expect(await loadFirstHeight(store, { chain })).toBe(10);
    await rollbackTo(store, { chain, height: 9 });
    expect(await loadHeaderPins(store, { chain })).toEqual([{ height: 14, reason: "checkpoint" }]);
    expect(await loadFirstHeight(store, { chain })).toBeUndefined();
  });
});
