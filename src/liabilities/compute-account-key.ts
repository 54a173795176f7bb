/**
 * The key under which account ids are compared for duplicates and looked up for proofs.
 * Rule (docs/liabilities-proofs.md): Unicode NFC, then trim (Unicode whitespace, incl. TAB),
 * then lower case (locale-independent); an id of ASCII digits only loses its leading zeros
 * ("007" → "7", "000" → "0"). The id itself is stored and hashed verbatim.
 */
export function computeAccountKey(accountId: string): string {
  // Fast path: already canonical (the common case in exports of machine ids).
  if (/^[a-z0-9_.@:-]+$/.test(accountId) && !/^0[0-9]/.test(accountId)) return accountId;
  let k = accountId.normalize("NFC").trim().toLowerCase().normalize("NFC");
  if (/^[0-9]+$/.test(k)) k = k.replace(/^0+(?=[0-9])/, "");
  return k;
}
