/** A synthetic block header on one straight chain: hashes `<tag><height>` padded to 64 characters. */
export function testBlock(chain: string, height: number, tag = "h") {
  return {
    chain,
    height,
    hash: `${tag}${height}`.padEnd(64, "0"),
    parentHash: height === 0 ? "0".repeat(64) : `${tag}${height - 1}`.padEnd(64, "0"),
    time: 1_700_000_000 + height,
  };
}
