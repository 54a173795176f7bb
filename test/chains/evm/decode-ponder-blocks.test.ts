import { describe, expect, it } from "vitest";
import { decodePonderBlocks } from "../../../src/chains/evm/decode-ponder-blocks.js";

const block = (n: number, balances: Array<{ wallet: string; asset: string; balance: string }>) => ({
  number: n,
  hash: `0x${n.toString(16).padStart(64, "0")}`,
  parentHash: `0x${(n - 1).toString(16).padStart(64, "0")}`,
  timestamp: 1_700_000_000 + n,
  balances,
});

describe("decodePonderBlocks: one Ponder page into store rows", () => {
  it("keeps only counted wallets' changed absolute balances, exact above 2^64, and advances the last-seen map", () => {
    const big = (2n ** 64n + 7n).toString();
    const last = new Map<string, bigint>([["1|ETH", 5n]]);
    const walletIds = new Map([["0xaaaa", 1]]); // 0xbbbb is pending (or removed): not mirrored
    const out = decodePonderBlocks({
      chainKey: "eth",
      walletIds,
      last,
      blocks: [
        block(10, [{ wallet: "0xAAAA", asset: "ETH", balance: "5" }, { wallet: "0xbbbb", asset: "ETH", balance: "9" }]),
        block(11, [{ wallet: "0xaaaa", asset: "ETH", balance: big }, { wallet: "0xaaaa", asset: "USDX", balance: "0" }]),
      ],
    });
    expect(out.map((b) => [b.save.block.height, b.save.changes])).toEqual([
      [10, []],
      [11, [{ walletId: 1, asset: "ETH", txid: null, balance: 2n ** 64n + 7n }]],
    ]);
    expect(last.get("1|ETH")).toBe(2n ** 64n + 7n);
    expect([...last.keys()].some((k) => k.startsWith("2|"))).toBe(false);
  });
});
