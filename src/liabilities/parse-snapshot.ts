import { splitCsvLine } from "../lib/split-csv-line.js";
import {
  AmbiguousAssetError, AmountOverflowError, BlankLineError, CompressedInputError, ControlCharacterError, CurrencySymbolError,
  DecimalCommaError, DuplicateColumnError, EmptyAmountError, EmptyFieldError, EmptySnapshotError,
  EncodingError, FieldNotStringError, FieldTooLargeError, HexAmountError, InvalidJsonLineError,
  MalformedAmountError, MissingColumnError, NegativeAmountError, NonDataRowDetectedError,
  NonNumericAmountError, NulByteError, PlusSignError, PrecisionExceededError, RaggedRowError,
  ScientificNotationRejectedError, StrayQuoteError, ThousandsSeparatorError, UnknownAssetError,
  UnknownColumnError, UnterminatedQuoteError, WrongDelimiterError, type SnapshotPosition,
} from "./errors.js";

/** Input formats: RFC 4180 CSV with a header, or one JSON object per line. */
export type SnapshotFormat = "csv" | "ndjson";

/** One data row, amount converted exactly to base units. `row` is the 1-based physical line (header = 1). */
export type SnapshotRow = { row: number; accountId: string; asset: string; amount: bigint };

/** Format, configured assets and the size limits of the parser. */
export type ParseSnapshotParameters = {
  format: SnapshotFormat;
  /** Configured assets: id → decimals. The file must use these ids exactly. */
  assets: Readonly<Record<string, { decimals: number }>>;
  /** Longest accepted field, in UTF-16 code units (default 1024). */
  maxFieldChars?: number;
  /** Longest accepted line, in UTF-16 code units (default 8192); bounds memory on a file without newlines. */
  maxLineChars?: number;
};

/** The snapshot's columns, matched by name (order free). `amount` is in the asset's display units. */
export const SNAPSHOT_COLUMNS = ["account_id", "asset", "amount"] as const;

const DEFAULT_MAX_FIELD = 1024;
const DEFAULT_MAX_LINE = 8192;

/**
 * Parse a liabilities snapshot from a byte stream, strictly (TESTING.md 2E), yielding rows in
 * batches as they are read. Memory is bounded by the chunk size and `maxLineChars`.
 * Duplicates, control totals and row counts are whole-file checks done by the caller.
 * @throws SnapshotFormatError subclasses (each with a distinct code, row and column); EmptySnapshotError.
 */
