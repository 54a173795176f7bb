import { BackstopError, type ErrorCode } from "../lib/errors.js";

// Messages name rows, columns, assets and counts, never an account id or an amount:
// errors end up in logs, and per-account data must not leave the store (issue 5, privacy).

/** Where in the file a problem was found: 1-based physical line (`row`, the header is row 1) and 1-based column. */
export type SnapshotPosition = { row: number; column?: number; columnName?: string };

function at(p: SnapshotPosition): string {
  if (p.column === undefined) return `row ${p.row}`;
  return `row ${p.row}, column ${p.column}${p.columnName ? ` (${p.columnName})` : ""}`;
}

/** Base of every rejection of a snapshot file's content; carries the row and column. */
export class SnapshotFormatError extends BackstopError {
  override name = "SnapshotFormatError";
  readonly row: number;
  readonly column: number | undefined;
  readonly columnName: string | undefined;
  constructor(code: ErrorCode, what: string, p: SnapshotPosition & { meta?: string[]; cause?: unknown }) {
    super(code, `${what} at ${at(p)}.`, { meta: p.meta, cause: p.cause });
    this.row = p.row;
    this.column = p.column;
    this.columnName = p.columnName;
  }
}

type Pos = SnapshotPosition;

// ---- encoding and bytes (2E E5, E8) -------------------------------------------------

/** The file is not UTF-8 (E5); `detected` names what it looks like. */
export class EncodingError extends SnapshotFormatError {
  override name = "EncodingError";
  constructor(readonly p: Pos & { detected: string }) {
    super("LIABILITIES__ENCODING", `File is not UTF-8 (looks like ${p.detected})`, p);
  }
}
/** A NUL byte anywhere in the file (E5). */
export class NulByteError extends SnapshotFormatError {
  override name = "NulByteError";
  constructor(p: Pos) { super("LIABILITIES__NUL_BYTE", "NUL byte", p); }
}
/** gzip/zip input: decompress it first; Backstop never inflates (gzip bombs, E8). */
export class CompressedInputError extends SnapshotFormatError {
  override name = "CompressedInputError";
  constructor(p: Pos & { detected: string }) {
    super("LIABILITIES__COMPRESSED_INPUT", `Compressed input (${p.detected}); decompress it first`, p);
  }
}
/** A field or line longer than the limit (E8: one 10 MB field). */
export class FieldTooLargeError extends SnapshotFormatError {
  override name = "FieldTooLargeError";
  constructor(p: Pos & { limit: number }) {
    super("LIABILITIES__FIELD_TOO_LARGE", `Field or line longer than ${p.limit} characters`, p);
  }
}
/** Control character (CR, LF inside quotes, other C0, DEL) in a field. TAB is allowed and kept verbatim (E10). */
export class ControlCharacterError extends SnapshotFormatError {
  override name = "ControlCharacterError";
  constructor(p: Pos) { super("LIABILITIES__CONTROL_CHARACTER", "Control character or line break inside a field", p); }
}

// ---- structure (E6, E8, E11) ------------------------------------------------------

