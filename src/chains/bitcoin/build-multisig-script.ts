/** Consensus limit of keys in one OP_CHECKMULTISIG (Bitcoin Core's MAX_PUBKEYS_PER_MULTISIG). */
export const MAX_MULTISIG_KEYS = 20;

const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_CHECKMULTISIG = 0xae;

/**
 * The bare multisig script `<m> <key 1> … <key n> <n> OP_CHECKMULTISIG` exactly as Bitcoin Core
 * writes it (`CScript() << m … << n`): a count of 1 to 16 is the opcode OP_1…OP_16, a count of
 * 17 to 20 is a one-byte number push (`01 11` … `01 14`). Writing 17 as "OP_1 + 16" would give
 * 0x61 (OP_NOP), another script with another address, so deposits to a 17-to-20-key wallet
 * would never be seen. Keys are taken in the given order (sort them first for sortedmulti).
 * @throws RangeError a threshold or key count outside 1..20, a threshold above the key count,
 *   or a key that is not 33 or 65 bytes
 */
export function buildMultisigScript(threshold: number, pubkeys: readonly Uint8Array[]): Buffer {
  const n = pubkeys.length;
  if (!Number.isInteger(n) || n < 1 || n > MAX_MULTISIG_KEYS) throw new RangeError(`multisig needs 1 to ${MAX_MULTISIG_KEYS} keys, got ${n}`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > n) throw new RangeError(`multisig threshold ${threshold} is not between 1 and ${n}`);
  const parts: Buffer[] = [encodeSmallNumber(threshold)];
  for (const key of pubkeys) {
    if (key.length !== 33 && key.length !== 65) throw new RangeError(`a multisig key is 33 or 65 bytes, got ${key.length}`);
    parts.push(Buffer.from([key.length]), Buffer.from(key));
  }
  parts.push(encodeSmallNumber(n), Buffer.from([OP_CHECKMULTISIG]));
  return Buffer.concat(parts);
}

/** Script encoding of 0..20 (as Core's `CScript << int`): OP_0, OP_1…OP_16, else a minimal one-byte push. */
function encodeSmallNumber(v: number): Buffer {
  if (v === 0) return Buffer.from([OP_0]);
  if (v <= 16) return Buffer.from([OP_1 + v - 1]);
  // CScriptNum of 17..127 is one byte, sign bit clear.
  return Buffer.from([1, v]);
}
