import { describe, expect, it } from "vitest";
import { buildCheckpointDocument, type ChainReserves } from "../../src/reconcile/build-checkpoint-document.js";
import { checkWindowFigures } from "../../src/reconcile/check-window-figures.js";
import { computeReserveWindow } from "../../src/reconcile/compute-reserve-window.js";

const BTC = 100_000_000n;
const change = (walletId: number, height: number, delta: bigint, txid = `t${height}`) => ({ walletId, asset: "BTC", height, txid, delta });

describe("computeReserveWindow (pure)", () => {
  // Wallet 1 holds 10 BTC at the anchor (100); wallet 2 holds 5; wallet 3 is not counted.
  const anchorBalances = new Map([[1, new Map([["BTC", 10n * BTC]])], [2, new Map([["BTC", 5n * BTC]])]]);

  it("an inflow just before the anchor and an outflow just after it: the rise, the drop, the minimum and the moves", () => {
    const changes = [change(1, 98, 4n * BTC, "in"), change(3, 99, 100n * BTC), change(2, 100, -1n * BTC, "fee"), change(1, 101, -4n * BTC, "out"), change(2, 103, 2n * BTC)];
    const w = computeReserveWindow({ anchorHeight: 100, windowBlocks: 3, assets: ["BTC"], anchorBalances, changes })["BTC"]!;
    // Heights 97..103: 97: 15 - 4 + 1 = 12 BTC; 98: 16; 100: 15 (anchor); 101: 11; 103: 13.
    expect(w.atAnchor).toBe(15n * BTC);
    expect(w.min).toBe(11n * BTC);
    expect(w.minHeight).toBe(101);
    expect(w.riseBefore).toBe(3n * BTC); // 15 at the anchor, 12 at 97
    expect(w.dropAfter).toBe(4n * BTC); // 15 at the anchor, 11 at 101
    expect(w.inflows).toEqual([{ walletId: 1, height: 98, txid: "in", amount: 4n * BTC }]);
    expect(w.outflows).toEqual([{ walletId: 1, height: 101, txid: "out", amount: 4n * BTC }]);
  });

  it("changes outside the window do not count; a window of 0 blocks is the anchor alone", () => {
    const changes = [change(1, 96, 4n * BTC), change(1, 104, -4n * BTC)];
    expect(computeReserveWindow({ anchorHeight: 100, windowBlocks: 3, assets: ["BTC"], anchorBalances, changes })["BTC"]).toEqual({
      atAnchor: 15n * BTC, min: 15n * BTC, minHeight: 97, riseBefore: 0n, dropAfter: 0n, inflows: [], outflows: [],
    });
    const zero = computeReserveWindow({ anchorHeight: 100, windowBlocks: 0, assets: ["BTC"], anchorBalances, changes: [change(1, 100, 4n * BTC)] })["BTC"]!;
    expect(zero).toMatchObject({ atAnchor: 15n * BTC, min: 15n * BTC, minHeight: 100, riseBefore: 0n, dropAfter: 0n });
  });

  it("exact above 2^64, and a minimum before the anchor", () => {
    const big = 2n ** 70n + 1n;
    const balances = new Map([[1, new Map([["BTC", big]])]]);
    const w = computeReserveWindow({ anchorHeight: 10, windowBlocks: 2, assets: ["BTC"], anchorBalances: balances, changes: [change(1, 9, 2n ** 66n)] })["BTC"]!;
    expect(w.min).toBe(big - 2n ** 66n);
    expect(w.minHeight).toBe(8);
    expect(w.riseBefore).toBe(2n ** 66n);
    expect(w.dropAfter).toBe(0n);
  });
});

