/** An address split for the look-alike comparison: its fixed prefix (`0x`, a bech32 `hrp1`), and the first and last `n` characters after it. */
export type AddressAffixes = { prefix: string; head: string; tail: string };

const BECH32 = /^([a-z]{1,83}1)[02-9ac-hj-np-z]+$/;

/**
 * The part of an address a person checks by eye (TESTING.md J5): the first and last `n` characters after
 * the chain's fixed prefix (EVM `0x`, a bech32 human-readable part and its `1`; base58 has none), which an
 * address-poisoning attacker grinds a vanity address to share. Null when the address is too short. Pure.
 */
export function computeAddressAffixes(address: string, n: number): AddressAffixes | null {
  const prefix = address.startsWith("0x") ? "0x" : (BECH32.exec(address)?.[1] ?? "");
  const body = address.slice(prefix.length);
  if (n <= 0 || body.length < 2 * n + 1) return null;
  return { prefix, head: body.slice(0, n), tail: body.slice(-n) };
}

/**
 * The known counterparty `address` imitates: another address with the same prefix and the same first and
 * last `n` characters (compared exactly: base58 is case-sensitive), or null. Pure.
 */
export function computeLookAlike(address: string, known: Iterable<string>, n: number): string | null {
  const a = computeAddressAffixes(address, n);
  if (!a) return null;
  let best: string | null = null;
  for (const k of known) {
    if (k === address) return null; // the address is itself a known counterparty: not a look-alike
    const b = computeAddressAffixes(k, n);
    if (b && b.prefix === a.prefix && b.head === a.head && b.tail === a.tail && (best === null || k < best)) best = k;
  }
  return best;
}
