import { InvalidAmountError } from "./errors.js";

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a human decimal string into base units: ("1.5", 8) -> 150000000n.
 * Strict: digits with an optional fraction, no sign, exponent, separators or
 * whitespace inside. Never rounds: more decimals than the asset has is an error.
 * @throws InvalidAmountError
 */
export function toBaseUnits(text: string, decimals: number): bigint {
  const m = DECIMAL.exec(text);
  if (!m) throw new InvalidAmountError({ text, reason: "expected digits with an optional '.' fraction" });
  const int = m[1] ?? "0";
  const frac = m[2] ?? "";
  if (frac.length > decimals) throw new InvalidAmountError({ text, decimals });
  return BigInt(int + frac.padEnd(decimals, "0"));
}

/** Formats base units as a decimal string without trailing zeros: (150000000n, 8) -> "1.5". Exact for any size and sign. */
export function formatUnits(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, "0");
  const int = digits.slice(0, digits.length - decimals);
  const frac = decimals > 0 ? digits.slice(digits.length - decimals).replace(/0+$/, "") : "";
  return `${negative ? "-" : ""}${int}${frac ? `.${frac}` : ""}`;
}

/** Parses a base-unit integer string ("123", "-5") exactly. @throws InvalidAmountError */
export function parseBaseUnits(text: string): bigint {
  if (!/^-?\d+$/.test(text)) throw new InvalidAmountError({ text, reason: "expected an integer in base units" });
  return BigInt(text);
}