describe("buildCheckpointDocument version 2: window figures and the window_dressing flag", () => {
  const T = 1_767_225_600;
  const chainWith = (inflowBefore: bigint, outflowAfter: bigint): ChainReserves => {
    const changes = [...(inflowBefore ? [change(1, 99, inflowBefore, "dress-in")] : []), ...(outflowAfter ? [change(1, 101, -outflowAfter, "dress-out")] : [])];
    return {
      anchor: { chain: "btc", caip2: "bip122:0f9188f13cb7b2c71f2a335e3a4fc328", height: 100, hash: "ee".repeat(32), time: T, ruleTime: T, rule: "block-time", finality: "6 confirmations", skewSeconds: 0, maxSkewSeconds: 7200, anchored: true },
      totals: { BTC_btc: 10n * BTC }, countedWallets: 1, excluded: [], addressEntries: ["bcrt1qx"], discrepancies: [],
      window: {
        blocks: 6,
        assets: computeReserveWindow({ anchorHeight: 100, windowBlocks: 6, assets: ["BTC_btc"], anchorBalances: new Map([[1, new Map([["BTC_btc", 10n * BTC]])]]), changes: changes.map((c) => ({ ...c, asset: "BTC_btc" })) }),
        walletLabels: new Map([[1, "cold-btc"]]),
      },
    };
  };
  const build = (c: ChainReserves, windowDressingBps?: number) => buildCheckpointDocument({
    seq: 1, previousDigest: null, invalidates: null,
    snapshot: { id: "s", asOf: new Date(T * 1000).toISOString(), asOfTime: T, fileDigest: `sha256:${"ab".repeat(32)}`, root: "cd".repeat(32), proofVersion: 2 },
    liabilities: [{ asset: "BTC", decimals: 8, total: 9n * BTC }],
    chainAssets: [{ id: "BTC_btc", chain: "btc", decimals: 8, backs: "BTC" }],
    chains: [c], windowDressingBps,
  });

  it("flags 4 BTC in before and out after 10 BTC of reserves (above 10%), naming wallets, txids and heights; coverage still published", () => {
    const d = build(chainWith(4n * BTC, 4n * BTC), 1000);
    expect(d.version).toBe(2);
    expect(d.status).toBe("covered");
    expect(d.anchors[0]!.window).toEqual({ blocks: 6, fromHeight: 94, toHeight: 106 });
    expect(d.assets[0]!.backing[0]!.window).toEqual({ min: "600000000", minHeight: 94, minScaled: "600000000", riseBefore: "400000000", dropAfter: "400000000" });
    expect(d.assets[0]!.window).toEqual({ minReserves: "600000000", riseBefore: "400000000", dropAfter: "400000000", thresholdBps: 1000, windowDressing: true });
    expect(d.flags).toEqual([{
      type: "window_dressing", asset: "BTC", riseBefore: "400000000", dropAfter: "400000000", reserves: "1000000000", thresholdBps: 1000,
      inflows: [{ chain: "btc", chainAsset: "BTC_btc", wallet: "cold-btc", height: 99, txid: "dress-in", amount: "400000000" }],
      outflows: [{ chain: "btc", chainAsset: "BTC_btc", wallet: "cold-btc", height: 101, txid: "dress-out", amount: "400000000" }],
    }]);
    expect(checkWindowFigures(d.assets[0]!, 10n * BTC, true)).toBeNull();
    // A verifier refuses a flag dropped from the list, or a figure edited.
    expect(checkWindowFigures(d.assets[0]!, 10n * BTC, false)).toMatch(/not listed in flags/);
    expect(checkWindowFigures({ ...d.assets[0]!, window: { ...d.assets[0]!.window!, minReserves: "1" } }, 10n * BTC, true)).toMatch(/minReserves/);
  });

  it("no flag for an inflow alone, an outflow alone, or both at exactly the threshold", () => {
    for (const [rise, drop] of [[4n * BTC, 0n], [0n, 4n * BTC], [1n * BTC, 1n * BTC]] as const) {
      const d = build(chainWith(rise, drop), 1000);
      expect(d.flags).toEqual([]);
      expect(d.assets[0]!.window!.windowDressing).toBe(false);
    }
  });

  it("without windowDressingBps: a version 1 document, as before (no window, no flags)", () => {
    const d = build(chainWith(4n * BTC, 4n * BTC));
    expect(d.version).toBe(1);
    expect(d.flags).toBeUndefined();
    expect(d.assets[0]!.window).toBeUndefined();
    expect(d.anchors[0]!.window).toBeUndefined();
  });
});
