// Display of exact base-unit strings, with no float anywhere: the page shows every figure through
// these (string and BigInt arithmetic only). Import-free: served to the browser as is.

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * A base-unit integer string in display units: ("123400001234", 8) -> "1,234.00001234"; trailing
 * fractional zeros are dropped ("150000000", 8 -> "1.5"); negative values keep their sign.
 * @throws RangeError when `base` is not an integer string or `decimals` not 0..255
 */
export function formatUnitsText(base: string, decimals: number): string {
  if (!INTEGER.test(base)) throw new RangeError(`not a base-unit integer string: ${JSON.stringify(base.slice(0, 80))}`);
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 255) throw new RangeError(`bad decimals ${decimals}`);
  const negative = base.startsWith("-");
  const digits = (negative ? base.slice(1) : base).padStart(decimals + 1, "0");
  const int = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, "");
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ",");
  return `${negative && (int !== "0" || frac) ? "-" : ""}${grouped}${frac ? `.${frac}` : ""}`;
}

/** Coverage in basis points as a percentage with two decimals: "10025" -> "100.25%"; null -> "n/a". */
export function formatBps(bps: string | null): string {
  if (bps === null) return "n/a";
  if (!INTEGER.test(bps)) throw new RangeError(`not an integer string: ${JSON.stringify(bps.slice(0, 80))}`);
  const negative = bps.startsWith("-");
  const digits = (negative ? bps.slice(1) : bps).padStart(3, "0");
  const int = digits.slice(0, -2).replace(/\B(?=(\d{3})+$)/g, ",");
  return `${negative ? "-" : ""}${int}.${digits.slice(-2)}%`;
}

/** A signed surplus with an explicit sign: "+1.5" / "-0.25" / "0". */
export function formatSigned(base: string, decimals: number): string {
  const text = formatUnitsText(base, decimals);
  return text.startsWith("-") || text === "0" ? text : `+${text}`;
}

/** A unix-seconds time as RFC 3339 UTC to the second. */
export function formatTime(s: number): string {
  return new Date(s * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** An age in seconds as "42 s", "17 min", "5 h", "3 d". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}