export async function* parseSnapshot(
  source: AsyncIterable<Uint8Array>,
  p: ParseSnapshotParameters,
): AsyncGenerator<SnapshotRow[], { rows: number }> {
  const maxField = p.maxFieldChars ?? DEFAULT_MAX_FIELD;
  const maxLine = p.maxLineChars ?? DEFAULT_MAX_LINE;
  const assets = createAssetResolver(p.assets);
  // fatal: invalid UTF-8 throws instead of becoming U+FFFD. The decoder strips a leading BOM itself.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let first = true;
  let carry = "";
  let line = 0; // physical lines completed so far
  let dataRows = 0;
  let header: Header | undefined;
  const parseLine = p.format === "csv" ? parseCsvLine : parseJsonLine;
  let fast3 = false;

  const handle = (text: string, out: SnapshotRow[]) => {
    line++;
    if (text.endsWith("\r")) text = text.slice(0, -1); // CRLF and LF both accepted
    if (text.length > maxLine) throw new FieldTooLargeError({ row: line, limit: maxLine });
    const nul = text.indexOf("\0");
    if (nul !== -1) throw new NulByteError({ row: line, column: columnOf(text, nul) });
    if (p.format === "csv" && header === undefined) {
      header = parseCsvHeader(text, line);
      fast3 = header.names.length === 3;
      return;
    }
    if (text.length === 0) throw new BlankLineError({ row: line });
    const row = parseLine(text, line, header, assets, maxField);
    dataRows++;
    out.push(row);
  };

  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    if (first) {
      first = false;
      sniffEncoding(chunk);
    }
    let text: string;
    try {
      text = carry + decoder.decode(chunk, { stream: true });
    } catch (cause) {
      throw encodingErrorAt(chunk, line + 1 + countNewlines(carry));
    }
    const out: SnapshotRow[] = [];
    let pos = 0;
    let quote = text.indexOf('"'); // next quote at or after pos; keeps the scan linear
    const nulFree = text.indexOf("\0") === -1;
    for (;;) {
      const nl = text.indexOf("\n", pos);
      if (nl === -1) break;
      if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
      // Fast path for the common line: three unquoted fields, no NUL in the chunk.
      if (fast3 && header !== undefined && nulFree && (quote === -1 || quote > nl) && nl - pos <= maxLine) {
        const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        const c1 = text.indexOf(",", pos);
        const c2 = c1 === -1 || c1 >= end ? -1 : text.indexOf(",", c1 + 1);
        if (c2 !== -1 && c2 < end) {
          const c3 = text.indexOf(",", c2 + 1);
          if (c3 === -1 || c3 >= end) {
            line++;
            const f = [text.slice(pos, c1), text.slice(c1 + 1, c2), text.slice(c2 + 1, end)];
            const ix = header.index;
            out.push(buildRow(f[ix.account_id]!, f[ix.asset]!, f[ix.amount]!, line, header, assets, maxField));
            dataRows++;
            pos = nl + 1;
            continue;
          }
        }
      }
      // A quoted field still open at the end of the line: the record would span lines.
      if (p.format === "csv" && quote !== -1 && quote < nl && hasOpenQuote(text, pos, nl)) {
        const rest = text.indexOf('"', nl);
        if (rest !== -1) throw new ControlCharacterError({ row: line + 1, column: columnOf(text.slice(pos, nl), nl - pos) });
        break; // wait for more data (bounded below), or report the unterminated quote at the end
      }
      handle(text.slice(pos, nl), out);
      pos = nl + 1;
    }
    carry = text.slice(pos);
    if (carry.length > maxLine) throw new FieldTooLargeError({ row: line + 1, limit: maxLine });
    if (out.length > 0) yield out;
  }
  let tail: string;
  try {
    tail = carry + decoder.decode();
  } catch {
    throw new EncodingError({ row: line + 1, detected: "truncated UTF-8 sequence at the end" });
  }
  if (tail.length > 0) {
    if (p.format === "csv" && hasOpenQuote(tail, 0, tail.length)) throw new UnterminatedQuoteError({ row: line + 1 });
    const out: SnapshotRow[] = [];
    handle(tail, out); // missing final newline: accepted
    if (out.length > 0) yield out;
  }
  if (p.format === "csv" && header === undefined) throw new EmptySnapshotError({ row: 1 });
  if (dataRows === 0) throw new EmptySnapshotError({ row: line + 1 });
  return { rows: dataRows };
}

// ---- encoding ---------------------------------------------------------------------

function sniffEncoding(b: Uint8Array): void {
  const at = { row: 1, column: 1 };
  if (b[0] === 0x1f && b[1] === 0x8b) throw new CompressedInputError({ ...at, detected: "gzip" });
  if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) throw new CompressedInputError({ ...at, detected: "zip" });
  if (b[0] === 0xff && b[1] === 0xfe) throw new EncodingError({ ...at, detected: b[2] === 0 && b[3] === 0 ? "UTF-32LE" : "UTF-16LE" });
  if (b[0] === 0xfe && b[1] === 0xff) throw new EncodingError({ ...at, detected: "UTF-16BE" });
  if (b.length >= 2 && b[0] !== 0 && b[1] === 0) throw new EncodingError({ ...at, detected: "UTF-16LE (no BOM)" });
  if (b.length >= 2 && b[0] === 0 && b[1] !== 0) throw new EncodingError({ ...at, detected: "UTF-16BE (no BOM)" });
}

/** Locate the first invalid UTF-8 sequence in a chunk to report its row (chunk-relative lines added to `row`). */
function encodingErrorAt(b: Uint8Array, row: number): EncodingError {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c === 0x0a) { row++; i++; continue; }
    if (c < 0x80) { i++; continue; }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    let ok = n > 0;
    for (let k = 1; ok && k <= n; k++) {
      const d = b[i + k];
      if (d === undefined) break; // sequence continues in the next chunk
      ok = (d & 0xc0) === 0x80;
    }
    if (!ok) {
      // Bytes 0x80-0xFF that are not UTF-8 are almost always a single-byte Western code page.
      return new EncodingError({ row, detected: "ISO-8859-1 / Windows-1252" });
    }
    i += n + 1;
  }
  return new EncodingError({ row, detected: "invalid UTF-8, likely ISO-8859-1 / Windows-1252" });
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

