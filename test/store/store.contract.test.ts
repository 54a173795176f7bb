import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadBalances,
  loadCursor,
  loadHeaders,
  loadUnspent,
  openStore,
  rollbackTo,
  saveBlock,
  saveWalletAddresses,
  saveWallets,
  type Store,
} from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

const chain = "btc";
const block = (height: number, tag = "a") => ({
  chain,
  height,
  hash: `${tag}${height}`.padEnd(64, "0"),
  parentHash: height === 0 ? "0".repeat(64) : `${height - 1 <= 1 ? "a" : tag}${height - 1}`.padEnd(64, "0"),
  time: 1_700_000_000 + height,
});

describe.each(STORE_KINDS)("store contract (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let walletId: number;
  let addressId: number;

  beforeEach(async () => {
    ({ store, dispose } = await openTestStore(kind));
    const [w] = await saveWallets(store, [{ chain, label: "hot", kind: "address", address: "addr1" }]);
    walletId = w!.id;
    const [a] = await saveWalletAddresses(store, { chain, addresses: [{ walletId, chain, kind: "address", address: "addr1", script: "0014aa" }] });
    addressId = a!.id;
  });
  afterEach(async () => dispose());

  it("stores and sums amounts >= 2^64 exactly", async () => {
    const big = 2n ** 64n + 12345n;
    const huge = 2n ** 255n + 1n; // uint256 range, e.g. wei of a rebasing token
    await saveBlock(store, { block: block(0), changes: [{ walletId, asset: "BTC", txid: "t0", delta: big }] });
    await saveBlock(store, { block: block(1), changes: [{ walletId, asset: "BTC", txid: "t1", delta: big }, { walletId, asset: "TOK", txid: "t1", balance: huge }] });
    const balances = await loadBalances(store, { chain });
    expect(balances.map((b) => [b.asset, b.amount, b.height])).toEqual([
      ["BTC", 2n * big, 1],
      ["TOK", huge, 1],
    ]);
    const raw = await store.raw("SELECT balance_after FROM balance_changes WHERE asset = 'TOK'");
    expect(String(raw[0]!.balance_after)).toBe(huge.toString());
  });

  it("derives delta from absolute balances and reads history at a height", async () => {
    await saveBlock(store, { block: block(0), changes: [{ walletId, asset: "ETH", txid: null, balance: 100n }] });
    await saveBlock(store, { block: block(1), changes: [] });
    await saveBlock(store, { block: block(2), changes: [{ walletId, asset: "ETH", txid: null, balance: 40n }] });
    const rows = await store.raw("SELECT delta, balance_after FROM balance_changes ORDER BY id");
    expect(rows.map((r) => [String(r.delta), String(r.balance_after)])).toEqual([["100", "100"], ["-60", "40"]]);
    expect((await loadBalances(store, { chain, atHeight: 1 }))[0]!.amount).toBe(100n);
    expect((await loadBalances(store, { chain, atHeight: 2 }))[0]!.amount).toBe(40n);
  });

  it("refuses a block that does not extend the cursor, writing nothing", async () => {
    await saveBlock(store, { block: block(0), changes: [] });
    await expect(saveBlock(store, { block: block(2), changes: [{ walletId, asset: "BTC", txid: "x", delta: 5n }] })).rejects.toMatchObject({ code: "STORE__INVARIANT" });
    await expect(saveBlock(store, { block: { ...block(1), parentHash: "f".repeat(64) }, changes: [] })).rejects.toMatchObject({ code: "STORE__INVARIANT" });
    expect(await loadCursor(store, chain)).toMatchObject({ height: 0 });
    expect(await loadHeaders(store, { chain })).toHaveLength(1);
    expect(await loadBalances(store, { chain })).toEqual([]);
  });

  it("applies a block atomically: a failing spend leaves no header, change or cursor move", async () => {
    await saveBlock(store, { block: block(0), changes: [] });
    await expect(
      saveBlock(store, {
        block: block(1),
        changes: [{ walletId, asset: "BTC", txid: "t", delta: -5n }],
        utxos: { created: [], spent: [{ txid: "nope", vout: 0, spentTxid: "t" }] },
      }),
    ).rejects.toMatchObject({ code: "STORE__INVARIANT" });
    expect(await loadCursor(store, chain)).toMatchObject({ height: 0 });
    expect(await loadHeaders(store, { chain })).toHaveLength(1);
    expect(await store.raw("SELECT * FROM balance_changes")).toHaveLength(0);
  });

  it("rolls back changes, UTXOs and spends above a height in one step", async () => {
    const utxo = { txid: "f1", vout: 0, walletId, addressId, script: "0014aa", value: 5000n };
    await saveBlock(store, { block: block(0), changes: [{ walletId, asset: "BTC", txid: "f1", delta: 5000n }], utxos: { created: [utxo], spent: [] } });
    await saveBlock(store, { block: block(1), changes: [{ walletId, asset: "BTC", txid: "s1", delta: -5000n }], utxos: { created: [], spent: [{ txid: "f1", vout: 0, spentTxid: "s1" }] } });
    await saveBlock(store, { block: block(2), changes: [{ walletId, asset: "BTC", txid: "f2", delta: 7n }], utxos: { created: [{ ...utxo, txid: "f2", value: 7n }], spent: [] } });
    expect((await loadUnspent(store, { chain })).map((u) => u.txid)).toEqual(["f2"]);

    await rollbackTo(store, { chain, height: 0 });
    expect(await loadCursor(store, chain)).toMatchObject({ height: 0, hash: block(0).hash });
    expect((await loadUnspent(store, { chain })).map((u) => [u.txid, u.value])).toEqual([["f1", 5000n]]);
    expect((await loadBalances(store, { chain }))[0]!.amount).toBe(5000n);
    // The branch can be re-applied on top.
    await saveBlock(store, { block: block(1, "b"), changes: [] });
    expect(await loadCursor(store, chain)).toMatchObject({ height: 1, hash: block(1, "b").hash });
  });

  it("refuses to re-point a stored wallet label at another address", async () => {
    await expect(saveWallets(store, [{ chain, label: "hot", kind: "address", address: "addr2" }])).rejects.toMatchObject({ code: "STORE__INVARIANT" });
  });
});

describe("store opening", () => {
  it("refuses a schema newer than the binary", async () => {
    const { store, params, dispose } = await openTestStore("sqlite");
    await store.raw("INSERT INTO schema_migrations (id, name, applied_at) VALUES (999, 'future', 'x')");
    await store.close();
    await expect(openStore(params)).rejects.toMatchObject({ code: "STORE__SCHEMA_TOO_NEW" });
    await dispose();
  });

  it("refuses a store whose table was dropped out-of-band instead of re-creating it", async () => {
    const { store, params, dispose } = await openTestStore("sqlite");
    await store.raw("DROP TABLE utxos");
    await store.close();
    await expect(openStore(params)).rejects.toMatchObject({ code: "STORE__CORRUPT" });
    await dispose();
  });
});
