import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadBalances, loadCursor, loadUnspent, saveBlock, saveWalletAddresses, saveWallets, type Store } from "../../src/store/index.js";
import { testBlock } from "../helpers/blocks.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

const chain = "btc";
const block = (height: number) => testBlock(chain, height, "h");

// saveBlock reads the previous balance of every (wallet, asset) a block touches in one
// statement per 200 pairs: check many pairs, repeated pairs, history and huge amounts.
describe.each(STORE_KINDS)("saveBlock batched statements (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let ids: number[];

  beforeEach(async () => {
    ({ store, dispose } = await openTestStore(kind));
    const wallets = await saveWallets(store, Array.from({ length: 130 }, (_, i) => ({ chain, label: `w${i}`, kind: "address" as const, address: `a${i}` })));
    ids = wallets.map((w) => w.id);
  });
  afterEach(async () => dispose());

  it("seeds each running balance from its own last row, across more pairs than one statement holds", async () => {
    const big = 2n ** 70n;
    const expected = new Map<string, bigint>();
    const add = (walletId: number, asset: string, delta: bigint) => {
      const k = `${walletId}:${asset}`;
      expected.set(k, (expected.get(k) ?? 0n) + delta);
    };
    for (let h = 0; h < 4; h++) {
      const changes = [];
      // 130 wallets x 2 assets = 260 pairs (> 200 per statement); wallet w gets w+h and twice in a block for some.
      for (const [i, walletId] of ids.entries()) {
        for (const asset of ["BTC", "TOK"]) {
          if ((i + h) % 3 === 0 && h > 0) continue; // some pairs skip a block: their last row is older
          const delta = asset === "TOK" ? big + BigInt(i * 10 + h) : BigInt(i * 10 + h + 1);
          changes.push({ walletId, asset, txid: `t${h}-${i}`, delta });
          add(walletId, asset, delta);
          if (i % 7 === 0) {
            changes.push({ walletId, asset, txid: `u${h}-${i}`, delta: -1n });
            add(walletId, asset, -1n);
          }
        }
      }
      await saveBlock(store, { block: block(h), changes });
    }
    const balances = await loadBalances(store, { chain });
    expect(balances).toHaveLength(260);
    for (const b of balances) expect([b.walletId, b.asset, b.amount]).toEqual([b.walletId, b.asset, expected.get(`${b.walletId}:${b.asset}`)]);
    // Every stored balance_after equals the running sum of its deltas.
    const rows = await store.raw("SELECT wallet_id, asset, delta, balance_after FROM balance_changes ORDER BY id");
    const running = new Map<string, bigint>();
    for (const r of rows) {
      const k = `${Number(r.wallet_id)}:${String(r.asset)}`;
      const after = (running.get(k) ?? 0n) + BigInt(String(r.delta));
      running.set(k, after);
      expect(BigInt(String(r.balance_after))).toBe(after);
    }
  });

  it("spends more outputs than one statement holds, and rejects a duplicate or unknown outpoint whole", async () => {
    const [addr] = await saveWalletAddresses(store, { chain, addresses: [{ walletId: ids[0]!, chain, kind: "address", address: "a0", script: "0014aa" }] });
    const created = Array.from({ length: 450 }, (_, i) => ({ txid: `f${i}`, vout: i % 3, walletId: ids[0]!, addressId: addr!.id, script: "0014aa", value: 1000n + BigInt(i) }));
    await saveBlock(store, { block: block(0), changes: [{ walletId: ids[0]!, asset: "BTC", txid: "f", delta: 1n }], utxos: { created, spent: [] } });
    const spend = (from: number, to: number) => created.slice(from, to).map((u) => ({ txid: u.txid, vout: u.vout, spentTxid: `s-${u.txid}` }));

    for (const bad of [[...spend(0, 5), spend(2, 3)[0]!], [...spend(0, 5), { txid: "nope", vout: 0, spentTxid: "s" }]]) {
      await expect(saveBlock(store, { block: block(1), changes: [], utxos: { created: [], spent: bad } })).rejects.toMatchObject({ code: "STORE__INVARIANT" });
      expect(await loadCursor(store, chain)).toMatchObject({ height: 0 });
      expect(await loadUnspent(store, { chain })).toHaveLength(450);
    }
    await saveBlock(store, { block: block(1), changes: [], utxos: { created: [], spent: spend(0, 440) } });
    expect((await loadUnspent(store, { chain })).map((u) => u.txid).sort()).toEqual(created.slice(440).map((u) => u.txid).sort());
    const rows = await store.raw("SELECT txid, spent_txid, spent_height FROM utxos WHERE spent_height IS NOT NULL");
    expect(rows).toHaveLength(440);
    for (const r of rows) expect([r.spent_txid, Number(r.spent_height)]).toEqual([`s-${String(r.txid)}`, 1]);
  });
});