// ---- CSV ------------------------------------------------------------------------------

type Header = { index: Record<(typeof SNAPSHOT_COLUMNS)[number], number>; names: string[] };

function parseCsvHeader(text: string, row: number): Header {
  if (text.length === 0) throw new EmptySnapshotError({ row });
  const names = splitCsv(text, row);
  if (!names) throw new UnterminatedQuoteError({ row });
  if (names.length === 1) {
    for (const d of [";", "\t", "|"]) if (names[0]!.includes(d)) throw new WrongDelimiterError({ row, column: 1, delimiter: d });
  }
  const index: Partial<Header["index"]> = {};
  names.forEach((name, i) => {
    const column = i + 1;
    if (!(SNAPSHOT_COLUMNS as readonly string[]).includes(name)) throw new UnknownColumnError({ row, column }); // the name is not echoed: a headerless file's first row is an account
    const key = name as keyof Header["index"];
    if (index[key] !== undefined) throw new DuplicateColumnError({ row, column, columnName: name });
    index[key] = i;
  });
  for (const c of SNAPSHOT_COLUMNS) if (index[c] === undefined) throw new MissingColumnError({ row, missing: c });
  return { index: index as Header["index"], names };
}

/**
 * True when a quoted field opened in text[from, to) is still open at `to` (RFC 4180: a quote opens
 * a field only at its start; a stray quote elsewhere is left for splitCsv to report).
 */
function hasOpenQuote(text: string, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    if (text.charCodeAt(i) === 34) {
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1 || q >= to) return true;
        if (q + 1 < to && text.charCodeAt(q + 1) === 34) { j = q + 2; continue; }
        i = q + 1;
        break;
      }
    }
    const c = text.indexOf(",", i);
    if (c === -1 || c >= to) return false;
    i = c + 1;
  }
  return false;
}

/** RFC 4180 split of one line (splitCsvLine); null if a quote is left open. @throws StrayQuoteError */
function splitCsv(line: string, row: number): string[] | null {
  const r = splitCsvLine(line);
  if (r !== null && !Array.isArray(r)) throw new StrayQuoteError({ row, column: r.strayQuoteColumn });
  return r;
}

/** 1-based CSV column of a character offset (counts commas before it; good enough for error positions). */
function columnOf(line: string, offset: number): number {
  let n = 1;
  for (let i = line.indexOf(","); i !== -1 && i < offset; i = line.indexOf(",", i + 1)) n++;
  return n;
}