/** Header lacks a required column (E6). */
export class MissingColumnError extends SnapshotFormatError {
  override name = "MissingColumnError";
  constructor(p: Pos & { missing: string }) { super("LIABILITIES__MISSING_COLUMN", `Header lacks column "${p.missing}"`, p); }
}
/** Header has a column that is not part of the format (E6, E7: e.g. a base-unit column). */
export class UnknownColumnError extends SnapshotFormatError {
  override name = "UnknownColumnError";
  constructor(p: Pos) {
    super("LIABILITIES__UNKNOWN_COLUMN", "Unknown column", { ...p, meta: ["  expected exactly the columns account_id, asset, amount (amount in display units)"] });
  }
}
/** The same column name twice in the header (E6). */
export class DuplicateColumnError extends SnapshotFormatError {
  override name = "DuplicateColumnError";
  constructor(p: Pos) { super("LIABILITIES__DUPLICATE_COLUMN", "Duplicate column", p); }
}
/** The file uses `;` or TAB as delimiter (E6); only `,` is accepted. */
export class WrongDelimiterError extends SnapshotFormatError {
  override name = "WrongDelimiterError";
  constructor(p: Pos & { delimiter: string }) {
    super("LIABILITIES__WRONG_DELIMITER", `Delimiter ${JSON.stringify(p.delimiter)} instead of ","`, p);
  }
}
/** A row with a different number of fields than the header (E6). */
export class RaggedRowError extends SnapshotFormatError {
  override name = "RaggedRowError";
  constructor(p: Pos & { expected: number; actual: number }) {
    super("LIABILITIES__RAGGED_ROW", `Row has ${p.actual} fields instead of ${p.expected}`, p);
  }
}
/** A quoted field never closed before the end of the file (E6). */
export class UnterminatedQuoteError extends SnapshotFormatError {
  override name = "UnterminatedQuoteError";
  constructor(p: Pos) { super("LIABILITIES__UNTERMINATED_QUOTE", "Unterminated quoted field", p); }
}
/** A quote inside an unquoted field, or text after a closing quote (RFC 4180). */
export class StrayQuoteError extends SnapshotFormatError {
  override name = "StrayQuoteError";
  constructor(p: Pos) { super("LIABILITIES__STRAY_QUOTE", "Quote character inside an unquoted field", p); }
}
/** An empty line before the end of the file. */
export class BlankLineError extends SnapshotFormatError {
  override name = "BlankLineError";
  constructor(p: Pos) { super("LIABILITIES__BLANK_LINE", "Blank line", p); }
}
/** A TOTAL/subtotal footer or a "generated by" line (E11). */
export class NonDataRowDetectedError extends SnapshotFormatError {
  override name = "NonDataRowDetectedError";
  constructor(p: Pos) { super("LIABILITIES__NON_DATA_ROW", "Non-data row (total, subtotal or comment line)", p); }
}
/** An NDJSON line that is not a JSON object (E6). */
export class InvalidJsonLineError extends SnapshotFormatError {
  override name = "InvalidJsonLineError";
  constructor(p: Pos & { cause?: unknown }) { super("LIABILITIES__INVALID_JSON", "Invalid JSON object", p); }
}
/** An NDJSON field that is not a string (amounts as JSON numbers lose precision above 2^53). */
export class FieldNotStringError extends SnapshotFormatError {
  override name = "FieldNotStringError";
  constructor(p: Pos) { super("LIABILITIES__FIELD_NOT_STRING", "Field is not a JSON string", p); }
}
/** An empty account id or asset. */
export class EmptyFieldError extends SnapshotFormatError {
  override name = "EmptyFieldError";
  constructor(p: Pos) { super("LIABILITIES__EMPTY_FIELD", "Empty field", p); }
}
/** No data rows: empty file or header only (E8). An empty snapshot is never "solvent". */
export class EmptySnapshotError extends SnapshotFormatError {
  override name = "EmptySnapshotError";
  constructor(p: Pos) { super("LIABILITIES__EMPTY_SNAPSHOT", "Snapshot has no data rows", p); }
}

// ---- amounts (E2, E3, E4, E6) -------------------------------------------------------

