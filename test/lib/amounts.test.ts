import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatUnits, parseBaseUnits, toBaseUnits } from "../../src/lib/amounts.js";

describe("toBaseUnits", () => {
  it("converts exactly, never rounding", () => {
    expect(toBaseUnits("1.5", 8)).toBe(150_000_000n);
    expect(toBaseUnits("0.00000001", 8)).toBe(1n);
    expect(toBaseUnits("123456789012345678901234567890", 18)).toBe(123456789012345678901234567890n * 10n ** 18n);
    expect(toBaseUnits("7", 0)).toBe(7n);
  });

  it.each(["1.5E+3", "713752e1", "-1", "+5", "1,5", "1 000", " 1", "0x10", "NaN", "Infinity", "", ".5", "5."])("rejects %j", (text) => {
    expect(() => toBaseUnits(text, 8)).toThrowError(expect.objectContaining({ code: "AMOUNT__INVALID" }));
  });

  it("rejects excess precision instead of rounding", () => {
    expect(() => toBaseUnits("0.000000001", 8)).toThrowError(expect.objectContaining({ code: "AMOUNT__PRECISION_EXCEEDED" }));
    expect(() => toBaseUnits("1.0000000000000000001", 18)).toThrowError(expect.objectContaining({ code: "AMOUNT__PRECISION_EXCEEDED" }));
  });

  it("round-trips with formatUnits for any amount and decimals", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n }), fc.integer({ min: 0, max: 30 }), (amount, decimals) => {
        expect(toBaseUnits(formatUnits(amount, decimals), decimals)).toBe(amount);
      }),
    );
  });
});

describe("formatUnits", () => {
  it("formats without floats, including values >= 2^64 and negatives", () => {
    expect(formatUnits(2n ** 64n, 8)).toBe("184467440737.09551616");
    expect(formatUnits(-150n, 2)).toBe("-1.5");
    expect(formatUnits(0n, 18)).toBe("0");
    expect(formatUnits(1n, 18)).toBe("0.000000000000000001");
  });
});

describe("parseBaseUnits", () => {
  it("parses integer strings exactly and rejects anything else", () => {
    expect(parseBaseUnits("340282366920938463463374607431768211457")).toBe(2n ** 128n + 1n);
    expect(() => parseBaseUnits("1.0")).toThrow();
  });
});
