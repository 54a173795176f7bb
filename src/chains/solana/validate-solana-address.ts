import { PublicKey } from "@solana/web3.js";

/** Returns why `text` is not a canonical base58 Solana address (32 bytes), or null when it is. */
export function validateSolanaAddress(text: unknown): string | null {
  if (typeof text !== "string" || text.length === 0) return "missing address";
  if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(text)) return `"${text.slice(0, 60)}" is not a base58 Solana address`;
  try {
    // PublicKey accepts any base58 text decoding to <= 32 bytes; insist on the canonical 32-byte form.
    if (new PublicKey(text).toBase58() !== text) return `"${text}" is not a 32-byte base58 address`;
  } catch {
    return `"${text}" is not a 32-byte base58 address`;
  }
  return null;
}
