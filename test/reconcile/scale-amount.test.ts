import { describe, expect, it } from "vitest";
import { computeCoverageBps } from "../../src/reconcile/compute-coverage.js";
import { scaleAmount } from "../../src/reconcile/scale-amount.js";

describe("scaleAmount", () => {
  it("scales up exactly (6-decimal USDC into an 18-decimal liability asset)", () => {
    expect(scaleAmount(1_234_567n, 6, 18)).toEqual({ scaled: 1_234_567_000_000_000_000n, remainder: 0n });
  });
  it("scales down by flooring and reports the remainder (18-decimal bridged USDC into 6)", () => {
    expect(scaleAmount(1_000_000_999_999_999_999n, 18, 6)).toEqual({ scaled: 1_000_000n, remainder: 999_999_999_999n });
    expect(scaleAmount(999_999_999_999n, 18, 6)).toEqual({ scaled: 0n, remainder: 999_999_999_999n });
  });
  it("keeps values beyond 2^64 exact", () => {
    const big = 2n ** 200n + 7n;
    expect(scaleAmount(big, 18, 18)).toEqual({ scaled: big, remainder: 0n });
    expect(scaleAmount(big, 19, 18).scaled * 10n + scaleAmount(big, 19, 18).remainder).toBe(big);
  });
});

describe("computeCoverageBps", () => {
  it("floors, and is null when nothing is owed", () => {
    expect(computeCoverageBps(2n, 3n)).toBe(6666n);
    expect(computeCoverageBps(111n, 100n)).toBe(11_100n);
    expect(computeCoverageBps(5n, 0n)).toBeNull();
  });
});
