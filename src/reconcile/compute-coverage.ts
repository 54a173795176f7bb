/** Per-asset coverage: floor(reserves × 10,000 / liabilities) basis points; null when liabilities are 0. Pure. */
export function computeCoverageBps(reserves: bigint, liabilities: bigint): bigint | null {
  if (liabilities === 0n) return null;
  return (reserves * 10_000n) / liabilities;
}

/** `covered` when reserves are at least the liabilities, else `breach`. */
export function computeAssetStatus(reserves: bigint, liabilities: bigint): "covered" | "breach" {
  return reserves >= liabilities ? "covered" : "breach";
}
