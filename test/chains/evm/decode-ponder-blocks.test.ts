import { describe, expect, it } from "vitest";
import type { VisibleTransaction } from "../../../src/chains/evm/compute-native-attribution.js";
import { computeBlocksNeedingTransactions, decodePonderBlocks, type PonderBlock } from "../../../src/chains/evm/decode-ponder-blocks.js";

const A = "0x" + "aa".repeat(20);
const B = "0x" + "bb".repeat(20);
const X = "0x" + "ee".repeat(20);
const tx = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const block = (n: number, balances: PonderBlock["balances"], extra: Partial<PonderBlock> = {}): PonderBlock => ({
  number: n,
  hash: `0x${n.toString(16).padStart(64, "0")}`,
  parentHash: `0x${(n - 1).toString(16).padStart(64, "0")}`,
  timestamp: 1_700_000_000 + n,
  fullRead: false,
  transfers: [],
  balances,
  ...extra,
});
const decode = (p: { blocks: PonderBlock[]; last?: Map<string, bigint>; transactions?: Map<number, VisibleTransaction[]>; opening?: boolean; lastFullRead?: number | null }) =>
  decodePonderBlocks({
    chainKey: "eth",
    nativeAsset: "ETH",
    walletIds: new Map([[A, 1], [B, 2]]),
    last: p.last ?? new Map(),
    reads: { lastFullRead: p.lastFullRead ?? null, lastLogAt: new Map() },
    transactions: p.transactions ?? new Map(),
    opening: p.opening ?? false,
    blocks: p.blocks,
  });

