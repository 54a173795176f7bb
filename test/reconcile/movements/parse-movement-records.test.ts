// The movement record parser: every malformed-input category of the liabilities corpus that applies
// to a movements file (TESTING.md 2E), plus the movement-specific ones (unknown asset, negative amount,
// a txid of the wrong form for its chain, kinds, times, addresses), each with its code, row and column.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { formatCsvCell } from "../../../src/lib/format-csv-row.js";
import { parseMovementRecords } from "../../../src/reconcile/movements/parse-movement-records.js";
import { BTC_ADDR, BTC_TXID, ETH_ADDR, ETH_TXID, HEADER, row, SOL_ADDR, SOL_SIG, VALIDATION } from "./movement-fixtures.js";

const parse = (input: string | Uint8Array, format: "csv" | "ndjson" | "json" = "csv") =>
  parseMovementRecords(VALIDATION, typeof input === "string" ? Buffer.from(input, "utf8") : input, { format });

type Case = { name: string; input: string | Uint8Array; format?: "csv" | "ndjson" | "json"; code: string; row?: number; column?: number; index?: number };

const CASES: Case[] = [
  // E2 precision and size
  { name: "BTC with 9 decimals", input: HEADER + row({ amount: "1.123456789" }), code: "MOVEMENTS__PRECISION_EXCEEDED", row: 2, column: 5 },
  { name: "ETH with 19 decimals", input: HEADER + row({ chain: "eth", asset: "ETH", counterparty: ETH_ADDR, amount: "0.1234567890123456789" }), code: "MOVEMENTS__PRECISION_EXCEEDED", row: 2, column: 5 },
  { name: "beyond 128 bits", input: HEADER + row({ amount: (1n << 128n).toString() }), code: "MOVEMENTS__AMOUNT_OVERFLOW", row: 2, column: 5 },
  // E3 scientific notation
  { name: "1.5E+3", input: HEADER + row({ amount: "1.5E+3" }), code: "MOVEMENTS__SCIENTIFIC_NOTATION", row: 2, column: 5 },
  { name: "Excel-mangled 5.555E+15 on row 3", input: HEADER + row() + row({ id: "w-2", amount: "5.555E+15" }), code: "MOVEMENTS__SCIENTIFIC_NOTATION", row: 3, column: 5 },
  // E4 signs
  { name: "negative amount", input: HEADER + row({ amount: "-0.5" }), code: "MOVEMENTS__NEGATIVE_AMOUNT", row: 2, column: 5 },
  { name: "leading +", input: HEADER + row({ amount: "+5" }), code: "MOVEMENTS__PLUS_SIGN", row: 2, column: 5 },
  { name: "zero", input: HEADER + row({ amount: "0" }), code: "MOVEMENTS__ZERO_AMOUNT", row: 2, column: 5 },
  // E5 encoding
  { name: "UTF-16LE with BOM", input: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER + row(), "utf16le")]), code: "MOVEMENTS__ENCODING", row: 1 },
  { name: "Latin-1 byte", input: Buffer.concat([Buffer.from(HEADER + row()), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])]), code: "MOVEMENTS__ENCODING", row: 3 },
  { name: "embedded NUL", input: HEADER + row() + "w-2\0,withdrawal\n", code: "MOVEMENTS__NUL_BYTE", row: 3 },
  { name: "gzip", input: gzipSync(Buffer.from(HEADER + row())), code: "MOVEMENTS__COMPRESSED_INPUT", row: 1 },
  // E6 structure
  { name: "missing column", input: "id,kind,chain,asset,amount,counterparty,time\n", code: "MOVEMENTS__MISSING_COLUMN", row: 1 },
  { name: "extra column", input: "id,kind,chain,asset,amount,counterparty,txid,time,memo\n", code: "MOVEMENTS__UNKNOWN_COLUMN", row: 1, column: 9 },
  { name: "duplicate column", input: "id,kind,chain,asset,amount,counterparty,txid,time,id\n", code: "MOVEMENTS__DUPLICATE_COLUMN", row: 1, column: 9 },
  { name: "; delimiter", input: "id;kind;chain;asset;amount;counterparty;txid;time\n", code: "MOVEMENTS__WRONG_DELIMITER", row: 1, column: 1 },
  { name: "ragged row", input: HEADER + "w-1,withdrawal,btc,BTC,1\n", code: "MOVEMENTS__RAGGED_ROW", row: 2, column: 6 },
  { name: "unterminated quote", input: HEADER + row() + 'w-2,withdrawal,btc,BTC,"1\n', code: "MOVEMENTS__UNTERMINATED_QUOTE", row: 3 },
  { name: "line break inside quotes", input: HEADER + 'w-2,withdrawal,btc,BTC,"1\n2",x,,t\n' + row(), code: "MOVEMENTS__CONTROL_CHARACTER", row: 2 },
  { name: "stray quote", input: HEADER + 'w-"2,withdrawal,btc,BTC,1,x,,t\n', code: "MOVEMENTS__STRAY_QUOTE", row: 2 },
  { name: "decimal comma (quoted)", input: HEADER + row({ amount: '"1,5"' }), code: "MOVEMENTS__DECIMAL_COMMA", row: 2, column: 5 },
  { name: "thousands separators (quoted)", input: HEADER + row({ amount: '"1,234.5"' }), code: "MOVEMENTS__THOUSANDS_SEPARATOR", row: 2, column: 5 },
  { name: "currency symbol", input: HEADER + row({ amount: "$5" }), code: "MOVEMENTS__CURRENCY_SYMBOL", row: 2, column: 5 },
  { name: "empty amount", input: HEADER + row({ amount: "" }), code: "MOVEMENTS__EMPTY_AMOUNT", row: 2, column: 5 },
  { name: "NaN", input: HEADER + row({ amount: "NaN" }), code: "MOVEMENTS__NON_NUMERIC", row: 2, column: 5 },
  { name: "hex 0x10", input: HEADER + row({ amount: "0x10" }), code: "MOVEMENTS__HEX_AMOUNT", row: 2, column: 5 },
  { name: "blank line in the middle", input: HEADER + row() + "\n" + row({ id: "w-2" }), code: "MOVEMENTS__BLANK_LINE", row: 3 },
  // E7 assets
  { name: "unknown asset", input: HEADER + row({ asset: "DOGE" }), code: "MOVEMENTS__UNKNOWN_ASSET", row: 2, column: 4 },
  { name: "asset of another chain", input: HEADER + row({ asset: "ETH" }), code: "MOVEMENTS__ASSET_CHAIN_MISMATCH", row: 2, column: 4 },
  { name: "unknown chain", input: HEADER + row({ chain: "doge" }), code: "MOVEMENTS__UNKNOWN_CHAIN", row: 2, column: 3 },
  // E8 size
  { name: "header only", input: HEADER, code: "MOVEMENTS__EMPTY_FILE" },
  { name: "empty file", input: "", code: "MOVEMENTS__EMPTY_FILE", row: 1 },
  { name: "one huge field", input: HEADER + row({ id: "x".repeat(5000) }), code: "MOVEMENTS__FIELD_TOO_LARGE", row: 2, column: 1 },
  // E11 non-data rows
  { name: "TOTAL footer", input: HEADER + row() + "TOTAL,,,,0.5\n", code: "MOVEMENTS__NON_DATA_ROW", row: 3, column: 1 },
  { name: "generated-by line", input: HEADER + row() + "generated by ledger 1.2\n", code: "MOVEMENTS__NON_DATA_ROW", row: 3, column: 1 },
  // Movement-specific fields
  { name: "bad kind", input: HEADER + row({ kind: "refund" }), code: "MOVEMENTS__INVALID_KIND", row: 2, column: 2 },
  { name: "Bitcoin txid of the EVM form", input: HEADER + row({ txid: ETH_TXID }), code: "MOVEMENTS__INVALID_TXID", row: 2, column: 7 },
  { name: "EVM txid of the Bitcoin form", input: HEADER + row({ chain: "eth", asset: "ETH", counterparty: ETH_ADDR, txid: BTC_TXID }), code: "MOVEMENTS__INVALID_TXID", row: 2, column: 7 },
  { name: "Solana txid of hex form", input: HEADER + row({ chain: "sol", asset: "SOL", counterparty: SOL_ADDR, txid: BTC_TXID }), code: "MOVEMENTS__INVALID_TXID", row: 2, column: 7 },
  { name: "mainnet address on regtest", input: HEADER + row({ counterparty: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" }), code: "MOVEMENTS__INVALID_ADDRESS", row: 2, column: 6 },
  { name: "EVM address with a wrong checksum", input: HEADER + row({ chain: "eth", asset: "ETH", counterparty: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD" }), code: "MOVEMENTS__INVALID_ADDRESS", row: 2, column: 6 },
  { name: "withdrawal without counterparty", input: HEADER + row({ counterparty: "" }), code: "MOVEMENTS__EMPTY_FIELD", row: 2, column: 6 },
  { name: "time without an offset", input: HEADER + row({ time: "2026-05-31T12:00:00" }), code: "MOVEMENTS__INVALID_TIME", row: 2, column: 8 },
  { name: "time that does not exist", input: HEADER + row({ time: "2026-02-31T12:00:00Z" }), code: "MOVEMENTS__INVALID_TIME", row: 2, column: 8 },
  { name: "time in the future", input: HEADER + row({ time: "2027-01-01T00:00:00Z" }), code: "MOVEMENTS__TIME_IN_FUTURE", row: 2, column: 8 },
  { name: "bad id", input: HEADER + row({ id: " w 1" }), code: "MOVEMENTS__INVALID_ID", row: 2, column: 1 },
  { name: "same id, other content", input: HEADER + row() + row({ amount: "0.6" }), code: "MOVEMENTS__DUPLICATE_ID", row: 3, column: 1 },
  // NDJSON and the HTTP array
  { name: "NDJSON amount as a JSON number", format: "ndjson", input: `{"id":"a","kind":"deposit","chain":"btc","asset":"BTC","amount":1,"time":"2026-05-31T12:00:00Z"}\n`, code: "MOVEMENTS__FIELD_NOT_STRING", row: 2 - 1 },
  { name: "NDJSON duplicate key", format: "ndjson", input: `{"id":"a","id":"b","kind":"deposit","chain":"btc","asset":"BTC","amount":"1","time":"2026-05-31T12:00:00Z"}\n`, code: "MOVEMENTS__DUPLICATE_COLUMN", row: 1 },
  { name: "NDJSON broken line", format: "ndjson", input: `{"id":\n`, code: "MOVEMENTS__INVALID_JSON", row: 1 },
  { name: "JSON body not an array", format: "json", input: `{"id":"a"}`, code: "MOVEMENTS__INVALID_JSON" },
  { name: "JSON batch, record 1 bad", format: "json", input: JSON.stringify([{ id: "a", kind: "deposit", chain: "btc", asset: "BTC", amount: "1", time: "2026-05-31T12:00:00Z" }, { id: "b", kind: "deposit", chain: "btc", asset: "BTC", amount: "-1", time: "2026-05-31T12:00:00Z" }]), code: "MOVEMENTS__NEGATIVE_AMOUNT", index: 1 },
  { name: "JSON batch, unknown field", format: "json", input: JSON.stringify([{ id: "a", kind: "deposit", chain: "btc", asset: "BTC", amount: "1", time: "2026-05-31T12:00:00Z", memo: "x" }]), code: "MOVEMENTS__UNKNOWN_COLUMN", index: 0 },
];

describe("parseMovementRecords: malformed input", () => {
  it.each(CASES)("$name → $code", (c) => {
    const r = parse(c.input, c.format);
    expect(r.records).toBeUndefined();
    const first = r.problems![0]!;
    expect(first.code).toBe(c.code);
    if (c.row !== undefined) expect(first.row).toBe(c.row);
    if (c.column !== undefined) expect(first.column).toBe(c.column);
    if (c.index !== undefined) expect(first.index).toBe(c.index);
    expect(first.message.length).toBeGreaterThan(5);
  });

  it("a record for a configured chain that movements.chains leaves out is refused, naming its row, column and the reconciled chains", () => {
    const r = parseMovementRecords({ ...VALIDATION, reconciled: ["eth", "sol"] }, Buffer.from(HEADER + row(), "utf8"), { format: "csv" });
    expect(r.records).toBeUndefined();
    expect(r.problems).toEqual([expect.objectContaining({ row: 2, column: 3, code: "MOVEMENTS__CHAIN_NOT_RECONCILED", message: expect.stringContaining("movements.chains: eth, sol") })]);
    expect(parseMovementRecords({ ...VALIDATION, reconciled: ["btc"] }, Buffer.from(HEADER + row(), "utf8"), { format: "csv" }).records).toHaveLength(1);
  });

  it("names every bad row, not only the first", () => {
    const r = parse(HEADER + row({ amount: "-1" }) + row({ id: "ok" }) + row({ id: "w-3", asset: "DOGE" }) + row({ id: "w-4", txid: "zz" }));
    expect(r.problems!.map((x) => [x.row, x.column, x.code])).toEqual([
      [2, 5, "MOVEMENTS__NEGATIVE_AMOUNT"],
      [4, 4, "MOVEMENTS__UNKNOWN_ASSET"],
      [5, 7, "MOVEMENTS__INVALID_TXID"],
    ]);
  });
});

describe("parseMovementRecords: valid input", () => {
  it("reads CSV with a BOM, CRLF, reordered columns and no final newline, exactly and normalised", () => {
    const upper = BTC_TXID.toUpperCase();
    const text = "\uFEFFtime,id,amount,kind,chain,asset,counterparty,txid\r\n" +
      `2026-05-31T12:00:00+02:00,w-1,21000000.12345678,withdrawal,btc,BTC,${BTC_ADDR.toUpperCase()},${upper}\r\n` +
      `2026-05-31T13:00:00Z,d-1,340282366920938463463.374607431768211455,deposit,eth,ETH,,`;
    const r = parse(text);
    expect(r.problems).toBeUndefined();
    expect(r.records).toEqual([
      { id: "w-1", kind: "withdrawal", chain: "btc", asset: "BTC", amount: 2_100_000_012_345_678n, counterparty: BTC_ADDR, txid: BTC_TXID, timeMs: Date.parse("2026-05-31T10:00:00Z") },
      { id: "d-1", kind: "deposit", chain: "eth", asset: "ETH", amount: (1n << 128n) - 1n, counterparty: null, txid: null, timeMs: Date.parse("2026-05-31T13:00:00Z") },
    ]);
    expect(r.rows).toEqual([2, 3]);
  });

  it("reads NDJSON and the HTTP array with the same result; an exact duplicate is one record", () => {
    const rec = { id: "s-1", kind: "withdrawal", chain: "sol", asset: "USDC-sol", amount: "12.5", counterparty: SOL_ADDR, txid: SOL_SIG, time: "2026-05-31T12:00:00Z" };
    const nd = parse(`${JSON.stringify(rec)}\n${JSON.stringify(rec)}\n`, "ndjson");
    const js = parse(JSON.stringify([rec, rec]), "json");
    expect(nd.records).toEqual(js.records);
    expect(nd.records).toEqual([{ id: "s-1", kind: "withdrawal", chain: "sol", asset: "USDC-sol", amount: 12_500_000n, counterparty: SOL_ADDR, txid: SOL_SIG, timeMs: Date.parse(rec.time) }]);
  });

  it("keeps formula-injection strings in ids verbatim (escaped on export, E10)", () => {
    const r = parse(HEADER + row({ id: "@SUM" }) + row({ id: "+cmd" }));
    expect(r.problems?.map((x) => x.code)).toEqual(["MOVEMENTS__INVALID_ID", "MOVEMENTS__INVALID_ID"]);
    // Ids are a strict grammar, so such strings never become ids; any text that reaches an export is escaped:
    for (const v of ["=HYPERLINK(\"x\")", "+cmd", "-1+1", "@SUM(A1)", "\tx"]) expect(formatCsvCell(v).replace(/^"|"$/g, "").startsWith("'")).toBe(true);
    expect(formatCsvCell("plain")).toBe("plain");
  });
});
