import { BackstopError, type ErrorCode } from "../../lib/errors.js";

/**
 * One problem of one record: where it is (`row`: the file's 1-based physical line, header = 1; or
 * `index`: the 0-based position in an HTTP batch), the column or field, a stable code and a message.
 * Messages name fields and positions, never amounts or counterparties (logs are not for customer data).
 */
export type MovementRecordProblem = { row?: number; index?: number; column?: number; field?: string; id?: string; code: ErrorCode; message: string };

/** Most problems listed in an error's message lines (all of them stay on `problems`). */
const LISTED = 50;

function where(p: MovementRecordProblem): string {
  const at = p.row !== undefined ? `row ${p.row}` : p.index !== undefined ? `record ${p.index}` : "file";
  const col = p.column !== undefined ? `, column ${p.column}${p.field ? ` (${p.field})` : ""}` : p.field ? `, field ${p.field}` : "";
  return `${at}${col}`;
}

/** Formats a problem as one line: `row 3, column 5 (amount): Negative amount [MOVEMENTS__NEGATIVE_AMOUNT]`. */
export function formatMovementProblem(p: MovementRecordProblem): string {
  return `${where(p)}: ${p.message} [${p.code}]`;
}

/** A file or batch of movement records was refused, all of it: nothing was written. `problems` names every bad record. */
export class MovementRecordsInvalidError extends BackstopError {
  override name = "MovementRecordsInvalidError";
  readonly problems: readonly MovementRecordProblem[];
  constructor(p: { source: string; problems: readonly MovementRecordProblem[]; truncated?: boolean }) {
    const lines = p.problems.slice(0, LISTED).map((x) => `  ${formatMovementProblem(x)}`);
    if (p.problems.length > LISTED || p.truncated) lines.push(`  ... ${p.truncated ? "and more" : `${p.problems.length - LISTED} more`}`);
    super("MOVEMENTS__INVALID_RECORDS", `${p.source}: ${p.problems.length}${p.truncated ? "+" : ""} problem(s) in movement records; nothing was written.`, { meta: lines });
    this.problems = p.problems;
  }
}

/** The movements file cannot be read (missing, a directory, unreadable). */
export class MovementFileReadError extends BackstopError {
  override name = "MovementFileReadError";
  constructor(p: { path: string; cause: unknown }) {
    super("MOVEMENTS__READ_FAILED", `Could not read the movements file ${p.path}.`, { cause: p.cause });
  }
}
