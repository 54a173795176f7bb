import { gzipSync } from "node:zlib";
import { createSnapshotBuilder, type BuiltSnapshot } from "../../src/liabilities/build-snapshot.js";
import { parseSnapshot, type SnapshotFormat } from "../../src/liabilities/parse-snapshot.js";

/** The assets every liabilities test uses (two USDCs make a bare "USDC" ambiguous). */
export const ASSETS = {
  BTC: { decimals: 8 },
  ETH: { decimals: 18 },
  SOL: { decimals: 9 },
  "USDC-eth": { decimals: 6 },
  "USDC-sol": { decimals: 6 },
} as const;

export type CorpusCase = {
  /** TESTING.md 2E row. */
  e: string;
  name: string;
  input: string | Uint8Array;
  format?: SnapshotFormat;
  rowCount?: number;
  controlTotals?: Record<string, bigint>;
  code: string;
  row?: number;
  column?: number;
  /** For LIABILITIES__DUPLICATE_ACCOUNT: every group's rows. */
  duplicates?: number[][];
};

const H = "account_id,asset,amount\n";
const utf16le = (s: string, bom: boolean) => {
  const b = Buffer.from(s, "utf16le");
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), b]) : b;
};

/** Malformed files: every 2E category, each with its distinct code (and row/column where it has one). */
export const MALFORMED: CorpusCase[] = [
  // E1 duplicates (also after normalisation): all rows listed
  { e: "E1", name: "exact duplicate row", input: `${H}a,BTC,1\nb,BTC,1\na,BTC,1\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 4]] },
  { e: "E1", name: "same id, different amount", input: `${H}a,BTC,1\na,BTC,2\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 3]] },
  { e: "E1", name: "ids differing by case", input: `${H}Alice,BTC,1\nalice,BTC,2\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 3]] },
  { e: "E1", name: "ids differing by whitespace", input: `${H}alice,BTC,1\n alice\t,BTC,2\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 3]] },
  { e: "E1", name: "ids differing by Unicode form (NFC/NFD)", input: `${H}caf\u00e9,BTC,1\ncafe\u0301,BTC,2\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 3]] },
  { e: "E1", name: "ids differing by leading zeros", input: `${H}007,BTC,1\n7,BTC,2\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 3]] },
  { e: "E1", name: "one account spelled two ways across assets", input: `${H}Bob,BTC,1\nbob,ETH,1\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 3]] },
  { e: "E1", name: "three rows and two groups, all listed", input: `${H}a,BTC,1\nb,ETH,1\nA,BTC,1\nb,ETH,2\na ,BTC,3\n`, code: "LIABILITIES__DUPLICATE_ACCOUNT", duplicates: [[2, 4, 6], [3, 5]] },
  // E2 precision
  { e: "E2", name: "BTC with 9 decimals", input: `${H}a,BTC,1.123456789\n`, code: "LIABILITIES__PRECISION_EXCEEDED", row: 2, column: 3 },
  { e: "E2", name: "ETH with 19 decimals", input: `${H}a,ETH,0.1234567890123456789\n`, code: "LIABILITIES__PRECISION_EXCEEDED", row: 2, column: 3 },
  { e: "E2", name: "SOL with 10 decimals", input: `${H}a,SOL,1.0000000001\n`, code: "LIABILITIES__PRECISION_EXCEEDED", row: 2, column: 3 },
  { e: "E2", name: "trailing zeros beyond the decimals are still excess precision", input: `${H}a,BTC,1.000000000\n`, code: "LIABILITIES__PRECISION_EXCEEDED", row: 2, column: 3 },
  { e: "E2", name: "beyond 128 bits", input: `${H}a,BTC,${(1n << 128n).toString()}\n`, code: "LIABILITIES__AMOUNT_OVERFLOW", row: 2, column: 3 },
  // E3 scientific notation, Excel truncation
  { e: "E3", name: "1.5E+3", input: `${H}a,BTC,1.5E+3\n`, code: "LIABILITIES__SCIENTIFIC_NOTATION", row: 2, column: 3 },
  { e: "E3", name: "713752e1", input: `${H}a,BTC,713752e1\n`, code: "LIABILITIES__SCIENTIFIC_NOTATION", row: 2, column: 3 },
  { e: "E3", name: "Excel-mangled 5.555E+15", input: `${H}x,BTC,1\na,ETH,5.555E+15\n`, code: "LIABILITIES__SCIENTIFIC_NOTATION", row: 3, column: 3 },
  { e: "E3", name: "15-digit truncation caught by the control total", input: `${H}a,ETH,1111222233334440\n`, controlTotals: { ETH: 1111222233334444n * 10n ** 18n }, code: "LIABILITIES__CONTROL_TOTAL_MISMATCH" },
  // E4 signs
  { e: "E4", name: "negative balance", input: `${H}a,BTC,1\nb,BTC,-0.5\n`, code: "LIABILITIES__NEGATIVE_AMOUNT", row: 3, column: 3 },
  { e: "E4", name: "leading +", input: `${H}a,BTC,+5\n`, code: "LIABILITIES__PLUS_SIGN", row: 2, column: 3 },
  // E5 encoding
  { e: "E5", name: "UTF-16LE with BOM", input: utf16le(`${H}a,BTC,1\n`, true), code: "LIABILITIES__ENCODING", row: 1 },
  { e: "E5", name: "UTF-16LE without BOM", input: utf16le(`${H}a,BTC,1\n`, false), code: "LIABILITIES__ENCODING", row: 1 },
  { e: "E5", name: "Latin-1 character", input: Buffer.concat([Buffer.from(`${H}a,BTC,1\ncaf`), Buffer.from([0xe9]), Buffer.from(",BTC,1\n")]), code: "LIABILITIES__ENCODING", row: 3 },
  { e: "E5", name: "embedded NUL", input: `${H}a,BTC,1\nb\u0000,BTC,1\n`, code: "LIABILITIES__NUL_BYTE", row: 3, column: 1 },
  // E6 structure
  { e: "E6", name: "missing column", input: "account_id,amount\na,1\n", code: "LIABILITIES__MISSING_COLUMN", row: 1 },
  { e: "E6", name: "extra column", input: "account_id,asset,amount,note\na,BTC,1,x\n", code: "LIABILITIES__UNKNOWN_COLUMN", row: 1, column: 4 },
  { e: "E6", name: "duplicate column", input: "account_id,asset,amount,asset\na,BTC,1,BTC\n", code: "LIABILITIES__DUPLICATE_COLUMN", row: 1, column: 4 },
  { e: "E6", name: "embedded newline in quotes", input: `${H}"a\nb",BTC,1\n`, code: "LIABILITIES__CONTROL_CHARACTER", row: 2 },
  { e: "E6", name: "unterminated quote", input: `${H}a,BTC,1\n"b,BTC,1\n`, code: "LIABILITIES__UNTERMINATED_QUOTE", row: 3 },
  { e: "E6", name: "stray quote inside a field", input: `${H}a"b,BTC,1\n`, code: "LIABILITIES__STRAY_QUOTE", row: 2, column: 1 },
  { e: "E6", name: "ragged row", input: `${H}a,BTC,1\nb,BTC\n`, code: "LIABILITIES__RAGGED_ROW", row: 3 },
  { e: "E6", name: "; delimiter", input: "account_id;asset;amount\na;BTC;1\n", code: "LIABILITIES__WRONG_DELIMITER", row: 1, column: 1 },
  { e: "E6", name: "decimal comma (quoted)", input: `${H}a,BTC,"1.234,56"\n`, code: "LIABILITIES__DECIMAL_COMMA", row: 2, column: 3 },
  { e: "E6", name: "decimal comma (unquoted)", input: `${H}a,BTC,12,5\n`, code: "LIABILITIES__DECIMAL_COMMA", row: 2, column: 3 },
  { e: "E6", name: "thousands separators (quoted)", input: `${H}a,BTC,"1,234.56"\n`, code: "LIABILITIES__THOUSANDS_SEPARATOR", row: 2, column: 3 },
  { e: "E6", name: "thousands separators (unquoted)", input: `${H}a,BTC,1,234.56\n`, code: "LIABILITIES__THOUSANDS_SEPARATOR", row: 2, column: 3 },
  { e: "E6", name: "thousands separators (space)", input: `${H}a,BTC,1 234\n`, code: "LIABILITIES__THOUSANDS_SEPARATOR", row: 2, column: 3 },
  { e: "E6", name: "currency symbol", input: `${H}a,BTC,$5\n`, code: "LIABILITIES__CURRENCY_SYMBOL", row: 2, column: 3 },
  { e: "E6", name: "currency code", input: `${H}a,BTC,5 BTC\n`, code: "LIABILITIES__CURRENCY_SYMBOL", row: 2, column: 3 },
  { e: "E6", name: "empty amount", input: `${H}a,BTC,\n`, code: "LIABILITIES__EMPTY_AMOUNT", row: 2, column: 3 },
  { e: "E6", name: "NaN", input: `${H}a,BTC,NaN\n`, code: "LIABILITIES__NON_NUMERIC", row: 2, column: 3 },
  { e: "E6", name: "Infinity", input: `${H}a,BTC,Infinity\n`, code: "LIABILITIES__NON_NUMERIC", row: 2, column: 3 },
  { e: "E6", name: "hex 0x10", input: `${H}a,BTC,0x10\n`, code: "LIABILITIES__HEX_AMOUNT", row: 2, column: 3 },
  { e: "E6", name: "leading zeros in an amount", input: `${H}a,BTC,007\n`, code: "LIABILITIES__MALFORMED_AMOUNT", row: 2, column: 3 },
  { e: "E6", name: "amount with surrounding space", input: `${H}a,BTC, 5\n`, code: "LIABILITIES__MALFORMED_AMOUNT", row: 2, column: 3 },
  { e: "E6", name: "blank line inside the file", input: `${H}a,BTC,1\n\nb,BTC,1\n`, code: "LIABILITIES__BLANK_LINE", row: 3 },
  { e: "E6", name: "empty account id", input: `${H}a,BTC,1\n,BTC,1\n`, code: "LIABILITIES__EMPTY_FIELD", row: 3, column: 1 },
  { e: "E6", name: "control character in an id", input: `${H}a\u0007,BTC,1\n`, code: "LIABILITIES__CONTROL_CHARACTER", row: 2, column: 1 },
  // E7 assets and units
  { e: "E7", name: "unknown asset", input: `${H}a,DOGE,1\n`, code: "LIABILITIES__UNKNOWN_ASSET", row: 2, column: 2 },
  { e: "E7", name: "asset id in the wrong case", input: `${H}a,btc,1\n`, code: "LIABILITIES__UNKNOWN_ASSET", row: 2, column: 2 },
  { e: "E7", name: "ambiguous symbol", input: `${H}a,USDC,1\n`, code: "LIABILITIES__AMBIGUOUS_ASSET", row: 2, column: 2 },
  { e: "E7", name: "base-unit column instead of display units", input: "account_id,asset,amount_sats\na,BTC,100000000\n", code: "LIABILITIES__UNKNOWN_COLUMN", row: 1, column: 3 },
  // E8 size
  { e: "E8", name: "empty file", input: "", code: "LIABILITIES__EMPTY_SNAPSHOT" },
  { e: "E8", name: "header only", input: H, code: "LIABILITIES__EMPTY_SNAPSHOT" },
  { e: "E8", name: "BOM and header only", input: `\ufeff${H}`, code: "LIABILITIES__EMPTY_SNAPSHOT" },
  { e: "E8", name: "one 10 MB field", input: `${H}${"x".repeat(10 << 20)},BTC,1\n`, code: "LIABILITIES__FIELD_TOO_LARGE", row: 2 },
  { e: "E8", name: "a gzip bomb", input: gzipSync(Buffer.alloc(50 << 20)), code: "LIABILITIES__COMPRESSED_INPUT", row: 1 },
  // E11 non-data rows
  { e: "E11", name: "TOTAL footer", input: `${H}a,BTC,1\nTOTAL,BTC,1\n`, code: "LIABILITIES__NON_DATA_ROW", row: 3, column: 1 },
  { e: "E11", name: "subtotal row", input: `${H}a,BTC,1\nSub-total,BTC,1\nb,BTC,1\n`, code: "LIABILITIES__NON_DATA_ROW", row: 3, column: 1 },
  { e: "E11", name: "trailing generated-by line", input: `${H}a,BTC,1\nGenerated by LedgerExport 2.1 on 2026-01-31\n`, code: "LIABILITIES__NON_DATA_ROW", row: 3 },
  { e: "E11", name: "declared row count differs", input: `${H}a,BTC,1\nb,BTC,1\n`, rowCount: 3, code: "LIABILITIES__ROW_COUNT_MISMATCH" },
  { e: "E11", name: "declared control total differs", input: `${H}a,BTC,0.1\nb,BTC,0.2\n`, controlTotals: { BTC: 30_000_001n }, code: "LIABILITIES__CONTROL_TOTAL_MISMATCH" },
  // NDJSON
  { e: "E6", name: "ndjson: amount as a JSON number", format: "ndjson", input: '{"account_id":"a","asset":"BTC","amount":1.5}\n', code: "LIABILITIES__FIELD_NOT_STRING", row: 1, column: 3 },
  { e: "E6", name: "ndjson: invalid JSON", format: "ndjson", input: '{"account_id":"a","asset":"BTC","amount":"1"}\n{"account_id":\n', code: "LIABILITIES__INVALID_JSON", row: 2 },
  { e: "E6", name: "ndjson: extra key", format: "ndjson", input: '{"account_id":"a","asset":"BTC","amount":"1","x":1}\n', code: "LIABILITIES__UNKNOWN_COLUMN", row: 1 },
  { e: "E6", name: "ndjson: missing key", format: "ndjson", input: '{"account_id":"a","amount":"1"}\n', code: "LIABILITIES__MISSING_COLUMN", row: 1 },
  { e: "E6", name: "ndjson: duplicate key", format: "ndjson", input: '{"account_id":"a","asset":"BTC","amount":"1","amount":"2"}\n', code: "LIABILITIES__DUPLICATE_COLUMN", row: 1 },
  { e: "E6", name: "ndjson: scientific notation in a string", format: "ndjson", input: '{"account_id":"a","asset":"BTC","amount":"1e3"}\n', code: "LIABILITIES__SCIENTIFIC_NOTATION", row: 1 },
  { e: "E8", name: "ndjson: empty", format: "ndjson", input: "", code: "LIABILITIES__EMPTY_SNAPSHOT" },
];

/** Feed bytes in small chunks, so chunk boundaries fall inside lines, quotes and UTF-8 sequences. */
export async function* chunked(input: string | Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Parse + whole-file checks + tree, in memory (what importSnapshot does before writing). */
export async function buildFromBytes(
  input: string | Uint8Array,
  p: { format?: SnapshotFormat; rowCount?: number; controlTotals?: Record<string, bigint>; chunkSize?: number } = {},
): Promise<BuiltSnapshot> {
  const builder = createSnapshotBuilder({ assets: ASSETS });
  const size = p.chunkSize ?? (typeof input === "string" ? input.length : input.length) + 1;
  for await (const rows of parseSnapshot(chunked(input, Math.max(1, size)), { format: p.format ?? "csv", assets: ASSETS })) builder.add(rows);
  return builder.finish({ rowCount: p.rowCount, controlTotals: p.controlTotals });
}