/** Empty amount (E6). */
export class EmptyAmountError extends SnapshotFormatError {
  override name = "EmptyAmountError";
  constructor(p: Pos) { super("LIABILITIES__EMPTY_AMOUNT", "Empty amount", p); }
}
/** More fractional digits than the asset's decimals (E2); never rounded. */
export class PrecisionExceededError extends SnapshotFormatError {
  override name = "PrecisionExceededError";
  constructor(p: Pos & { asset: string; decimals: number }) {
    super("LIABILITIES__PRECISION_EXCEEDED", `Amount has more than ${p.decimals} decimals (${p.asset})`, p);
  }
}
/** Scientific notation such as `1.5E+3` (E3). */
export class ScientificNotationRejectedError extends SnapshotFormatError {
  override name = "ScientificNotationRejectedError";
  constructor(p: Pos) { super("LIABILITIES__SCIENTIFIC_NOTATION", "Amount in scientific notation", p); }
}
/** A negative amount (E4). Rejected, never netted or clamped; `-0` is read as 0. */
export class NegativeAmountError extends SnapshotFormatError {
  override name = "NegativeAmountError";
  constructor(p: Pos) { super("LIABILITIES__NEGATIVE_AMOUNT", "Negative amount", p); }
}
/** An explicit `+` sign (E4). */
export class PlusSignError extends SnapshotFormatError {
  override name = "PlusSignError";
  constructor(p: Pos) { super("LIABILITIES__PLUS_SIGN", "Amount with a leading +", p); }
}
/** Decimal comma `1.234,56` (E6): locale formats are not accepted. */
export class DecimalCommaError extends SnapshotFormatError {
  override name = "DecimalCommaError";
  constructor(p: Pos) { super("LIABILITIES__DECIMAL_COMMA", "Amount with a decimal comma", p); }
}
/** Thousands separators `1,234.56`, `1 234`, `1'234`, `1_234` (E6). */
export class ThousandsSeparatorError extends SnapshotFormatError {
  override name = "ThousandsSeparatorError";
  constructor(p: Pos) { super("LIABILITIES__THOUSANDS_SEPARATOR", "Amount with thousands separators", p); }
}
/** Currency symbol or code in the amount (E6). */
export class CurrencySymbolError extends SnapshotFormatError {
  override name = "CurrencySymbolError";
  constructor(p: Pos) { super("LIABILITIES__CURRENCY_SYMBOL", "Amount with a currency symbol or code", p); }
}
/** `NaN`, `Infinity` (E6). */
export class NonNumericAmountError extends SnapshotFormatError {
  override name = "NonNumericAmountError";
  constructor(p: Pos) { super("LIABILITIES__NON_NUMERIC", "Amount is NaN or Infinity", p); }
}
/** Hexadecimal amount `0x10` (E6). */
export class HexAmountError extends SnapshotFormatError {
  override name = "HexAmountError";
  constructor(p: Pos) { super("LIABILITIES__HEX_AMOUNT", "Hexadecimal amount", p); }
}
/** Anything else outside the grammar `(0|[1-9][0-9]*)(\.[0-9]+)?`: leading zeros, `.5`, `5.`, spaces. */
export class MalformedAmountError extends SnapshotFormatError {
  override name = "MalformedAmountError";
  constructor(p: Pos) {
    super("LIABILITIES__MALFORMED_AMOUNT", "Amount outside the grammar (0|[1-9][0-9]*)(.[0-9]+)?", p);
  }
}
/** An amount (or an account's balance) that does not fit the tree's fixed 128-bit width. */
export class AmountOverflowError extends SnapshotFormatError {
  override name = "AmountOverflowError";
  constructor(p: Pos) { super("LIABILITIES__AMOUNT_OVERFLOW", "Amount exceeds 2^128-1 base units", p); }
}

// ---- assets (E7) ------------------------------------------------------------------

/** Asset id not in the config (E7). */
export class UnknownAssetError extends SnapshotFormatError {
  override name = "UnknownAssetError";
  constructor(p: Pos & { known: string[] }) {
    super("LIABILITIES__UNKNOWN_ASSET", "Unknown asset", { ...p, meta: [`  known assets: ${p.known.join(", ")}`] });
  }
}
/** Asset given as a symbol that matches several configured ids (USDC: USDC-eth, USDC-sol) (E7). */
export class AmbiguousAssetError extends SnapshotFormatError {
  override name = "AmbiguousAssetError";
  constructor(p: Pos & { candidates: string[] }) {
    super("LIABILITIES__AMBIGUOUS_ASSET", `Ambiguous asset (one of ${p.candidates.join(", ")})`, p);
  }
}

// ---- whole-file checks (E1, E3, E11, E9, H3) ------------------------------------------