const NON_DATA_ID = /^\s*(grand[\s_-]*)?(sub[\s_-]*)?totals?\s*:?\s*$|^\s*(sum|summe|gesamt)\s*:?\s*$/i;
const NON_DATA_LINE = /^\s*(#|\/\/|generated|exported|report|created|total|subtotal|sum\b|end of|rows?\b)/i;

function parseCsvLine(
  text: string, row: number, header: Header | undefined, assets: AssetResolver, maxField: number,
): SnapshotRow {
  const h = header!;
  const fields = splitCsv(text, row);
  if (!fields) throw new UnterminatedQuoteError({ row });
  const expected = h.names.length;
  if (fields.length !== expected) {
    if (fields.length < expected && NON_DATA_LINE.test(fields[0] ?? "")) throw new NonDataRowDetectedError({ row, column: 1 });
    // An unquoted `1,234.56` or `1.234,56` in a trailing amount column splits into extra fields.
    if (fields.length > expected && h.index.amount === expected - 1) {
      const joined = fields.slice(expected - 1).join(",");
      const column = expected;
      if (THOUSANDS.test(joined)) throw new ThousandsSeparatorError({ row, column, columnName: "amount" });
      if (DECIMAL_COMMA.test(joined)) throw new DecimalCommaError({ row, column, columnName: "amount" });
    }
    throw new RaggedRowError({ row, expected, actual: fields.length, column: Math.min(fields.length, expected) + 1 });
  }
  return buildRow(fields[h.index.account_id]!, fields[h.index.asset]!, fields[h.index.amount]!, row, h, assets, maxField);
}

// ---- NDJSON -------------------------------------------------------------------------

function parseJsonLine(
  text: string, row: number, _h: Header | undefined, assets: AssetResolver, maxField: number,
): SnapshotRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    if (NON_DATA_LINE.test(text)) throw new NonDataRowDetectedError({ row });
    throw new InvalidJsonLineError({ row, cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidJsonLineError({ row });
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  keys.forEach((k, i) => {
    if (!(SNAPSHOT_COLUMNS as readonly string[]).includes(k)) throw new UnknownColumnError({ row, column: i + 1 });
  });
  for (const c of SNAPSHOT_COLUMNS) {
    if (!(c in obj)) throw new MissingColumnError({ row, missing: c });
    // JSON.parse keeps the last of duplicate keys silently; refuse them instead.
    if (text.split(`"${c}"`).length > 2 && countKey(text, c) > 1) throw new DuplicateColumnError({ row, columnName: c });
  }
  const pos = (c: (typeof SNAPSHOT_COLUMNS)[number]): SnapshotPosition => ({ row, column: keys.indexOf(c) + 1, columnName: c });
  for (const c of SNAPSHOT_COLUMNS) if (typeof obj[c] !== "string") throw new FieldNotStringError(pos(c));
  return buildRow(obj.account_id as string, obj.asset as string, obj.amount as string, row, undefined, assets, maxField);
}

function countKey(text: string, key: string): number {
  const re = new RegExp(`"${key}"\\s*:`, "g");
  return (text.match(re) ?? []).length;
}

// ---- fields ---------------------------------------------------------------------------

// C0 controls except TAB, and DEL. TAB is kept verbatim (formula-injection strings, E10).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function posOf(h: Header | undefined, row: number, c: (typeof SNAPSHOT_COLUMNS)[number]): SnapshotPosition {
  return { row, column: h ? h.index[c] + 1 : SNAPSHOT_COLUMNS.indexOf(c) + 1, columnName: c };
}

// Runs for every row: positions are built only on failure.
function buildRow(
  accountId: string, assetText: string, amountText: string, row: number,
  h: Header | undefined, assets: AssetResolver, maxField: number,
): SnapshotRow {
  if (accountId.length > maxField) throw new FieldTooLargeError({ ...posOf(h, row, "account_id"), limit: maxField });
  if (isBlank(accountId)) throw new EmptyFieldError(posOf(h, row, "account_id"));
  if (CONTROL.test(accountId)) throw new ControlCharacterError(posOf(h, row, "account_id"));
  if (NON_DATA_ID.test(accountId)) throw new NonDataRowDetectedError(posOf(h, row, "account_id"));
  if (assetText.length === 0) throw new EmptyFieldError(posOf(h, row, "asset"));
  const asset = assets.get(assetText) ?? assets.fail(assetText, posOf(h, row, "asset"));
  if (amountText.length > maxField) throw new FieldTooLargeError({ ...posOf(h, row, "amount"), limit: maxField });
  const amount = parseAmountFast(amountText, asset.decimals) ??
    parseAmount(amountText, asset.decimals, asset.id, posOf(h, row, "amount"));
  return { row, accountId, asset: asset.id, amount };
}

function isBlank(s: string): boolean {
  if (s.length === 0) return true;
  const a = s.charCodeAt(0);
  const z = s.charCodeAt(s.length - 1);
  return (a <= 32 || a === 0xa0 || a >= 0x1680) && (z <= 32 || z === 0xa0 || z >= 0x1680) && s.trim().length === 0;
}

type AssetResolver = {
  get(text: string): { id: string; decimals: number } | undefined;
  fail(text: string, at: SnapshotPosition): never;
};

function createAssetResolver(assets: Readonly<Record<string, { decimals: number }>>): AssetResolver {
  const known = new Map(Object.entries(assets).map(([id, a]) => [id, { id, decimals: a.decimals }]));
  const ids = [...known.keys()].sort();
  return {
    get: (text) => known.get(text),
    fail(text, at) {
      // A bare symbol matching several ids (USDC → USDC-eth, USDC-sol) is ambiguous, not unknown.
      const lower = text.trim().toLowerCase();
      const candidates = ids.filter((id) => {
        const l = id.toLowerCase();
        return l === lower || l.split(/[-_.:/]/)[0] === lower;
      });
      if (candidates.length > 1) throw new AmbiguousAssetError({ ...at, candidates });
      throw new UnknownAssetError({ ...at, known: ids });
    },
  };
}

const POW10: bigint[] = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));

