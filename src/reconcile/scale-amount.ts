/**
 * Converts base units of `fromDecimals` into base units of `toDecimals`, exactly: scaling up multiplies;
 * scaling down floors (never rounds up in the platform's favour) and returns what was cut off, in the
 * source's base units. Negative amounts are a caller bug. Pure.
 * @throws RangeError for a negative amount or decimals
 */
export function scaleAmount(amount: bigint, fromDecimals: number, toDecimals: number): { scaled: bigint; remainder: bigint } {
  if (amount < 0n) throw new RangeError("scaleAmount: negative amount");
  if (fromDecimals < 0 || toDecimals < 0) throw new RangeError("scaleAmount: negative decimals");
  if (toDecimals >= fromDecimals) return { scaled: amount * 10n ** BigInt(toDecimals - fromDecimals), remainder: 0n };
  const unit = 10n ** BigInt(fromDecimals - toDecimals);
  return { scaled: amount / unit, remainder: amount % unit };
}