/** The same account (after normalisation) twice for one asset, or spelled two ways (E1). Lists every row. */
export class DuplicateUserIdError extends BackstopError {
  override name = "DuplicateUserIdError";
  constructor(readonly duplicates: Array<{ rows: number[] }>) {
    const shown = duplicates.slice(0, 20).map((d) => `  rows ${d.rows.join(", ")}`);
    const more = duplicates.length > 20 ? [`  … and ${duplicates.length - 20} more groups`] : [];
    super("LIABILITIES__DUPLICATE_ACCOUNT",
      `${duplicates.length} account id(s) appear more than once after normalisation.`,
      { meta: [...shown, ...more] });
  }
}
/** The declared data-row count differs from the file's (E11, E3). */
export class RowCountMismatchError extends BackstopError {
  override name = "RowCountMismatchError";
  constructor(readonly p: { declared: number; actual: number }) {
    super("LIABILITIES__ROW_COUNT_MISMATCH", `File has ${p.actual} data rows, ${p.declared} declared.`);
  }
}
/** A declared per-asset control total differs from the file's sum (E3: Excel-truncated digits). */
export class ControlTotalMismatchError extends BackstopError {
  override name = "ControlTotalMismatchError";
  constructor(readonly p: { asset: string; declared: bigint; actual: bigint }) {
    // Totals are public (they are the published liabilities), so they may be shown.
    super("LIABILITIES__CONTROL_TOTAL_MISMATCH",
      `Control total for ${p.asset} does not match the file.`,
      { meta: [`  declared ${p.declared} base units`, `  file     ${p.actual} base units`] });
  }
}
/** A control total given for an asset that is not configured, or malformed. */
export class InvalidControlTotalError extends BackstopError {
  override name = "InvalidControlTotalError";
  constructor(readonly p: { text: string; reason: string }) {
    super("LIABILITIES__INVALID_CONTROL_TOTAL", `Invalid control total: ${p.reason}.`);
  }
}
/** A per-asset sum (or any tree node sum) beyond 2^128-1 base units. */
export class SumOverflowError extends BackstopError {
  override name = "SumOverflowError";
  constructor(readonly p: { asset: string }) {
    super("LIABILITIES__SUM_OVERFLOW", `Sum of ${p.asset} balances exceeds 2^128-1 base units.`);
  }
}
/** `--as-of` is not ISO-8601 with an explicit offset (H3). */
export class InvalidAsOfError extends BackstopError {
  override name = "InvalidAsOfError";
  constructor(readonly p: { text: string }) {
    super("LIABILITIES__INVALID_AS_OF",
      `as-of "${p.text}" is not an ISO-8601 timestamp with an explicit offset (e.g. 2026-01-31T23:59:59Z).`);
  }
}
/** `--as-of` is in the future (E9, H3). */
export class AsOfInFutureError extends BackstopError {
  override name = "AsOfInFutureError";
  constructor(readonly p: { asOf: string; now: string }) {
    super("LIABILITIES__AS_OF_IN_FUTURE", `as-of ${p.asOf} is in the future (now ${p.now}).`);
  }
}
/** The declared snapshot id exists with different content (E9). */
export class SnapshotIdConflictError extends BackstopError {
  override name = "SnapshotIdConflictError";
  constructor(readonly p: { snapshotId: string }) {
    super("LIABILITIES__SNAPSHOT_ID_CONFLICT",
      `Snapshot id "${p.snapshotId}" already exists with different content or as-of.`);
  }
}
/** The same content and as-of were already imported under another id. */
export class SnapshotContentExistsError extends BackstopError {
  override name = "SnapshotContentExistsError";
  constructor(readonly p: { snapshotId: string; existingId: string }) {
    super("LIABILITIES__SNAPSHOT_CONTENT_EXISTS",
      `This file and as-of were already imported as snapshot "${p.existingId}".`);
  }
}
/** No snapshot with that id. */
export class SnapshotNotFoundError extends BackstopError {
  override name = "SnapshotNotFoundError";
  constructor(readonly p: { snapshotId: string }) {
    super("LIABILITIES__SNAPSHOT_NOT_FOUND", `No liabilities snapshot "${p.snapshotId}".`);
  }
}
/** The account is not in the snapshot (the id is not echoed: it may be someone's private id). */
export class AccountNotFoundError extends BackstopError {
  override name = "AccountNotFoundError";
  constructor(readonly p: { snapshotId: string }) {
    super("LIABILITIES__ACCOUNT_NOT_FOUND", `Account not found in snapshot "${p.snapshotId}".`);
  }
}
/** The snapshot file could not be read. */
export class SnapshotReadError extends BackstopError {
  override name = "SnapshotReadError";
  constructor(readonly p: { cause: unknown }) {
    super("LIABILITIES__READ_FAILED", "Could not read the snapshot file.", { cause: p.cause });
  }
}
/** A declared snapshot id outside `[A-Za-z0-9][A-Za-z0-9._:-]{0,127}`. */
export class InvalidSnapshotIdError extends BackstopError {
  override name = "InvalidSnapshotIdError";
  constructor(readonly p: { text: string }) {
    super("LIABILITIES__INVALID_SNAPSHOT_ID", "Snapshot id must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}.");
  }
}
