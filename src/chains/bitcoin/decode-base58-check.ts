import { createHash } from "node:crypto";

const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export type DecodeBase58CheckReturnType =
  | { ok: true; payload: Buffer }
  | { ok: false; reason: "alphabet" | "checksum" | "length"; bytes?: Buffer };

/** Base58check decoding that says why it failed (bad alphabet, too short, or checksum mismatch). Pure. */
export function decodeBase58Check(text: string): DecodeBase58CheckReturnType {
  let n = 0n;
  for (const c of text) {
    const v = BASE58_ALPHABET.indexOf(c);
    if (v < 0) return { ok: false, reason: "alphabet" };
    n = n * 58n + BigInt(v);
  }
  const hex = n === 0n ? "" : n.toString(16);
  let zeros = 0;
  while (text[zeros] === "1") zeros++;
  const bytes = Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex")]);
  if (bytes.length < 5) return { ok: false, reason: "length", bytes };
  const payload = bytes.subarray(0, bytes.length - 4);
  const check = createHash("sha256").update(createHash("sha256").update(payload).digest()).digest();
  if (!check.subarray(0, 4).equals(bytes.subarray(bytes.length - 4))) return { ok: false, reason: "checksum", bytes };
  return { ok: true, payload };
}
