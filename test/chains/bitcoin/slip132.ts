// SLIP-132 re-encoding for the descriptor tests: BIP-49/84 publish ypub/zpub/upub keys; a
// descriptor takes the same key bytes under the xpub/tpub version.
import { createHash } from "node:crypto";
import { decodeBase58Check } from "../../../src/chains/bitcoin/decode-base58-check.js";

export const XPUB_VERSION = 0x0488b21e;
export const TPUB_VERSION = 0x043587cf;

/** Re-encodes a SLIP-132 extended key (ypub/zpub/upub…) with another 4-byte version. */
export function reversion(key: string, version: number): string {
  const decoded = decodeBase58Check(key);
  if (!decoded.ok) throw new Error("bad test key");
  const payload = Buffer.from(decoded.payload);
  payload.writeUInt32BE(version, 0);
  const check = createHash("sha256").update(createHash("sha256").update(payload).digest()).digest().subarray(0, 4);
  let n = BigInt(`0x${Buffer.concat([payload, check]).toString("hex")}`);
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let out = "";
  while (n > 0n) {
    out = alphabet[Number(n % 58n)] + out;
    n /= 58n;
  }
  return out;
}
