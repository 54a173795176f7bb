// A string literal (skipped whole) or an integer of 16+ digits outside strings (may exceed 2^53).
const BIG_INT_RE = /"(?:[^"\\]|\\.)*"|-?\d{16,}(?![\d.eE])/g;

/**
 * JSON.parse that keeps integers exact: integers of 16 or more digits (which may
 * exceed 2^53, e.g. u64 lamports) come back as decimal strings; read amounts
 * with `BigInt(value)`, which is exact for both forms.
 */
export function parseRpcJson(text: string): unknown {
  return JSON.parse(text.replace(BIG_INT_RE, (m) => (m.startsWith('"') ? m : `"${m}"`)));
}
