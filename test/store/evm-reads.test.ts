import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadFullReadHeights,
  loadLastFullRead,
  loadSilentChanges,
  loadUnattributedChanges,
  rollbackTo,
  saveBlockIn,
  saveEvmReadsIn,
  saveWallets,
  type Store,
} from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

const chain = "eth";
const hash = (h: number) => `0x${h.toString(16).padStart(64, "0")}`;

describe.each(STORE_KINDS)("EVM read records: full reads, silent and unattributed changes (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let hot: number;
  beforeEach(async () => {
    ({ store, dispose } = await openTestStore(kind));
    [hot] = (await saveWallets(store, [{ chain, label: "hot", kind: "address", address: "0xaa" }])).map((r) => r.id) as [number];
  });
  afterEach(async () => dispose());

  const save = (height: number, p: { fullRead?: boolean; silent?: boolean; unattributed?: boolean }) =>
    store.tx(async (db) => {
      await saveBlockIn(store, db, { block: { chain, height, hash: hash(height), parentHash: hash(height - 1), time: height }, changes: [] });
      await saveEvmReadsIn(store, db, {
        chain,
        height,
        blockHash: hash(height),
        fullRead: p.fullRead ?? false,
        silent: p.silent ? [{ walletId: hot, asset: "REB", carried: 2n ** 70n, observed: 2n ** 70n + 1n, fromHeight: height - 3 }] : [],
        unattributed: p.unattributed ? [{ walletId: hot, asset: "ETH", delta: -(2n ** 65n), candidates: ["0xabc", "0xdef"] }] : [],
      });
    });

  it("stores amounts above 2^64 exactly, reads silent changes by id, and rolls back with their blocks", async () => {
    await save(1, { fullRead: true });
    await save(2, { unattributed: true });
    await save(3, {});
    await save(4, { fullRead: true, silent: true });
    await save(5, { silent: true });
    expect(await loadFullReadHeights(store, { chain })).toEqual([1, 4]);
    expect(await loadLastFullRead(store, { chain, atHeight: 3 })).toBe(1);
    expect(await loadLastFullRead(store, { chain: "other" })).toBeNull();
    const silent = await loadSilentChanges(store, { chain });
    expect(silent.map((x) => [x.height, x.walletId, x.asset, x.carried, x.observed, x.fromHeight, x.blockHash])).toEqual([
      [4, hot, "REB", 2n ** 70n, 2n ** 70n + 1n, 1, hash(4)],
      [5, hot, "REB", 2n ** 70n, 2n ** 70n + 1n, 2, hash(5)],
    ]);
    expect(await loadSilentChanges(store, { sinceId: silent[0]!.id })).toEqual([silent[1]]);
    expect(await loadSilentChanges(store, { chain: "other" })).toEqual([]);
    expect((await loadUnattributedChanges(store, { chain })).map((u) => [u.height, u.delta, u.candidates])).toEqual([[2, -(2n ** 65n), ["0xabc", "0xdef"]]]);

    await rollbackTo(store, { chain, height: 3 });
    expect(await loadFullReadHeights(store, { chain })).toEqual([1]);
    expect(await loadSilentChanges(store)).toEqual([]);
    await rollbackTo(store, { chain, height: 1 });
    expect(await loadUnattributedChanges(store, { chain })).toEqual([]);
  });
});
