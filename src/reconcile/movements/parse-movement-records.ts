import { splitCsvLine } from "../../lib/split-csv-line.js";
import type { MovementRecordProblem } from "./errors.js";
import type { MovementRecord } from "./movement-types.js";
import { MOVEMENT_FIELDS, validateMovementRecord, type MovementField, type MovementValidationContext } from "./validate-movement-record.js";

/** Record inputs: RFC 4180 CSV with a header naming the fields, one JSON object per line, or (HTTP) one JSON array of objects. */
export type MovementRecordFormat = "csv" | "ndjson" | "json";

export type ParseMovementRecordsParameters = {
  format: MovementRecordFormat;
  /** Longest accepted field in UTF-16 code units (default 1024). */
  maxFieldChars?: number;
  /** Stop collecting after this many problems (default 1000); the error says there were more. */
  maxProblems?: number;
};

export type ParseMovementRecordsReturnType =
  | { records: MovementRecord[]; rows: number[]; problems?: undefined; truncated?: undefined }
  | { records?: undefined; rows?: undefined; problems: MovementRecordProblem[]; truncated: boolean };

const NON_DATA_LINE = /^\s*(#|\/\/|generated|exported|report|created|total|subtotal|sum\b|end of|rows?\b)/i;
const DEFAULT_MAX_FIELD = 1024;

/**
 * Parses movement records strictly (the liabilities discipline, TESTING.md 2E): UTF-8 only (a BOM is
 * stripped), no NUL, no compressed input, a strict header matched by name, every field validated and
 * normalised (validateMovementRecord). Collects every problem with its row and column rather than
 * stopping at the first; the caller writes nothing unless there are none. `rows[i]` is the line (or
 * batch index) of `records[i]`. Pure.
 */
export function parseMovementRecords(ctx: MovementValidationContext, bytes: Uint8Array, p: ParseMovementRecordsParameters): ParseMovementRecordsReturnType {
  const maxProblems = p.maxProblems ?? 1000;
  const maxField = p.maxFieldChars ?? DEFAULT_MAX_FIELD;
  const problems: MovementRecordProblem[] = [];
  let truncated = false;
  const add = (x: MovementRecordProblem) => {
    if (problems.length < maxProblems) problems.push(x);
    else truncated = true;
  };
  const fail = (x: MovementRecordProblem): ParseMovementRecordsReturnType => ({ problems: [x], truncated: false });

  const b = bytes;
  if (b[0] === 0x1f && b[1] === 0x8b) return fail({ row: 1, code: "MOVEMENTS__COMPRESSED_INPUT", message: "Compressed input (gzip); decompress it first" });
  if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return fail({ row: 1, code: "MOVEMENTS__COMPRESSED_INPUT", message: "Compressed input (zip); decompress it first" });
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff) || (b.length >= 2 && ((b[0] !== 0 && b[1] === 0) || (b[0] === 0 && b[1] !== 0)))) {
    return fail({ row: 1, code: "MOVEMENTS__ENCODING", message: "File is not UTF-8 (looks like UTF-16)" });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    let row = 1;
    for (let i = 0; i < b.length; i++) {
      if (b[i] === 0x0a) row++;
      else if (b[i]! >= 0x80) {
        // The first line holding a non-ASCII byte is near enough; Latin-1 is the usual culprit.
        break;
      }
    }
    return fail({ row, code: "MOVEMENTS__ENCODING", message: "File is not UTF-8 (looks like ISO-8859-1 / Windows-1252)" });
  }
  const nul = text.indexOf("\0");
  if (nul !== -1) return fail({ row: 1 + countNewlines(text, nul), code: "MOVEMENTS__NUL_BYTE", message: "NUL byte" });

  const records: MovementRecord[] = [];
  const rows: number[] = [];
  const seen = new Map<string, { at: number; key: string }>();
  const accept = (raw: Record<MovementField, string | null>, at: (f: MovementField) => { row?: number; index?: number; column?: number; field: string }, pos: number) => {
    for (const f of MOVEMENT_FIELDS) {
      const v = raw[f];
      if (v !== null && v.length > maxField) {
        add({ ...at(f), code: "MOVEMENTS__FIELD_TOO_LARGE", message: `Field longer than ${maxField} characters` });
        return;
      }
    }
    const r = validateMovementRecord(ctx, raw, at);
    if (r.problems) {
      for (const x of r.problems) add({ ...x, id: raw.id ?? undefined });
      return;
    }
    const key = contentKey(r.record);
    const prev = seen.get(r.record.id);
    if (prev) {
      // The same record twice in one batch is one record; the same id with other content is refused.
      if (prev.key !== key) add({ ...at("id"), id: r.record.id, code: "MOVEMENTS__DUPLICATE_ID", message: `Record id repeated with different content (first at ${p.format === "json" ? "record" : "row"} ${prev.at})` });
      return;
    }
    seen.set(r.record.id, { at: pos, key });
    records.push(r.record);
    rows.push(pos);
  };

  if (p.format === "json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail({ code: "MOVEMENTS__INVALID_JSON", message: "Body is not JSON" });
    }
    if (!Array.isArray(value)) return fail({ code: "MOVEMENTS__INVALID_JSON", message: "Body must be a JSON array of records" });
    if (value.length === 0) return fail({ code: "MOVEMENTS__EMPTY_FILE", message: "No records" });
    value.forEach((item, index) => {
      const raw = readObject(item, (x) => add({ index, ...x }));
      if (raw) accept(raw, (f) => ({ index, field: f }), index);
    });
  } else {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const lines = text.split("\n");
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop(); // a final newline ends the last line
    let header: Map<MovementField, number> | undefined;
    let width = 0;
    let dataRows = 0;
    for (let i = 0; i < lines.length; i++) {
      const row = i + 1;
      let line = lines[i]!;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (p.format === "csv" && header === undefined) {
        const h = parseHeader(line, row);
        if ("problem" in h) return fail(h.problem);
        header = h.index;
        width = h.width;
        continue;
      }
      if (line.length === 0) {
        add({ row, code: "MOVEMENTS__BLANK_LINE", message: "Blank line" });
        continue;
      }
      dataRows++;
      if (p.format === "ndjson") {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          add({ row, code: NON_DATA_LINE.test(line) ? "MOVEMENTS__NON_DATA_ROW" : "MOVEMENTS__INVALID_JSON", message: NON_DATA_LINE.test(line) ? "Non-data row (total, subtotal or comment line)" : "Invalid JSON object" });
          continue;
        }
        if (duplicateKey(line)) {
          add({ row, code: "MOVEMENTS__DUPLICATE_COLUMN", message: "A field appears twice in the object" });
          continue;
        }
        const keys = typeof value === "object" && value !== null ? Object.keys(value) : [];
        const raw = readObject(value, (x) => add({ row, ...x }), keys);
        if (raw) accept(raw, (f) => ({ row, column: keys.indexOf(f) + 1 || undefined, field: f }), row);
        continue;
      }
      const fields = splitCsv(line);
      if (fields === "stray") {
        add({ row, code: "MOVEMENTS__STRAY_QUOTE", message: "Quote character inside an unquoted field" });
        continue;
      }
      if (fields === null) {
        add({ row, code: i === lines.length - 1 ? "MOVEMENTS__UNTERMINATED_QUOTE" : "MOVEMENTS__CONTROL_CHARACTER", message: i === lines.length - 1 ? "Unterminated quoted field" : "Line break inside a quoted field" });
        continue;
      }
      if (fields.length !== width) {
        if (fields.length < width && NON_DATA_LINE.test(fields[0] ?? "")) add({ row, column: 1, code: "MOVEMENTS__NON_DATA_ROW", message: "Non-data row (total, subtotal or comment line)" });
        else add({ row, column: Math.min(fields.length, width) + 1, code: "MOVEMENTS__RAGGED_ROW", message: `Row has ${fields.length} fields instead of ${width}` });
        continue;
      }
      const h = header!;
      const raw = Object.fromEntries(MOVEMENT_FIELDS.map((f) => [f, emptyToNull(fields[h.get(f)!]!)])) as Record<MovementField, string | null>;
      accept(raw, (f) => ({ row, column: h.get(f)! + 1, field: f }), row);
    }
    if (p.format === "csv" && header === undefined) return fail({ row: 1, code: "MOVEMENTS__EMPTY_FILE", message: "No header and no records" });
    if (dataRows === 0 && problems.length === 0) return fail({ row: lines.length + 1, code: "MOVEMENTS__EMPTY_FILE", message: "No records" });
  }
  if (problems.length) return { problems, truncated };
  return { records, rows };
}