describe("decodePonderBlocks: one Ponder page into store rows", () => {
  it("keeps only counted wallets' changed absolute balances, exact above 2^64, and advances the last-seen map", () => {
    const big = (2n ** 64n + 7n).toString();
    const last = new Map<string, bigint>([["1|ETH", 5n]]);
    const out = decode({
      last,
      opening: true,
      blocks: [
        block(10, [{ wallet: A.toUpperCase().replace("0X", "0x"), asset: "ETH", balance: "5" }, { wallet: "0x" + "cc".repeat(20), asset: "ETH", balance: "9" }]),
        block(11, [{ wallet: A, asset: "ETH", balance: big }, { wallet: A, asset: "USDX", balance: "0" }]),
      ],
    });
    expect(out.map((b) => [b.save.block.height, b.save.changes])).toEqual([
      [10, []],
      // No visible transaction explains it: one unattributed change, exact.
      [11, [{ walletId: 1, asset: "ETH", txid: null, delta: 2n ** 64n + 2n, balance: 2n ** 64n + 7n }]],
    ]);
    expect(out[1]!.evm.unattributed).toEqual([{ walletId: 1, asset: "ETH", delta: 2n ** 64n + 2n, candidates: [] }]);
    expect(last.get("1|ETH")).toBe(2n ** 64n + 7n);
    expect([...last.keys()].some((k) => k.startsWith("3|"))).toBe(false);
  });

  it("attributes native value to the visible transactions, names counterparties (custody ones by id) and leaves the gas unattributed", () => {
    const last = new Map([["1|ETH", 10_000n], ["2|ETH", 0n]]);
    const txs: VisibleTransaction[] = [
      { hash: tx(1), index: 0, from: A, to: B, value: 3_000n, maxFee: 500n },
      { hash: tx(2), index: 1, from: X, to: A, value: 1_000n, maxFee: 500n },
    ];
    // A: -3000 + 1000 - 210 gas = 7790; B: +3000.
    const out = decode({ last, transactions: new Map([[12, txs]]), blocks: [block(12, [{ wallet: A, asset: "ETH", balance: "7790" }, { wallet: B, asset: "ETH", balance: "3000" }])] });
    const b = out[0]!;
    expect(b.save.changes).toEqual([
      { walletId: 1, asset: "ETH", txid: tx(1), delta: -3_000n },
      { walletId: 1, asset: "ETH", txid: tx(2), delta: 1_000n },
      { walletId: 1, asset: "ETH", txid: null, delta: -210n, balance: 7_790n },
      { walletId: 2, asset: "ETH", txid: tx(1), delta: 3_000n, balance: 3_000n },
    ]);
    expect(b.save.transfers!.map((t) => [t.walletId, t.txid, t.direction, t.amount, t.counterparty, t.counterpartyWalletId])).toEqual([
      [1, tx(1), "out", 3_000n, B, 2],
      [2, tx(1), "in", 3_000n, A, 1],
      [1, tx(2), "in", 1_000n, X, null],
    ]);
    expect(b.evm.unattributed).toEqual([{ walletId: 1, asset: "ETH", delta: -210n, candidates: [tx(1)] }]);
    expect(computeBlocksNeedingTransactions({ blocks: [block(12, [{ wallet: A, asset: "ETH", balance: "1" }]), block(13, [])], nativeAsset: "ETH", walletIds: new Map([[A, 1]]) })).toEqual([12]);
  });

  it("does not guess when the visible transactions do not explain the change (a failed transaction: its value never moved)", () => {
    const last = new Map([["1|ETH", 10_000n]]);
    const txs: VisibleTransaction[] = [{ hash: tx(3), index: 0, from: A, to: X, value: 5_000n, maxFee: 400n }];
    const out = decode({ last, transactions: new Map([[12, txs]]), blocks: [block(12, [{ wallet: A, asset: "ETH", balance: "9700" }])] });
    expect(out[0]!.save.changes).toEqual([{ walletId: 1, asset: "ETH", txid: null, delta: -300n, balance: 9_700n }]);
    expect(out[0]!.save.transfers).toEqual([]);
    expect(out[0]!.evm.unattributed).toEqual([{ walletId: 1, asset: "ETH", delta: -300n, candidates: [tx(3)] }]);
  });

  it("names each token change's Transfer log and counterparty; a full read that differs is a silent change dated from the pair's previous read", () => {
    const last = new Map([["1|USDX", 100n], ["1|REB", 50n]]);
    const out = decode({
      last,
      lastFullRead: 20,
      blocks: [
        block(21, [{ wallet: A, asset: "USDX", balance: "70" }], { transfers: [{ logIndex: 4, txHash: tx(9), asset: "USDX", from: A, to: X, amount: "30" }] }),
        block(24, [{ wallet: A, asset: "REB", balance: "55" }], { fullRead: true }),
        // A log that does not add up (fee-on-transfer, or a rebase since the last read): the rest is silent.
        block(25, [{ wallet: A, asset: "USDX", balance: "79" }], { transfers: [{ logIndex: 0, txHash: tx(10), asset: "USDX", from: X, to: A, amount: "10" }] }),
      ],
    });
    expect(out[0]!.save.changes).toEqual([{ walletId: 1, asset: "USDX", txid: tx(9), delta: -30n, balance: 70n }]);
    expect(out[0]!.save.transfers!.map((t) => [t.txid, t.direction, t.amount, t.counterparty, t.position])).toEqual([[tx(9), "out", 30n, X, 8]]);
    expect(out[0]!.evm.silent).toEqual([]);
    expect(out[1]!.save.changes).toEqual([{ walletId: 1, asset: "REB", txid: null, delta: 5n, balance: 55n }]);
    expect(out[1]!.evm).toEqual({ fullRead: true, silent: [{ walletId: 1, asset: "REB", carried: 50n, observed: 55n, fromHeight: 21 }], unattributed: [] });
    expect(out[2]!.save.changes).toEqual([
      { walletId: 1, asset: "USDX", txid: tx(10), delta: 10n },
      { walletId: 1, asset: "USDX", txid: null, delta: -1n, balance: 79n },
    ]);
    // Previous reads of the pair: the log block 21 and the full read 24.
    expect(out[2]!.evm.silent).toEqual([{ walletId: 1, asset: "USDX", carried: 80n, observed: 79n, fromHeight: 25 }]);
  });
});