/**
 * The common case without regex or string-to-BigInt: at most 15 digits in the grammar.
 * Returns undefined for anything else, which parseAmount then classifies (or accepts exactly).
 */
function parseAmountFast(text: string, decimals: number): bigint | undefined {
  const len = text.length;
  if (len === 0 || len > 15) return undefined; // ≤ 15 digits: exact in a double
  let i = 0;
  if (text.charCodeAt(0) === 48 /* 0 */) {
    if (len > 1 && text.charCodeAt(1) !== 46 /* . */) return undefined; // leading zero
    i = 1;
  }
  let v = 0;
  let dot = -1;
  for (; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) v = v * 10 + (c - 48);
    else if (c === 46 && dot === -1 && i > 0) dot = i;
    else return undefined;
  }
  if (dot === len - 1) return undefined; // "5."
  const frac = dot === -1 ? 0 : len - dot - 1;
  if (frac > decimals) return undefined;
  return BigInt(v) * POW10[decimals - frac]!;
}

const AMOUNT = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const NEGATIVE_ZERO = /^-0(?:\.0+)?$/;
const SCIENTIFIC = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$/;
const HEX = /^[+-]?0[xX][0-9a-fA-F]*$/;
const NON_NUMERIC = /^[+-]?(?:nan|inf|infinity)$/i;
const THOUSANDS = /^[0-9]{1,3}(?:([,' _\u00a0\u202f])[0-9]{3})(?:\1[0-9]{3})*(?:\.[0-9]+)?$/;
const DECIMAL_COMMA = /^[0-9]{1,3}(?:\.[0-9]{3})*,[0-9]+$|^[0-9]+,[0-9]+$/;
const CURRENCY = /[$€£¥₿¢₩₹]|^[A-Za-z]{3,5}\s*[0-9.]|[0-9.]\s*[A-Za-z]{3,5}$/;
const MAX_U128 = (1n << 128n) - 1n;

/**
 * Parse a display-unit decimal string into base units with the asset's decimals, exactly.
 * Grammar: `(0|[1-9][0-9]*)(\.[0-9]+)?`; `-0` (and `-0.00`) is read as 0. Never rounds.
 * @throws a distinct SnapshotFormatError per category (2E E2-E4, E6).
 */
export function parseAmount(text: string, decimals: number, asset: string, at: SnapshotPosition): bigint {
  const m = AMOUNT.exec(text);
  if (m) {
    const frac = m[2] ?? "";
    if (frac.length > decimals) throw new PrecisionExceededError({ ...at, asset, decimals });
    const v = BigInt(m[1]! + frac.padEnd(decimals, "0"));
    if (v > MAX_U128) throw new AmountOverflowError(at);
    return v;
  }
  if (text.length === 0) throw new EmptyAmountError(at);
  if (NEGATIVE_ZERO.test(text)) return 0n;
  if (NON_NUMERIC.test(text)) throw new NonNumericAmountError(at);
  if (HEX.test(text)) throw new HexAmountError(at);
  if (SCIENTIFIC.test(text)) throw new ScientificNotationRejectedError(at);
  if (/^-\s*[0-9.]/.test(text)) throw new NegativeAmountError(at);
  if (/^\+\s*[0-9.]/.test(text)) throw new PlusSignError(at);
  if (THOUSANDS.test(text)) throw new ThousandsSeparatorError(at);
  if (DECIMAL_COMMA.test(text)) throw new DecimalCommaError(at);
  if (CURRENCY.test(text)) throw new CurrencySymbolError(at);
  throw new MalformedAmountError(at);
}