/** Canonical content of a record, for idempotency (same id, same content: one record). */
export function contentKey(r: MovementRecord): string {
  return JSON.stringify([r.id, r.kind, r.chain, r.asset, r.amount.toString(), r.counterparty, r.txid, r.timeMs]);
}

function emptyToNull(v: string): string | null {
  return v === "" ? null : v;
}

function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** An NDJSON/JSON record object's fields as strings (null: absent, null or ""); problems for anything else. */
function readObject(value: unknown, problem: (x: Omit<MovementRecordProblem, "row" | "index">) => void, keys?: string[]): Record<MovementField, string | null> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problem({ code: "MOVEMENTS__INVALID_JSON", message: "Record is not a JSON object" });
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  let ok = true;
  const names = keys ?? Object.keys(obj);
  names.forEach((k, i) => {
    if (!(MOVEMENT_FIELDS as readonly string[]).includes(k)) {
      problem({ column: keys ? i + 1 : undefined, field: k.slice(0, 64), code: "MOVEMENTS__UNKNOWN_COLUMN", message: `Unknown field (expected ${MOVEMENT_FIELDS.join(", ")})` });
      ok = false;
    }
  });
  const out: Partial<Record<MovementField, string | null>> = {};
  for (const f of MOVEMENT_FIELDS) {
    const v = obj[f];
    const optional = f === "counterparty" || f === "txid";
    if (v === undefined && !optional) {
      problem({ field: f, code: "MOVEMENTS__MISSING_COLUMN", message: `Missing field "${f}"` });
      ok = false;
    } else if (v === undefined || v === null) out[f] = null;
    else if (typeof v !== "string") {
      // Amounts as JSON numbers lose digits above 2^53 before anyone sees them: strings only.
      problem({ field: f, code: "MOVEMENTS__FIELD_NOT_STRING", message: "Field is not a JSON string" });
      ok = false;
    } else out[f] = emptyToNull(v);
  }
  return ok ? (out as Record<MovementField, string | null>) : undefined;
}

function duplicateKey(line: string): boolean {
  for (const f of MOVEMENT_FIELDS) {
    const n = line.match(new RegExp(`"${f}"\\s*:`, "g"))?.length ?? 0;
    if (n > 1) return true;
  }
  return false;
}

function parseHeader(line: string, row: number): { index: Map<MovementField, number>; width: number } | { problem: MovementRecordProblem } {
  if (line.length === 0) return { problem: { row, code: "MOVEMENTS__EMPTY_FILE", message: "No header" } };
  const names = splitCsv(line);
  if (names === null || names === "stray") return { problem: { row, code: "MOVEMENTS__STRAY_QUOTE", message: "Malformed quoting in the header" } };
  if (names.length === 1) {
    for (const d of [";", "\t", "|"]) if (names[0]!.includes(d)) return { problem: { row, column: 1, code: "MOVEMENTS__WRONG_DELIMITER", message: `Delimiter ${JSON.stringify(d)} instead of ","` } };
  }
  const index = new Map<MovementField, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!(MOVEMENT_FIELDS as readonly string[]).includes(name)) {
      return { problem: { row, column: i + 1, code: "MOVEMENTS__UNKNOWN_COLUMN", message: `Unknown column (expected exactly ${MOVEMENT_FIELDS.join(", ")}; amounts in display units)` } };
    }
    if (index.has(name as MovementField)) return { problem: { row, column: i + 1, field: name, code: "MOVEMENTS__DUPLICATE_COLUMN", message: "Duplicate column" } };
    index.set(name as MovementField, i);
  }
  for (const f of MOVEMENT_FIELDS) if (!index.has(f)) return { problem: { row, field: f, code: "MOVEMENTS__MISSING_COLUMN", message: `Header lacks column "${f}"` } };
  return { index, width: names.length };
}

/** RFC 4180 split of one line (splitCsvLine); null when a quote is left open, "stray" for a misplaced quote. */
function splitCsv(line: string): string[] | null | "stray" {
  const r = splitCsvLine(line);
  return r === null || Array.isArray(r) ? r : "stray";
}
